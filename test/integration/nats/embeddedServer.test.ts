import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServerBin, startEmbeddedNats } from '../../../engine/nats/embeddedServer.ts';
import { startTestNats } from '../../helpers/natsServer.ts';

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('embedded nats-server', () => {
  it('stop() ends the process; restart() keeps the port and the config', async () => {
    const srv = await startTestNats({ syncInterval: 'always' });
    try {
      const pid = srv.pid;
      assert.ok(isRunning(pid));
      const conf = await readFile(join(srv.storeDir, 'nats-server.conf'), 'utf8');
      assert.match(conf, /sync_interval: always/);
      assert.match(conf, /max_payload: 8388608/);
      await srv.restart();
      assert.notEqual(srv.pid, pid);
      assert.ok(!isRunning(pid));
      assert.equal(srv.url, `nats://127.0.0.1:${srv.port}`);
      const again = srv.pid;
      await srv.kill9();
      assert.equal(srv.pid, 0);
      assert.ok(!isRunning(again));
    } finally {
      await srv.cleanup();
    }
  });

  it('rejects with the server stderr when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const addr = blocker.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    const storeDir = await mkdtemp(join(tmpdir(), 'jetjobs-nats-'));
    try {
      await assert.rejects(startEmbeddedNats({ bin: await findNatsServerBin(), port, storeDir }), /exited early[\s\S]*address already in use/);
    } finally {
      blocker.close();
      await rm(storeDir, { recursive: true, force: true });
    }
  });
  it('reports a crash it did not ask for, and not a stop it asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-crash-'));
    const exits: (string | null)[] = [];
    const srv = await startEmbeddedNats({ bin: await findNatsServerBin(), storeDir: dir, onUnexpectedExit: (_c, sig) => exits.push(sig) });
    try {
      await srv.restart(); // asked for: not reported
      process.kill(srv.pid, 'SIGKILL'); // a crash
      for (let i = 0; i < 200 && exits.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(exits, ['SIGKILL']);
    } finally {
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops a server orphaned by a killed parent before starting on the same store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-orphan-'));
    const bin = await findNatsServerBin();
    const orphan = await startEmbeddedNats({ bin, storeDir: dir });
    const orphanPid = orphan.pid;
    try {
      const next = await startEmbeddedNats({ bin, storeDir: dir, port: orphan.port });
      try {
        assert.ok(!isRunning(orphanPid), 'the orphan was stopped');
        assert.ok(isRunning(next.pid));
      } finally {
        await next.stop();
      }
    } finally {
      if (isRunning(orphanPid)) process.kill(orphanPid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
