/**
 * Sandbox uid leases (engine/sandbox/uidLease.ts): distinct uids for concurrent leases, host-wide
 * (two pools on one lock dir), every process of the uid gone at release and when the leasing
 * process dies. Needs root (setting another uid); skipped otherwise.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUidPool, parseUidRange } from '../../../../engine/sandbox/uidLease.ts';
import { waitFor } from '../../../helpers/wait.ts';

const ROOT = process.getuid?.() === 0;
const skip = ROOT ? false : 'needs root: leases run processes as other uids';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A `sleep` as `uid`, in a session of its own (as a script that called setsid would be). */
function sleeper(uid: number): number {
  const p = spawn('sleep', ['300'], { uid, gid: uid, detached: true, stdio: 'ignore' });
  p.unref();
  return p.pid!;
}

describe('sandbox uid leases', () => {
  it('parses the setting', () => {
    assert.equal(parseUidRange('off', true), null);
    assert.equal(parseUidRange('auto', false), null);
    assert.deepEqual(parseUidRange('auto', true), { first: 700_000, count: 1000 });
    assert.deepEqual(parseUidRange('5000-5009', false), { first: 5000, count: 10 });
    assert.throws(() => parseUidRange('10-5', true), /FIRST-LAST/);
    assert.throws(() => parseUidRange('0-100', true), /FIRST-LAST/);
  });

  it('gives concurrent leases distinct uids across pools sharing a lock dir, and refuses when all are taken', { skip }, async () => {
    const lockDir = await mkdtemp(join(tmpdir(), 'jetjobs-uidlock-'));
    try {
      const a = createUidPool({ first: 711_000, count: 3, lockDir });
      const b = createUidPool({ first: 711_000, count: 3, lockDir });
      const leases = [await a.acquire(), await b.acquire(), await a.acquire()];
      assert.equal(new Set(leases.map((l) => l.uid)).size, 3);
      await assert.rejects(b.acquire(), /every sandbox uid/);
      await leases[1]!.release();
      const again = await b.acquire();
      assert.equal(again.uid, leases[1]!.uid);
      await Promise.all([again.release(), leases[0]!.release(), leases[2]!.release()]);
    } finally {
      await rm(lockDir, { recursive: true, force: true });
    }
  });

  it('kills every process of the uid at release, even one in a session of its own, and removes what it left in /tmp', { skip }, async () => {
    const lockDir = await mkdtemp(join(tmpdir(), 'jetjobs-uidlock-'));
    try {
      const lease = await createUidPool({ first: 712_000, count: 1, lockDir }).acquire();
      const pid = sleeper(lease.uid);
      assert.ok(alive(pid));
      const left = `/tmp/jetjobs-left-${lease.uid}-${process.pid}`;
      await writeFile(left, 'left behind');
      await chown(left, lease.uid, lease.uid);
      await lease.release();
      await waitFor(() => !alive(pid), { what: 'the uid process gone', timeoutMs: 10_000 });
      await assert.rejects(stat(left), { code: 'ENOENT' }, 'what the uid left in /tmp is removed');
    } finally {
      await rm(lockDir, { recursive: true, force: true });
    }
  });

  it('kills the processes of a leaseholder that dies (SIGKILL) and frees the uid', { skip }, async () => {
    const lockDir = await mkdtemp(join(tmpdir(), 'jetjobs-uidlock-'));
    try {
      // a process that leases a uid, starts a sleep as it, prints both, and waits to be killed
      const code = `
        const { createUidPool } = await import(${JSON.stringify(join(import.meta.dirname, '../../../../engine/sandbox/uidLease.ts'))});
        const { spawn } = await import('node:child_process');
        const lease = await createUidPool({ first: 713000, count: 1, lockDir: ${JSON.stringify(lockDir)} }).acquire();
        const p = spawn('sleep', ['300'], { uid: lease.uid, gid: lease.uid, detached: true, stdio: 'ignore' });
        console.log(JSON.stringify({ uid: lease.uid, pid: p.pid }));
        setInterval(() => {}, 1000);`;
      const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      const line = await new Promise<string>((resolve) => holder.stdout.once('data', (d: Buffer) => resolve(d.toString())));
      const { pid } = JSON.parse(line) as { uid: number; pid: number };
      assert.ok(alive(pid));
      holder.kill('SIGKILL');
      await waitFor(() => !alive(pid), { what: 'the dead holder\'s process gone', timeoutMs: 10_000 });
      const lease = await waitFor(() => createUidPool({ first: 713_000, count: 1, lockDir }).acquire().catch(() => undefined), { what: 'the uid free again', timeoutMs: 10_000 });
      await lease.release();
    } finally {
      await rm(lockDir, { recursive: true, force: true });
    }
  });
});
