import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { freeJobType } from '../../../../engine/jobtypes/free.ts';
import { listTree, makeRoots, planAndRun, verifyCtx, writeTree, type TempRoots } from './fileJobs.fixture.ts';

describe('free', () => {
  let r: TempRoots;
  beforeEach(async () => {
    r = await makeRoots();
    await writeTree(r.cacheDir, { 'ds/a.txt': 'aaa', 'ds/sub/b.txt': 'bb', 'keep/c.txt': 'c' });
  });
  afterEach(() => r.cleanup());

  it('removes the path recursively in one task, reports what it evicted, and verifies', async () => {
    const { tasks, results } = await planAndRun(freeJobType, { path: 'ds' }, r);
    assert.deepEqual(tasks.map((t) => [t.taskId, t.items, t.bytes]), [['t00000', 2, 5]]);
    assert.deepEqual(results, [{ itemsDone: 2, itemsFailed: 0, bytesDone: 5, failures: [] }]);
    assert.deepEqual(await listTree(r.cacheDir), ['keep', 'keep/c.txt']);
    assert.deepEqual(await freeJobType.verify({ path: 'ds' }, verifyCtx(r, tasks, results)), { ok: true, summary: { files: 2, bytes: 5 } });
  });

  it('frees a single file, and a path that is not cached is a no-op', async () => {
    await planAndRun(freeJobType, { path: 'ds/a.txt' }, r);
    const { tasks } = await planAndRun(freeJobType, { path: 'never/cached' }, r);
    assert.deepEqual(tasks.map((t) => t.items), [0]);
    assert.deepEqual(await listTree(r.cacheDir), ['ds', 'ds/sub', 'ds/sub/b.txt', 'keep', 'keep/c.txt']);
  });

  it('verify fails while the path still exists', async () => {
    const tasks = await freeJobType.plan({ path: 'ds' }, { jobId: 'j1', roots: r, signal: new AbortController().signal });
    const outcome = await freeJobType.verify({ path: 'ds' }, verifyCtx(r, tasks, []));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.code, 'VERIFY_MISMATCH');
  });

  it('never frees the cache root itself, nor anything outside it', () => {
    for (const p of ['', '.', 'ds/..', r.cacheDir]) {
      assert.throws(() => freeJobType.checkSpec?.({ path: p }, r), (e) => isAppError(e, 'INVALID_SPEC'), JSON.stringify(p));
    }
    for (const p of ['..', '../data', r.dataDir]) {
      assert.throws(() => freeJobType.checkSpec?.({ path: p }, r), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'), p);
    }
  });

  it('removes a symlink inside the cache, not what it points to', async () => {
    await writeTree(r.cacheDir, { 'ds/target.txt': 't' });
    await symlink(path.join(r.cacheDir, 'ds/target.txt'), path.join(r.cacheDir, 'link'));
    await planAndRun(freeJobType, { path: 'link' }, r);
    assert.equal(await readFile(path.join(r.cacheDir, 'ds/target.txt'), 'utf8'), 't');
    assert.ok(!(await listTree(r.cacheDir)).includes('link'));
  });
});
