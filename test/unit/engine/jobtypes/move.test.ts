import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { CopySpec } from '../../../../engine/jobtypes/copy.ts';
import { moveJobType } from '../../../../engine/jobtypes/move.ts';
import { listTree, makeRoots, planAndRun, verifyCtx, writeTree, type TempRoots } from './fileJobs.fixture.ts';

describe('move', () => {
  let r: TempRoots;
  const tree = { 'src/a.txt': 'alpha', 'src/sub/b.txt': 'bravo', 'src/sub/deeper/c.txt': 'c' };
  beforeEach(async () => {
    r = await makeRoots();
    await writeTree(r.dataDir, tree);
  });
  afterEach(() => r.cleanup());

  const spec: CopySpec = { src: 'src', dst: 'moved' };
  const allSources = ['src', 'src/a.txt', 'src/sub', 'src/sub/b.txt', 'src/sub/deeper', 'src/sub/deeper/c.txt'];

  it('copies while running and deletes the sources (and emptied dirs) only in verify', async () => {
    const { tasks, results } = await planAndRun(moveJobType, spec, r);
    assert.deepEqual(await listTree(r.dataDir), [...new Set([...allSources, 'moved', 'moved/a.txt', 'moved/sub', 'moved/sub/b.txt', 'moved/sub/deeper', 'moved/sub/deeper/c.txt'])].sort(), 'sources intact before verify');
    const outcome = await moveJobType.verify(spec, verifyCtx(r, tasks, results));
    assert.deepEqual(outcome, { ok: true, summary: { files: 3, bytes: 11, sourcesDeleted: 3 } });
    assert.deepEqual(await listTree(r.dataDir), ['moved', 'moved/a.txt', 'moved/sub', 'moved/sub/b.txt', 'moved/sub/deeper', 'moved/sub/deeper/c.txt']);
    assert.equal(await readFile(path.join(r.dataDir, 'moved/sub/b.txt'), 'utf8'), 'bravo');
    // a re-run of verification (e.g. after a coordinator crash) is harmless
    assert.equal((await moveJobType.verify(spec, verifyCtx(r, tasks, results))).ok, true);
  });

  it('keeps every source when verification fails', async () => {
    const { tasks, results } = await planAndRun(moveJobType, spec, r);
    await truncate(path.join(r.dataDir, 'moved/a.txt'), 1);
    await rm(path.join(r.dataDir, 'moved/sub/b.txt'));
    const outcome = await moveJobType.verify(spec, verifyCtx(r, tasks, results));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.code, 'VERIFY_MISMATCH');
      assert.match(outcome.message, /no source file was deleted/);
    }
    for (const rel of Object.keys(tree)) await readFile(path.join(r.dataDir, rel));
  });

  it('keeps the source of a file that failed (destination exists, overwrite false)', async () => {
    await writeTree(r.dataDir, { 'moved/sub/b.txt': 'other' });
    const noClobber: CopySpec = { ...spec, overwrite: false };
    const { tasks, results } = await planAndRun(moveJobType, noClobber, r);
    const outcome = await moveJobType.verify(noClobber, verifyCtx(r, tasks, results));
    assert.deepEqual(outcome, { ok: true, summary: { files: 2, bytes: 6, sourcesDeleted: 2 } });
    assert.deepEqual(await listTree(path.join(r.dataDir, 'src')), ['sub', 'sub/b.txt']);
    assert.equal(await readFile(path.join(r.dataDir, 'moved/sub/b.txt'), 'utf8'), 'other');
  });

  it('moves a single file', async () => {
    const one: CopySpec = { src: 'src/a.txt', dst: 'elsewhere/a.txt' };
    const { tasks, results } = await planAndRun(moveJobType, one, r);
    assert.equal((await moveJobType.verify(one, verifyCtx(r, tasks, results))).ok, true);
    assert.deepEqual(await listTree(r.dataDir), ['elsewhere', 'elsewhere/a.txt', 'src', 'src/sub', 'src/sub/b.txt', 'src/sub/deeper', 'src/sub/deeper/c.txt']);
  });
});
