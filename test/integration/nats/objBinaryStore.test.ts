/**
 * The object-store BinaryStore against a real nats-server: the contract (a fresh bucket per test),
 * the `binaries` bucket's layout, a 64 MiB put/get with its rate and memory printed as diagnostics,
 * and on a 3-node cluster: R3 replicas (an R1 bucket brought to R3) and a binary that survives the
 * SIGKILL of its stream's leader.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connectNats } from '../../../engine/nats/connection.ts';
import { createObjBinaryStore, OBJ_BINARIES } from '../../../engine/nats/objBinaryStore.ts';
import { binaryStoreContract, content, sha256Of } from '../../contract/binaryStore.contract.ts';
import { startTestNats, type TestNats } from '../../helpers/natsServer.ts';
import { startTestCluster } from '../../helpers/natsCluster.ts';
import { waitFor } from '../../helpers/wait.ts';

const MiB = 1024 * 1024;
let srv: TestNats;
let nc: NatsConnection;
let bucketNo = 0;

before(async () => {
  srv = await startTestNats();
  nc = await connectNats(srv.url, { name: 'binary-store-test' });
});
after(async () => {
  await nc?.close();
  await srv?.cleanup();
});

binaryStoreContract('nats object store', async () => {
  const bucket = `binaries_t${++bucketNo}`;
  const store = createObjBinaryStore({ nc, bucket });
  await store.list(); // creates the bucket
  const jsm = await jetstreamManager(nc);
  return {
    store,
    storedBytes: async () => (await jsm.streams.info(`OBJ_${bucket}`)).state.bytes,
    cleanup: async () => void (await jsm.streams.delete(`OBJ_${bucket}`)),
  };
});

describe('objBinaryStore', () => {
  it('creates the binaries bucket on first use: file storage, the replicas asked for', async () => {
    const store = createObjBinaryStore({ nc, replicas: 1 });
    assert.deepEqual(await store.list(), []);
    const si = await (await jetstreamManager(nc)).streams.info(`OBJ_${OBJ_BINARIES}`);
    assert.equal(si.config.num_replicas, 1);
    assert.equal(si.config.storage, StorageType.File);
  });

  it('64 MiB: put and get rates and memory (diagnostics, not assertions)', async (t) => {
    const jsm = await jetstreamManager(nc);
    const size = 64 * MiB;
    const expected = await sha256Of(content(11, size));
    for (const chunkBytes of [128 * 1024, MiB]) {
      const bucket = `binaries_rate${++bucketNo}`;
      const store = createObjBinaryStore({ nc, bucket, chunkBytes });
      try {
        await store.list();
        const start = process.memoryUsage().arrayBuffers;
        let peak = start;
        const sample = () => void (peak = Math.max(peak, process.memoryUsage().arrayBuffers));
        let t0 = performance.now();
        const info = await store.put('big.jar', { contentType: 'application/java-archive', source: content(11, size, MiB, sample), maxBytes: size, uploadedBy: 'bench' });
        const putMs = performance.now() - t0;
        assert.equal(info.sha256, expected.sha256);
        t0 = performance.now();
        let n = 0;
        for await (const c of store.get('big.jar')) {
          n += c.byteLength;
          sample();
        }
        const getMs = performance.now() - t0;
        assert.equal(n, size);
        const rate = (ms: number) => (size / MiB / (ms / 1000)).toFixed(1);
        const mib = (b: number) => (b / MiB).toFixed(1);
        t.diagnostic(
          `64 MiB in ${chunkBytes / 1024} KiB chunks (1 node, file storage): put ${putMs.toFixed(0)} ms = ${rate(putMs)} MiB/s, ` +
            `get ${getMs.toFixed(0)} ms = ${rate(getMs)} MiB/s; arrayBuffers ${mib(start)} MiB at start, peak ${mib(peak)} MiB`,
        );
      } finally {
        await jsm.streams.delete(`OBJ_${bucket}`);
      }
    }
  });
});

describe('objBinaryStore on a 3-node cluster', () => {
  it('brings an R1 bucket to R3 and keeps a binary through the SIGKILL of its leader', async () => {
    await using cluster = await startTestCluster();
    const conn = await connectNats(cluster.urls, { name: 'binaries-r3' });
    try {
      await createObjBinaryStore({ nc: conn, replicas: 1 }).list();
      const store = createObjBinaryStore({ nc: conn, replicas: 3, readStallMs: 1_000 });
      const jsm = await jetstreamManager(conn);
      const stream = `OBJ_${OBJ_BINARIES}`;
      assert.equal((await jsm.streams.info(stream)).config.num_replicas, 1);
      await store.list(); // brings the bucket to R3
      assert.equal((await jsm.streams.info(stream)).config.num_replicas, 3);
      await waitFor(async () => {
        const s = await jsm.streams.info(stream);
        return (s.cluster?.replicas ?? []).length === 2 && (s.cluster?.replicas ?? []).every((r) => r.current);
      }, { what: 'replicas current', timeoutMs: 20_000, intervalMs: 200, retryErrors: true });
      const size = 4 * MiB + 3;
      const put = await store.put('app.whl', { contentType: 'application/python-wheel', source: content(5, size), maxBytes: 8 * MiB, uploadedBy: 'alice' });
      const leader = await cluster.streamLeader(stream);
      await cluster.servers[leader]!.kill9();
      const read = await waitFor(async () => sha256Of(store.get('app.whl')), { what: 'a read after the failover', timeoutMs: 30_000, intervalMs: 250, retryErrors: true });
      assert.deepEqual(read, { sha256: put.sha256, size });
    } finally {
      await conn.close();
    }
  });
});
