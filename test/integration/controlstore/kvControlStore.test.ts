import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { connectNats, ensureStreams } from '../../../engine/nats/connection.ts';
import { createKvControlStore } from '../../../engine/nats/kvControlStore.ts';
import { createIdentity } from '../../../engine/auth/identity.ts';
import { systemClock } from '../../../engine/clock.ts';
import { isAppError } from '../../../engine/errors.ts';
import { silentLogger } from '../../../engine/log.ts';
import { controlStoreContract } from '../../contract/controlStore.contract.ts';
import { startTestNats, type TestNats } from '../../helpers/natsServer.ts';
import { waitFor } from '../../helpers/wait.ts';

let srv: TestNats;
let nc: NatsConnection;
let bucketNo = 0;

before(async () => {
  srv = await startTestNats();
  nc = await connectNats(srv.url, { name: 'control-store-test' });
  await ensureStreams(nc);
});
after(async () => {
  await nc?.close();
  await srv?.cleanup();
});

/** A fresh bucket per test (same settings as `control`), so tests do not see each other's keys. */
async function freshBucket(): Promise<string> {
  const bucket = `control_t${++bucketNo}`;
  await new Kvm(nc).create(bucket, { history: 1 });
  return bucket;
}

controlStoreContract('nats kv', async () => {
  const bucket = await freshBucket();
  const store = createKvControlStore({ nc, bucket });
  return {
    store,
    openPeer: async () => {
      // another process: its own connection, closed with the store
      const peerNc = await connectNats(srv.url, { name: 'peer' });
      const peer = createKvControlStore({ nc: peerNc, bucket });
      return { ...peer, close: async () => (await peer.close(), await peerNc.close()) };
    },
    cleanup: () => store.close(),
  };
});

describe('kvControlStore', () => {
  it('uses the control bucket that ensureStreams creates', async () => {
    const store = createKvControlStore({ nc });
    try {
      await store.ready;
      const rev = await store.create('setting.probe', { ok: true });
      assert.equal(store.get('setting.probe')?.revision, rev);
      const raw = await (await new Kvm(nc).open('control')).get('setting.probe');
      assert.deepEqual(raw?.json(), { ok: true });
    } finally {
      await store.close();
    }
  });

  it('an unreachable NATS makes writes UNAVAILABLE and the mirror keeps serving reads', async () => {
    const own = await startTestNats();
    const conn = await connectNats(own.url, { name: 'down-test' });
    try {
      await ensureStreams(conn);
      const store = createKvControlStore({ nc: conn, requestTimeoutMs: 500 });
      try {
        await store.ready;
        await store.create('user.kept', { v: 1 });
        await own.stop();
        await assert.rejects(store.create('user.new', { v: 1 }), (err: unknown) => (err as { code?: string }).code === 'UNAVAILABLE');
        assert.deepEqual(store.get('user.kept')?.value, { v: 1 });
      } finally {
        await store.close();
      }
    } finally {
      await conn.close();
      await own.cleanup();
    }
  });

  it('catches up after a NATS restart: writes made meanwhile by a peer show up', async () => {
    const own = await startTestNats();
    const a = await connectNats(own.url, { name: 'a' });
    try {
      await ensureStreams(a);
      const store = createKvControlStore({ nc: a });
      try {
        await store.ready;
        await store.create('user.before', { v: 1 });
        await own.restart();
        const b = await connectNats(own.url, { name: 'b' });
        const peer = createKvControlStore({ nc: b });
        try {
          await peer.ready;
          await peer.create('user.after', { v: 2 });
          await peer.delete('user.before');
        } finally {
          await peer.close();
          await b.close();
        }
        await waitFor(() => store.get('user.after') !== undefined && store.get('user.before') === undefined, { what: 'mirror catches up', timeoutMs: 15_000, intervalMs: 5 });
      } finally {
        await store.close();
      }
    } finally {
      await a.close();
      await own.cleanup();
    }
  });
});

describe('identity over the KV store (two processes)', () => {
  it('a token from one process works on the other until a password change there revokes it', async () => {
    const bucket = await freshBucket();
    const ncB = await connectNats(srv.url, { name: 'process-b' });
    const storeA = createKvControlStore({ nc, bucket });
    const storeB = createKvControlStore({ nc: ncB, bucket });
    try {
      const make = (store: typeof storeA) =>
        createIdentity({
          store, clock: systemClock, logger: silentLogger, scryptParams: { N: 2 ** 10, r: 8, p: 1 },
          config: { tokenTtlMs: 60_000, tokenMaxTtlMs: 60_000, adminToken: null, adminPassword: 'first admin password' },
        });
      const [a, b] = [make(storeA), make(storeB)];
      const boots = await Promise.all([a.bootstrap(), b.bootstrap()]);
      assert.equal(boots.filter((r) => r.adminCreated).length, 1, 'exactly one process creates the admin');
      const { token } = await a.login('admin', 'first admin password');
      const header = `Bearer ${token}`;
      await waitFor(() => {
        try {
          return b.authenticate(header).user === 'admin';
        } catch {
          return false;
        }
      }, { what: 'process b accepts the token', timeoutMs: 5_000, intervalMs: 5 });
      await b.setPassword('admin', 'second admin password');
      await waitFor(() => {
        try {
          a.authenticate(header);
          return false;
        } catch (err) {
          return isAppError(err, 'UNAUTHENTICATED');
        }
      }, { what: 'process a rejects the revoked token', timeoutMs: 5_000, intervalMs: 5 });
    } finally {
      await storeA.close();
      await storeB.close();
      await ncB.close();
    }
  });
});
