import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { TaskRunError } from '../../../../engine/jobtypes/jobType.ts';
import { parseFileBatchPayload, planFileBatches, plannedFiles, type SourceFile } from '../../../../engine/jobtypes/fileBatches.ts';
import { listFiles } from '../../../../engine/jobtypes/listFiles.ts';
import { makeRoots, writeTree, type TempRoots } from './fileJobs.fixture.ts';

const signal = new AbortController().signal;

describe('planFileBatches', () => {
  const files = (sizes: number[]): SourceFile[] => sizes.map((size, i) => ({ rel: `f${i}`, size }));

  it('groups whole files into tasks of batchSize with deterministic ids', () => {
    const tasks = planFileBatches(files([1, 2, 3, 4, 5]), { batchSize: 2, partitionSizeBytes: 100 });
    assert.deepEqual(tasks.map((t) => [t.taskId, t.items, t.bytes]), [['t00000', 2, 3], ['t00001', 2, 7], ['t00002', 1, 5]]);
    assert.deepEqual(tasks[0]?.payload, { files: [{ rel: 'f0', offset: 0, length: 1, size: 1 }, { rel: 'f1', offset: 0, length: 2, size: 2 }] });
  });

  it('splits a large file into ranges; only the first part counts as an item', () => {
    const tasks = planFileBatches(files([1, 250, 2]), { batchSize: 10, partitionSizeBytes: 100 });
    assert.deepEqual(tasks.map((t) => [t.items, t.bytes]), [[1, 1], [1, 100], [0, 100], [0, 50], [1, 2]]);
    assert.deepEqual(tasks[3]?.payload, { files: [{ rel: 'f1', offset: 200, length: 50, size: 250 }] });
    assert.equal(tasks.reduce((n, t) => n + t.items, 0), 3, 'itemsTotal is the number of files');
    assert.equal(tasks.reduce((n, t) => n + t.bytes, 0), 253);
  });

  it('does not split a file of exactly partitionSizeBytes, and plans nothing for no files', () => {
    assert.equal(planFileBatches(files([100]), { batchSize: 10, partitionSizeBytes: 100 }).length, 1);
    assert.deepEqual(planFileBatches([], { batchSize: 10, partitionSizeBytes: 100 }), []);
  });

  it('closes a task of whole files before it would carry more than partitionSizeBytes', () => {
    const tasks = planFileBatches(files([60, 40, 1, 100, 30, 30, 30, 250, 5]), { batchSize: 10, partitionSizeBytes: 100 });
    assert.deepEqual(tasks.map((t) => [t.items, t.bytes]), [[2, 100], [1, 1], [1, 100], [3, 90], [1, 100], [0, 100], [0, 50], [1, 5]]);
    assert.equal(tasks.reduce((n, t) => n + t.items, 0), 9);
    // copy and move never split (partitionSizeBytes Infinity): only batchSize closes a task
    assert.equal(planFileBatches(files([60, 40, 1, 100]), { batchSize: 10, partitionSizeBytes: Number.POSITIVE_INFINITY }).length, 1);
  });

  it('plannedFiles lists each file once with its size and whether it was split', () => {
    const tasks = planFileBatches(files([1, 250]), { batchSize: 10, partitionSizeBytes: 100 });
    assert.deepEqual(plannedFiles(tasks), [
      { rel: 'f0', size: 1, partitioned: false },
      { rel: 'f1', size: 250, partitioned: true },
    ]);
  });
});

describe('parseFileBatchPayload', () => {
  const bad = (payload: unknown) =>
    assert.throws(() => parseFileBatchPayload(payload), (e) => e instanceof TaskRunError && e.code === 'BAD_PAYLOAD' && !e.retryable);

  it('accepts a well-formed payload', () => {
    const files = [{ rel: 'a/b', offset: 0, length: 3, size: 3 }];
    assert.deepEqual(parseFileBatchPayload({ files }), files);
  });

  it('rejects malformed payloads and climbing rels', () => {
    bad(null);
    bad({ files: 'x' });
    bad({ files: [{ rel: '../x', offset: 0, length: 1, size: 1 }] });
    bad({ files: [{ rel: '/etc/passwd', offset: 0, length: 1, size: 1 }] });
    bad({ files: [{ rel: 'a//b', offset: 0, length: 1, size: 1 }] });
    bad({ files: [{ rel: 'a', offset: 1, length: 1, size: 1 }] });
    bad({ files: [{ rel: 'a', offset: -1, length: 1, size: 1 }] });
  });
});

describe('listFiles', () => {
  let r: TempRoots;
  before(async () => {
    r = await makeRoots();
    await writeTree(r.dataDir, { 'd/b.txt': 'bb', 'd/a.txt': 'a', 'd/sub/c.txt': 'ccc', 'd/a-b': '', 'top.txt': 'top' });
    await writeTree(r.outside, { 'secret.txt': 'secret' });
    await symlink(path.join(r.outside, 'secret.txt'), path.join(r.dataDir, 'd/escape.txt'));
    await symlink(r.outside, path.join(r.dataDir, 'd/escape-dir'));
    await symlink(path.join(r.dataDir, 'top.txt'), path.join(r.dataDir, 'd/inside.txt'));
    await symlink(path.join(r.dataDir, 'd'), path.join(r.dataDir, 'd/sub/loop'));
    await mkdir(path.join(r.dataDir, 'd/empty'));
    execFileSync('mkfifo', [path.join(r.dataDir, 'd/fifo')]); // reading a FIFO would block the walk
  });
  after(() => r.cleanup());

  it('walks sorted, follows file links inside the root, skips escapes, dir links and special files', async () => {
    const files = await listFiles(r.dataDir, path.join(r.dataDir, 'd'), r.dataDir, signal);
    assert.deepEqual(files, [
      { rel: 'd/a-b', size: 0 },
      { rel: 'd/a.txt', size: 1 },
      { rel: 'd/b.txt', size: 2 },
      { rel: 'd/inside.txt', size: 3 },
      { rel: 'd/sub/c.txt', size: 3 },
    ]);
  });

  it('gives rels relative to the base, and "" for a single file that is its own base', async () => {
    const d = path.join(r.dataDir, 'd');
    assert.deepEqual((await listFiles(r.dataDir, d, d, signal)).map((f) => f.rel), ['a-b', 'a.txt', 'b.txt', 'inside.txt', 'sub/c.txt']);
    const top = path.join(r.dataDir, 'top.txt');
    assert.deepEqual(await listFiles(r.dataDir, top, top, signal), [{ rel: '', size: 3 }]);
  });

  it('fails planning with INVALID_SPEC when the path does not exist', async () => {
    await assert.rejects(listFiles(r.dataDir, path.join(r.dataDir, 'nope'), r.dataDir, signal), (e) => isAppError(e, 'INVALID_SPEC'));
  });
});
