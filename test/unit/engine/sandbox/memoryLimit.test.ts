/** The memory limit: a process allocating far past it dies as 'memoryLimit'; the worker (this test) is fine. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../../../engine/errors.ts';
import { limitedArgv } from '../../../../engine/sandbox/memoryLimit.ts';
import {
  looksLikeMemoryFailure,
  minimumMemoryLimitBytes,
  MIN_MEMORY_LIMIT_BYTES,
  NODE_MIN_MEMORY_LIMIT_BYTES,
  nodeArgsForMemory,
} from '../../../../engine/sandbox/index.ts';
import { createSandboxRoot, MIB, run } from './sandboxFixture.ts';

/** Grows by 10 MB at a time, for ever. */
const PYTHON_HOG = 'a = []\nwhile True: a.append(bytearray(10**7))';
const NODE_HOG = 'const a = []; for (;;) a.push(new Array(1e5).fill(1.5));';

describe('memory limit', () => {
  let box: Awaited<ReturnType<typeof createSandboxRoot>>;
  before(async () => {
    box = await createSandboxRoot();
  });
  after(async () => {
    await box.cleanup();
  });

  it('ends a python3 process allocating past the limit as memoryLimit, and the next run works', async () => {
    const dir = await box.workDir('python');
    const rssBefore = process.memoryUsage().rss;
    const out = await run(dir, 'python3', ['-c', PYTHON_HOG], { memoryLimitBytes: 64 * MIB });
    assert.equal(out.reason, 'memoryLimit', JSON.stringify(out));
    assert.notEqual(out.exitCode, 0);
    assert.match(out.stderr.tail, /MemoryError/);
    assert.ok(process.memoryUsage().rss < rssBefore + 64 * MIB, 'the worker did not grow');
    const next = await run(dir, 'python3', ['-c', 'print(sum(range(10)))'], { memoryLimitBytes: 64 * MIB });
    assert.equal(next.reason, 'exited');
    assert.equal(next.stdout.tail, '45\n');
  });

  it('ends a node process allocating past the limit as memoryLimit (with nodeArgsForMemory)', async () => {
    const dir = await box.workDir('node');
    const limit = NODE_MIN_MEMORY_LIMIT_BYTES;
    const out = await run(dir, process.execPath, [...nodeArgsForMemory(limit), '-e', NODE_HOG], { memoryLimitBytes: limit, timeLimitMs: 60_000 });
    assert.equal(out.reason, 'memoryLimit', JSON.stringify({ ...out, stderr: out.stderr.tail.slice(0, 500) }));
    assert.match(out.stderr.tail, /JavaScript heap out of memory/);
    const ok = await run(dir, process.execPath, [...nodeArgsForMemory(limit), '-p', '6 * 7'], { memoryLimitBytes: limit });
    assert.equal(ok.reason, 'exited', ok.stderr.tail);
    assert.equal(ok.stdout.tail, '42\n');
  });

  it('does not call a clean exit memoryLimit, even when it mentions memory', async () => {
    const dir = await box.workDir('clean');
    const out = await run(dir, 'sh', ['-c', 'echo "MemoryError is just a word here" >&2']);
    assert.equal(out.reason, 'exited');
  });

  it('applies the limit to the process through prlimit (and no core dumps)', async () => {
    const dir = await box.workDir('limits');
    const out = await run(dir, 'cat', ['/proc/self/limits'], { memoryLimitBytes: 100 * MIB });
    assert.match(out.stdout.tail, new RegExp(`Max address space\\s+${100 * MIB}\\s+${100 * MIB}\\s+bytes`));
    assert.match(out.stdout.tail, /Max core file size\s+0\s+0\s+bytes/);
  });

  it('has a fallback through sh and ulimit that holds the same limit', () => {
    const argv = limitedArgv('/bin/sh', ['-c', 'ulimit -v; ulimit -c'], 100 * MIB, 'ulimit');
    const r = spawnSync(argv.file, argv.args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${100 * 1024}\n0\n`);
    const hog = limitedArgv('/usr/bin/python3', ['-c', PYTHON_HOG], 64 * MIB, 'ulimit');
    const h = spawnSync(hog.file, hog.args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.notEqual(h.status, 0);
    assert.ok(looksLikeMemoryFailure(h.stderr), h.stderr);
  });

  it('refuses limits a runtime cannot start under, naming the minimum', async () => {
    const dir = await box.workDir('small');
    const invalid = (re: RegExp) => (e: unknown): boolean => e instanceof AppError && e.code === 'INVALID_SPEC' && re.test(e.message);
    assert.throws(() => nodeArgsForMemory(512 * MIB), invalid(/512 MiB is too small for node: it needs at least 1536 MiB/));
    await assert.rejects(run(dir, process.execPath, ['-e', '1'], { memoryLimitBytes: 512 * MIB }), invalid(/at least 1536 MiB/));
    await assert.rejects(run(dir, 'python3', ['-c', '1'], { memoryLimitBytes: 8 * MIB }), invalid(/8 MiB is too small for python3: it needs at least 32 MiB/));
    assert.equal(minimumMemoryLimitBytes('/usr/bin/python3'), MIN_MEMORY_LIMIT_BYTES);
    assert.equal(minimumMemoryLimitBytes('/opt/node-24/bin/node'), NODE_MIN_MEMORY_LIMIT_BYTES);
  });

  it('gives node a heap of 75% of what its own reservations leave', () => {
    assert.deepEqual(nodeArgsForMemory(NODE_MIN_MEMORY_LIMIT_BYTES), ['--max-old-space-size=144']);
    assert.deepEqual(nodeArgsForMemory(4096 * MIB), ['--max-old-space-size=2064']);
  });
});
