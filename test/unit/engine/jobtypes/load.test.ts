import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, symlink, truncate } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { classifyDestinationError } from '../../../../engine/jobtypes/fileCopy.ts';
import { TaskRunError } from '../../../../engine/jobtypes/jobType.ts';
import { loadJobType, type LoadSpec } from '../../../../engine/jobtypes/load.ts';
import { FIVE_FILES, MIB, listTree, makeRoots, pattern, planAndRun, planCtx, runCtx, verifyCtx, writeTree, type TempRoots } from './fileJobs.fixture.ts';


describe('load', () => {
  let r: TempRoots;
  beforeEach(async () => {
    r = await makeRoots();
  });
  afterEach(() => r.cleanup());

  const five = FIVE_FILES;

  it('copies every file in batches of batchSize, with identical content, and verifies', async () => {
    await writeTree(r.dataDir, five);
    const spec: LoadSpec = { path: 'ds', batchSize: 2 };
    const { tasks, results } = await planAndRun(loadJobType, spec, r);
    assert.deepEqual(tasks.map((t) => [t.taskId, t.items]), [['t00000', 2], ['t00001', 2], ['t00002', 1]]);
    for (const [rel, content] of Object.entries(five)) {
      assert.deepEqual(await readFile(path.join(r.cacheDir, rel)), Buffer.from(content), rel);
    }
    assert.deepEqual(await listTree(r.cacheDir), ['ds', 'ds/a.txt', 'ds/b.txt', 'ds/e.bin', 'ds/sub', 'ds/sub/c.txt', 'ds/sub/d.txt'], 'no temp files left');
    const bytes = 5 + 6 + 1 + 0 + 5000;
    assert.equal(results.reduce((n, x) => n + x.itemsDone, 0), 5);
    assert.equal(results.reduce((n, x) => n + x.bytesDone, 0), bytes);
    assert.deepEqual(await loadJobType.verify(spec, verifyCtx(r, tasks, results)), { ok: true, summary: { files: 5, bytes, verified: true } });
  });

  it('plans the same tasks twice (deterministic) and loads a single file', async () => {
    await writeTree(r.dataDir, five);
    assert.deepEqual(await loadJobType.plan({ path: 'ds' }, planCtx(r)), await loadJobType.plan({ path: 'ds' }, planCtx(r)));
    const { tasks } = await planAndRun(loadJobType, { path: 'ds/b.txt' }, r);
    assert.deepEqual(tasks[0]?.payload, { files: [{ rel: 'ds/b.txt', offset: 0, length: 6, size: 6 }] });
    assert.equal(await readFile(path.join(r.cacheDir, 'ds/b.txt'), 'utf8'), 'bravo!');
  });

  it('splits a 3 MiB file into three 1 MiB parts that reassemble to the same bytes, in any order', async () => {
    const big = pattern(3 * MIB);
    await writeTree(r.dataDir, { 'big.bin': big, 'small.txt': 's' });
    const spec: LoadSpec = { path: '', partitionSizeBytes: MIB };
    const tasks = await loadJobType.plan(spec, planCtx(r));
    assert.deepEqual(tasks.map((t) => [t.items, t.bytes]), [[1, MIB], [0, MIB], [0, MIB], [1, 1]]);
    // Parts of one file run concurrently (as on several workers), last part first.
    const results = await Promise.all([...tasks].reverse().map((t) => loadJobType.run(spec, t.payload, runCtx(r, { taskId: t.taskId }))));
    assert.ok((await readFile(path.join(r.cacheDir, 'big.bin'))).equals(big));
    assert.deepEqual(await loadJobType.verify(spec, verifyCtx(r, tasks, results)), { ok: true, summary: { files: 2, bytes: 3 * MIB + 1, verified: true } });
  });

  it('verify reports a truncated cached file as VERIFY_MISMATCH (unless verify is false)', async () => {
    await writeTree(r.dataDir, five);
    const { tasks, results } = await planAndRun(loadJobType, { path: 'ds' }, r);
    await truncate(path.join(r.cacheDir, 'ds/e.bin'), 10);
    await rm(path.join(r.cacheDir, 'ds/a.txt'));
    const outcome = await loadJobType.verify({ path: 'ds' }, verifyCtx(r, tasks, results));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.code, 'VERIFY_MISMATCH');
      assert.match(outcome.message, /^2 of 5 files/);
      assert.match(outcome.message, /ds\/a\.txt: missing/);
      assert.match(outcome.message, /ds\/e\.bin: expected 5000 bytes, found 10/);
    }
    const unchecked = await loadJobType.verify({ path: 'ds', verify: false }, verifyCtx(r, tasks, results));
    assert.deepEqual(unchecked, { ok: true, summary: { files: 5, bytes: 5012, verified: false } });
  });

  it('reports a source file missing at run time as an item failure, and verify skips it', async () => {
    await writeTree(r.dataDir, five);
    const spec: LoadSpec = { path: 'ds' };
    const [task] = await loadJobType.plan(spec, planCtx(r));
    await rm(path.join(r.dataDir, 'ds/b.txt'));
    const result = await loadJobType.run(spec, task?.payload, runCtx(r));
    assert.equal(result.itemsDone, 4);
    assert.equal(result.itemsFailed, 1);
    assert.deepEqual(result.failures, [{ item: 'ds/b.txt', error: 'source: ENOENT' }]);
    assert.deepEqual(await loadJobType.verify(spec, verifyCtx(r, task ? [task] : [], [result])), {
      ok: true,
      summary: { files: 4, bytes: 5006, verified: true },
    });
  });

  it('fails verification of a split file when one of its parts failed', async () => {
    await writeTree(r.dataDir, { 'big.bin': pattern(2 * MIB + 10) });
    const spec: LoadSpec = { path: 'big.bin', partitionSizeBytes: MIB };
    const tasks = await loadJobType.plan(spec, planCtx(r));
    const first = await loadJobType.run(spec, tasks[0]?.payload, runCtx(r));
    await rm(path.join(r.dataDir, 'big.bin'));
    const second = await loadJobType.run(spec, tasks[1]?.payload, runCtx(r));
    assert.deepEqual([first.itemsDone, second.itemsDone, second.itemsFailed], [1, 0, 0], 'only the first part carries the item');
    assert.equal(second.failures[0]?.item, 'big.bin');
    const outcome = await loadJobType.verify(spec, verifyCtx(r, tasks.slice(0, 2), [first, second]));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.message, /big\.bin: a part failed/);
  });

  it('throws ABORTED (not retryable) when the signal fires, leaving no temp file', async () => {
    await writeTree(r.dataDir, five);
    const spec: LoadSpec = { path: 'ds' };
    const [task] = await loadJobType.plan(spec, planCtx(r));
    const before = new AbortController();
    before.abort();
    await assert.rejects(loadJobType.run(spec, task?.payload, runCtx(r, { signal: before.signal })), isAborted);

    const during = new AbortController();
    let beats = 0;
    const heartbeat = () => {
      if (++beats === 2) during.abort(); // after the first file
    };
    await assert.rejects(loadJobType.run(spec, task?.payload, runCtx(r, { signal: during.signal, heartbeat })), isAborted);
    assert.deepEqual(await listTree(r.cacheDir), ['ds', 'ds/a.txt']);
  });

  it('plans around symlinks that leave dataDir and rejects a missing path', async () => {
    await writeTree(r.dataDir, { 'ds/a.txt': 'a' });
    await writeTree(r.outside, { 'secret.txt': 'secret' });
    await symlink(path.join(r.outside, 'secret.txt'), path.join(r.dataDir, 'ds/leak.txt'));
    const tasks = await loadJobType.plan({ path: 'ds' }, planCtx(r));
    assert.deepEqual(tasks.map((t) => t.payload), [{ files: [{ rel: 'ds/a.txt', offset: 0, length: 1, size: 1 }] }]);
    await assert.rejects(loadJobType.plan({ path: 'nope' }, planCtx(r)), (e) => isAppError(e, 'INVALID_SPEC'));
    assert.throws(() => loadJobType.checkSpec?.({ path: 'ds/leak.txt' }, r), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
  });

  it('treats cache errors that may pass (ENOSPC, EACCES) as retryable, per-file ones as item failures', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    for (const code of ['ENOSPC', 'EACCES', 'EIO']) {
      const e = classifyDestinationError(errno(code));
      assert.ok(e instanceof TaskRunError && e.code === 'IO_ERROR' && e.retryable, code);
    }
    for (const code of ['ENOTDIR', 'EISDIR']) assert.ok(!(classifyDestinationError(errno(code)) instanceof TaskRunError), code);
  });

  it('never writes through a cache directory that leads out of the cache; the failure names only the user path', async () => {
    await writeTree(r.dataDir, { 'ds/a.txt': 'a', 'ds/sub/b.txt': 'b' });
    await symlink(r.outside, path.join(r.cacheDir, 'ds'));
    const { results } = await planAndRun(loadJobType, { path: 'ds' }, r);
    assert.deepEqual(results[0]?.itemsFailed, 2);
    for (const f of results[0]?.failures ?? []) {
      assert.match(f.error, /^destination: path "ds(\/sub)?" leaves its root through a symlink$/);
    }
    assert.deepEqual(await listTree(r.outside), [], 'nothing created outside');
  });

  it('replaces a symlink standing at a cached file (whole file), and refuses to write a range through one', async () => {
    await writeTree(r.dataDir, { 'whole.txt': 'w', 'big.bin': pattern(MIB + 1) });
    await writeTree(r.outside, { 'target.txt': 'untouched' });
    await symlink(path.join(r.outside, 'target.txt'), path.join(r.cacheDir, 'whole.txt'));
    await symlink(path.join(r.outside, 'target.txt'), path.join(r.cacheDir, 'big.bin'));
    const spec: LoadSpec = { path: '', partitionSizeBytes: MIB };
    const tasks = await loadJobType.plan(spec, planCtx(r));
    const results = await Promise.all(tasks.map((t) => loadJobType.run(spec, t.payload, runCtx(r))));
    assert.equal(await readFile(path.join(r.cacheDir, 'whole.txt'), 'utf8'), 'w');
    assert.deepEqual([...new Set(results.flatMap((x) => x.failures.map((f) => `${f.item}: ${f.error.replace(/ \(bytes .*/, '')}`)))], ['big.bin: destination: ELOOP']);
    assert.equal(await readFile(path.join(r.outside, 'target.txt'), 'utf8'), 'untouched');
  });

  it('reports an unusable destination (a file where a directory should be) as an item failure', async () => {
    await writeTree(r.dataDir, { 'ds/sub/x.txt': 'x', 'ds/y.txt': 'y' });
    await writeTree(r.cacheDir, { 'ds/sub': 'not a directory' });
    const { results } = await planAndRun(loadJobType, { path: 'ds' }, r);
    assert.deepEqual([results[0]?.itemsDone, results[0]?.itemsFailed, results[0]?.failures[0]?.item], [1, 1, 'ds/sub/x.txt']);
  });
});

function isAborted(e: unknown): boolean {
  return e instanceof TaskRunError && e.code === 'ABORTED' && !e.retryable;
}
