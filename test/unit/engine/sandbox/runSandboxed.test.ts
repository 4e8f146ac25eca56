import assert from 'node:assert/strict';
import { chmod, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../../../engine/errors.ts';
import { SANDBOX_PATH } from '../../../../engine/sandbox/index.ts';
import { waitFor } from '../../../helpers/wait.ts';
import { createSandboxRoot, run } from './sandboxFixture.ts';

describe('runSandboxed', () => {
  let box: Awaited<ReturnType<typeof createSandboxRoot>>;
  before(async () => {
    box = await createSandboxRoot();
  });
  after(async () => {
    await box.cleanup();
  });

  it('gives the process none of the worker\'s environment, only the fixed variables and the caller\'s', async () => {
    const saved = { token: process.env.JETJOBS_ADMIN_TOKEN, nats: process.env.NATS_URL };
    process.env.JETJOBS_ADMIN_TOKEN = 'secret-admin-token-4711';
    process.env.NATS_URL = 'nats://user:hunter2@127.0.0.1:4222';
    try {
      const dir = await box.workDir('env');
      const out = await run(dir, 'env', [], { env: { PAI_TASK_ID: 't-1' } });
      assert.equal(out.reason, 'exited');
      assert.equal(out.exitCode, 0);
      assert.doesNotMatch(out.stdout.tail, /secret-admin-token|hunter2|JETJOBS_|NATS_/);
      const vars = Object.fromEntries(out.stdout.tail.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      assert.deepEqual(vars, { PATH: SANDBOX_PATH, HOME: dir, TMPDIR: path.join(dir, 'tmp'), LANG: 'C.UTF-8', PAI_TASK_ID: 't-1' });
    } finally {
      restore('JETJOBS_ADMIN_TOKEN', saved.token);
      restore('NATS_URL', saved.nats);
    }
  });

  it('runs in the work dir, with HOME there and TMPDIR made inside it, stdin closed', async () => {
    const dir = await box.workDir('cwd');
    const out = await run(dir, 'sh', ['-c', 'pwd -P; echo "$HOME"; test -d "$TMPDIR" && echo tmp-ok; cat; echo "stdin=$?"']);
    assert.equal(out.reason, 'exited');
    assert.deepEqual(out.stdout.tail.trim().split('\n'), [await realpath(dir), dir, 'tmp-ok', 'stdin=0']);
  });

  it('keeps only the tail of an output beyond the limit, with the byte counts', async () => {
    const dir = await box.workDir('tail');
    const out = await run(dir, 'sh', ['-c', "head -c 100000 /dev/zero | tr '\\0' a; printf END; printf err >&2"], { outputLimitBytes: 1000 });
    assert.equal(out.reason, 'exited');
    assert.deepEqual(out.stdout, { tail: 'a'.repeat(997) + 'END', bytes: 100_003, truncated: true });
    assert.deepEqual(out.stderr, { tail: 'err', bytes: 3, truncated: false });
  });

  it('passes every chunk to onOutput as it comes', async () => {
    const dir = await box.workDir('follow');
    const seen: Record<string, string> = { stdout: '', stderr: '' };
    const out = await run(dir, 'sh', ['-c', 'echo one; echo two >&2; echo three'], {
      outputLimitBytes: 4,
      onOutput: (stream, chunk) => { seen[stream] += chunk.toString(); },
    });
    assert.deepEqual(seen, { stdout: 'one\nthree\n', stderr: 'two\n' });
    assert.equal(out.stdout.tail, 'ree\n');
  });

  it('reports a missing or unrunnable binary as spawnFailed with a clear message', async () => {
    const dir = await box.workDir('missing');
    const byName = await run(dir, 'no-such-binary-jetjobs', []);
    assert.equal(byName.reason, 'spawnFailed');
    assert.equal(byName.exitCode, null);
    assert.match(byName.spawnError ?? '', /command not found: no-such-binary-jetjobs \(looked in \/usr\/local\/bin:\/usr\/bin:\/bin\)/);
    const byPath = await run(dir, '/nonexistent/bin/tool', []);
    assert.equal(byPath.reason, 'spawnFailed');
    assert.match(byPath.spawnError ?? '', /cannot run \/nonexistent\/bin\/tool: no such file/);
    await writeFile(path.join(dir, 'data.txt'), 'not a program');
    await chmod(path.join(dir, 'data.txt'), 0o600);
    const notExec = await run(dir, './data.txt', []);
    assert.equal(notExec.reason, 'spawnFailed');
    assert.match(notExec.spawnError ?? '', /not executable/);
  });

  it('reports a failing exit as exited with its code and stderr', async () => {
    const dir = await box.workDir('fail');
    const out = await run(dir, 'sh', ['-c', 'echo boom >&2; exit 3']);
    assert.equal(out.reason, 'exited');
    assert.equal(out.exitCode, 3);
    assert.equal(out.signal, null);
    assert.equal(out.stderr.tail, 'boom\n');
  });

  it('heartbeats every second while the process runs', async () => {
    const dir = await box.workDir('beat');
    let beats = 0;
    const running = run(dir, 'sh', ['-c', 'while [ ! -e stop ]; do sleep 0.05; done'], { heartbeat: () => { beats++; } });
    await waitFor(() => beats >= 2, { what: 'two heartbeats', timeoutMs: 10_000 });
    await writeFile(path.join(dir, 'stop'), '');
    const out = await running;
    assert.equal(out.reason, 'exited');
    assert.equal(out.exitCode, 0);
    assert.ok(out.durationMs >= 2000, `ran ${out.durationMs} ms`);
  });

  it('survives a heartbeat and a follower that throw', async () => {
    const dir = await box.workDir('throwing');
    const out = await run(dir, 'sh', ['-c', 'echo hi'], {
      heartbeat: () => { throw new Error('heartbeat broke'); },
      onOutput: () => { throw new Error('follower broke'); },
    });
    assert.equal(out.reason, 'exited');
    assert.equal(out.stdout.tail, 'hi\n');
  });

  it('refuses bad limits and env names before running anything', async () => {
    const dir = await box.workDir('bad');
    const invalid = (e: unknown): boolean => e instanceof AppError && e.code === 'INVALID_SPEC';
    await assert.rejects(run(dir, 'true', [], { timeLimitMs: 0 }), invalid);
    await assert.rejects(run(dir, 'true', [], { outputLimitBytes: -1 }), invalid);
    await assert.rejects(run(dir, 'true', [], { memoryLimitBytes: 1.5 }), invalid);
    await assert.rejects(run(dir, 'true', [], { env: { 'BAD-NAME': 'x' } }), invalid);
    await assert.rejects(run(path.join(dir, 'nope'), 'true', []), /ENOENT/);
  });

  it('does not start when already aborted', async () => {
    const dir = await box.workDir('pre-aborted');
    const ac = new AbortController();
    ac.abort();
    const out = await run(dir, 'sh', ['-c', 'echo ran > ran.txt'], { signal: ac.signal });
    assert.equal(out.reason, 'aborted');
    assert.equal(out.exitCode, null);
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
