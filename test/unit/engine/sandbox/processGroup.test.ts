/** Stopping a sandboxed process: the whole group goes, grandchildren too, at the time limit and on abort. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../../helpers/wait.ts';
import { createSandboxRoot, follower, isGone, run } from './sandboxFixture.ts';

/** Starts a grandchild, prints its pid, then waits with it. */
const WITH_GRANDCHILD = ['-c', 'sleep 60 & echo "grandchild=$!"; sleep 60'];

function printedPid(text: string): number | undefined {
  const m = /grandchild=(\d+)/.exec(text);
  return m === null ? undefined : Number(m[1]);
}

describe('process group kill', () => {
  let box: Awaited<ReturnType<typeof createSandboxRoot>>;
  before(async () => {
    box = await createSandboxRoot();
  });
  after(async () => {
    await box.cleanup();
  });

  it('kills the child and its grandchild at the time limit', async () => {
    const dir = await box.workDir('time');
    const out = await run(dir, 'sh', WITH_GRANDCHILD, { timeLimitMs: 1000 });
    assert.equal(out.reason, 'timeLimit');
    assert.equal(out.exitCode, null);
    assert.equal(out.signal, 'SIGTERM');
    const pid = printedPid(out.stdout.tail);
    assert.ok(pid !== undefined, `the child printed its grandchild's pid: ${out.stdout.tail}`);
    await waitFor(() => isGone(pid), { what: `grandchild ${pid} gone` });
    assert.ok(out.durationMs < 9000, `took ${out.durationMs} ms`);
  });

  it('kills the group on abort', async () => {
    const dir = await box.workDir('abort');
    const ac = new AbortController();
    const f = follower();
    const running = run(dir, 'sh', WITH_GRANDCHILD, { signal: ac.signal, onOutput: f.onOutput, timeLimitMs: 60_000 });
    const pid = await waitFor(() => printedPid(f.text()), { what: 'the grandchild pid' });
    assert.equal(isGone(pid), false);
    ac.abort();
    const out = await running;
    assert.equal(out.reason, 'aborted');
    assert.equal(out.signal, 'SIGTERM');
    await waitFor(() => isGone(pid), { what: `grandchild ${pid} gone` });
  });

  it('sends SIGKILL after the grace when SIGTERM is ignored', async () => {
    const dir = await box.workDir('ignore-term');
    const out = await run(dir, 'sh', ['-c', `trap '' TERM; ${WITH_GRANDCHILD[1]}`], { timeLimitMs: 800, killGraceMs: 300 });
    assert.equal(out.reason, 'timeLimit');
    assert.equal(out.signal, 'SIGKILL');
    const pid = printedPid(out.stdout.tail);
    assert.ok(pid !== undefined);
    await waitFor(() => isGone(pid), { what: `grandchild ${pid} gone` });
  });

  it('kills what the leader left running when it exits, and does not wait for it', async () => {
    const dir = await box.workDir('leftover');
    const out = await run(dir, 'sh', ['-c', 'sleep 60 & echo "grandchild=$!"']);
    assert.equal(out.reason, 'exited');
    assert.equal(out.exitCode, 0);
    const pid = printedPid(out.stdout.tail);
    assert.ok(pid !== undefined);
    await waitFor(() => isGone(pid), { what: `grandchild ${pid} gone` });
    assert.ok(out.durationMs < 9000, `took ${out.durationMs} ms`);
  });

  it('stops waiting for output held open by a process that left the group', async () => {
    const dir = await box.workDir('escaped');
    // setsid puts the grandchild in a session of its own, out of reach of the group kill, and it keeps
    // stdout open; the leader exits only once it has left (the file says so).
    const script = "setsid sh -c ': > left; exec sleep 60' & while [ ! -e left ]; do sleep 0.01; done; echo \"grandchild=$!\"";
    const out = await run(dir, 'sh', ['-c', script], { killGraceMs: 300 });
    const pid = printedPid(out.stdout.tail);
    assert.ok(pid !== undefined);
    try {
      assert.equal(out.reason, 'exited');
      assert.equal(isGone(pid), false, 'the escaped grandchild still runs (the limit of a process group)');
      assert.ok(out.durationMs >= 300 && out.durationMs < 9000, `took ${out.durationMs} ms`);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
