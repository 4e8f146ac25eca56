import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServerBin, startEmbeddedNats } from '../../../engine/nats/embeddedServer.ts';

/** Process group id of `pid` (field 5 of /proc/<pid>/stat, after the parenthesized command). */
async function pgidOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

describe('embedded nats-server lifecycle', () => {
  it('stop() removes the pid file the server leaves behind; a crash (kill9) leaves it for the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-pidfile-'));
    const bin = await findNatsServerBin();
    const pidFile = join(dir, 'nats-server.pid');
    const srv = await startEmbeddedNats({ bin, storeDir: dir });
    try {
      assert.equal((await readFile(pidFile, 'utf8')).trim(), String(srv.pid));
      await srv.kill9();
      await access(pidFile); // still there, naming a dead process
      await srv.restart();
      assert.equal((await readFile(pidFile, 'utf8')).trim(), String(srv.pid));
      await srv.stop();
      await assert.rejects(access(pidFile), { code: 'ENOENT' });
    } finally {
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ownProcessGroup puts the server in a group of its own; without it, it shares ours', async () => {
    const bin = await findNatsServerBin();
    const ours = await pgidOf(process.pid);
    for (const ownProcessGroup of [true, false]) {
      const dir = await mkdtemp(join(tmpdir(), 'jetjobs-pgid-'));
      const srv = await startEmbeddedNats({ bin, storeDir: dir, ownProcessGroup });
      try {
        const pgid = await pgidOf(srv.pid);
        if (ownProcessGroup) assert.equal(pgid, srv.pid, 'it leads its own group');
        else assert.equal(pgid, ours);
      } finally {
        await srv.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }
  });
});
