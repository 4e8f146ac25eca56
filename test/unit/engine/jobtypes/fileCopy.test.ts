/**
 * fileCopy.ts's two data paths (small files synchronously, large files and ranges through two
 * buffers asynchronously) and its descriptor hygiene; the file job types' tests cover the rest.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { appendFile, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { SYNC_COPY_MAX_BYTES } from '../../../../engine/jobtypes/fileCopy.ts';
import { TaskRunError } from '../../../../engine/jobtypes/jobType.ts';
import { loadJobType, type LoadSpec } from '../../../../engine/jobtypes/load.ts';
import { MIB, listTree, makeRoots, pattern, planAndRun, planCtx, runCtx, verifyCtx, writeTree, type TempRoots } from './fileJobs.fixture.ts';

/** What the descriptors of this process lead to now (not counting the listing's own). */
function openFds(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (!target.startsWith('/proc/')) out.push(`${fd} -> ${target}`);
    } catch {
      // the listing's own descriptor, closed by now
    }
  }
  return out.sort();
}

describe('fileCopy data paths', () => {
  let r: TempRoots;
  beforeEach(async () => {
    r = await makeRoots();
  });
  afterEach(() => r.cleanup());

  it('copies files on both sides of SYNC_COPY_MAX_BYTES byte for byte, the large one in several chunks with a short last one', async () => {
    const files = {
      'ds/empty': Buffer.alloc(0),
      'ds/at-limit': pattern(SYNC_COPY_MAX_BYTES, 1),
      'ds/past-limit': pattern(SYNC_COPY_MAX_BYTES + 1, 2),
      'ds/large': pattern(2 * MIB + MIB / 2 + 7, 3),
    };
    await writeTree(r.dataDir, files);
    const spec: LoadSpec = { path: 'ds' };
    const { tasks, results } = await planAndRun(loadJobType, spec, r);
    for (const [rel, content] of Object.entries(files)) assert.ok((await readFile(path.join(r.cacheDir, rel))).equals(content), rel);
    assert.deepEqual(await listTree(r.cacheDir), ['ds', 'ds/at-limit', 'ds/empty', 'ds/large', 'ds/past-limit'], 'no temp files left');
    const outcome = await loadJobType.verify(spec, verifyCtx(r, tasks, results));
    assert.equal(outcome.ok, true);
  });

  it('reassembles ranges that span several chunks, run concurrently in reverse order', async () => {
    const big = pattern(5 * MIB + 3, 4);
    await writeTree(r.dataDir, { 'big.bin': big });
    const spec: LoadSpec = { path: 'big.bin', partitionSizeBytes: 2 * MIB };
    const tasks = await loadJobType.plan(spec, planCtx(r));
    assert.deepEqual(tasks.map((t) => t.bytes), [2 * MIB, 2 * MIB, MIB + 3]);
    const results = await Promise.all([...tasks].reverse().map((t) => loadJobType.run(spec, t.payload, runCtx(r, { taskId: t.taskId }))));
    assert.ok((await readFile(path.join(r.cacheDir, 'big.bin'))).equals(big));
    assert.deepEqual(await loadJobType.verify(spec, verifyCtx(r, tasks, results)), { ok: true, summary: { files: 1, bytes: 5 * MIB + 3, verified: true } });
  });

  it('copies a small file that grew past SYNC_COPY_MAX_BYTES since planning to its new end; verify then reports the size', async () => {
    await writeTree(r.dataDir, { 'ds/grows': pattern(10, 5) });
    const spec: LoadSpec = { path: 'ds' };
    const tasks = await loadJobType.plan(spec, planCtx(r));
    const grown = Buffer.concat([pattern(10, 5), pattern(SYNC_COPY_MAX_BYTES + MIB / 2, 6)]);
    await appendFile(path.join(r.dataDir, 'ds/grows'), grown.subarray(10));
    const result = await loadJobType.run(spec, tasks[0]?.payload, runCtx(r));
    assert.equal(result.bytesDone, grown.length);
    assert.ok((await readFile(path.join(r.cacheDir, 'ds/grows'))).equals(grown));
    const outcome = await loadJobType.verify(spec, verifyCtx(r, tasks, [result]));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.message, new RegExp(`ds/grows: expected 10 bytes, found ${grown.length}`));
  });

  it('aborts in the middle of a large file: ABORTED, no temp file left', async () => {
    await writeTree(r.dataDir, { 'ds/large': pattern(3 * MIB, 7), 'ds/small': 's' });
    const spec: LoadSpec = { path: 'ds' };
    const [task] = await loadJobType.plan(spec, planCtx(r));
    const abort = new AbortController();
    // The first heartbeat comes just before the first file (ds/large) is opened.
    const run = loadJobType.run(spec, task?.payload, runCtx(r, { signal: abort.signal, heartbeat: () => abort.abort() }));
    await assert.rejects(run, (e) => e instanceof TaskRunError && e.code === 'ABORTED' && !e.retryable);
    assert.deepEqual(await listTree(r.cacheDir), ['ds']);
  });

  it('leaves no descriptor open, whatever fails', async () => {
    await writeTree(r.dataDir, { 'ds/a': 'a', 'ds/sub/b': 'b', 'ds/large': pattern(SYNC_COPY_MAX_BYTES + 5), 'big.bin': pattern(MIB + 1) });
    execFileSync('mkfifo', [path.join(r.dataDir, 'ds/fifo')]);
    const spec: LoadSpec = { path: '', partitionSizeBytes: MIB };
    const fifoEntry = { rel: 'ds/fifo', offset: 0, length: 1, size: 1 };
    const missing = { rel: 'ds/missing', offset: 0, length: 1, size: 1 };
    const before = openFds();
    await writeTree(r.cacheDir, { 'ds/sub': 'a file where a directory should be' });
    await symlink(path.join(r.outside, 'x'), path.join(r.cacheDir, 'big.bin'));
    const tasks = await loadJobType.plan(spec, planCtx(r));
    const results = await Promise.all(tasks.map((t) => loadJobType.run(spec, t.payload, runCtx(r, { taskId: t.taskId }))));
    results.push(await loadJobType.run(spec, { files: [fifoEntry, missing] }, runCtx(r)));
    const errors = results.flatMap((x) => x.failures.map((f) => `${f.item}: ${f.error.replace(/ \(bytes .*/, '')}`));
    assert.deepEqual([...new Set(errors)].sort(), ['big.bin: destination: ELOOP', 'ds/fifo: source: not a regular file', 'ds/missing: source: ENOENT', 'ds/sub/b: destination: ENOTDIR']);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(loadJobType.run(spec, tasks[0]?.payload, runCtx(r, { signal: aborted.signal })));
    assert.deepEqual(openFds().filter((fd) => !before.includes(fd)), [], 'descriptors opened and not closed');
  });
});
