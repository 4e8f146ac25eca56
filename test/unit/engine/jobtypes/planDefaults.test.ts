/** The planning coordinator's defaults (`defaultBatchSize`, `defaultPartitionSizeBytes`) where a spec says nothing. */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyJobType } from '../../../../engine/jobtypes/copy.ts';
import { MIB } from '../../../../engine/jobtypes/fileBatches.ts';
import type { PlanDefaults } from '../../../../engine/jobtypes/jobType.ts';
import { loadJobType } from '../../../../engine/jobtypes/load.ts';
import { moveJobType } from '../../../../engine/jobtypes/move.ts';
import { makeRoots, pattern, writeTree, type TempRoots } from './fileJobs.fixture.ts';

describe('plan defaults', () => {
  let r: TempRoots;
  beforeEach(async () => {
    r = await makeRoots();
    await writeTree(r.dataDir, { 'ds/a': 'a', 'ds/b': 'b', 'ds/c': 'c', 'ds/big': pattern(3 * MIB) });
  });
  afterEach(() => r.cleanup());
  const ctx = (defaults?: PlanDefaults) => ({ jobId: 'j1', roots: r, signal: new AbortController().signal, ...(defaults ? { defaults } : {}) });

  it('load: batchSize and partitionSizeBytes from the defaults when the spec has none', async () => {
    const tasks = await loadJobType.plan({ path: 'ds' }, ctx({ batchSize: 2, partitionSizeBytes: MIB }));
    // a, b | big in 3 parts of 1 MiB, a task each | c
    assert.deepEqual(tasks.map((t) => t.items), [2, 1, 0, 0, 1]);
    assert.equal(tasks.reduce((n, t) => n + t.items, 0), 4);
  });

  it('load: the spec wins over the defaults; no defaults, the built-in ones (200, 256 MiB)', async () => {
    const fromSpec = await loadJobType.plan({ path: 'ds', batchSize: 10, partitionSizeBytes: 2 * MIB }, ctx({ batchSize: 1, partitionSizeBytes: MIB }));
    assert.deepEqual(fromSpec.map((t) => t.items), [2, 1, 0, 1], 'a, b | big in 2 parts | c');
    assert.equal((await loadJobType.plan({ path: 'ds' }, ctx())).length, 1);
  });

  it('copy and move: batchSize from the defaults when the spec has none', async () => {
    for (const type of [copyJobType, moveJobType]) {
      assert.equal((await type.plan({ src: 'ds', dst: 'out' }, ctx({ batchSize: 1, partitionSizeBytes: MIB }))).length, 4, type.name);
      assert.equal((await type.plan({ src: 'ds', dst: 'out', batchSize: 4 }, ctx({ batchSize: 1, partitionSizeBytes: MIB }))).length, 1, type.name);
    }
  });
});
