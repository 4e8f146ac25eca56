/** Projection checkpoints on a real nats-server: object store round trip, start from a checkpoint, the lease, a recreated stream. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { systemClock } from '../../../engine/clock.ts';
import { isAppError } from '../../../engine/errors.ts';
import { createJetStreamEventLog } from '../../../engine/eventlog/jetStreamEventLog.ts';
import type { EventLog } from '../../../engine/eventlog/eventLog.ts';
import { connectNats, ensureStreams } from '../../../engine/nats/connection.ts';
import { createJetStreamCheckpoints } from '../../../engine/nats/jetStreamCheckpoints.ts';
import { createKvControlStore } from '../../../engine/nats/kvControlStore.ts';
import { silentLogger } from '../../../engine/log.ts';
import { loadCheckpoint } from '../../../engine/projections/checkpointStore.ts';
import { entryView } from '../../../engine/projections/jobEntry.ts';
import { createJobProjection, type JobProjection } from '../../../engine/projections/jobProjection.ts';
import { readCheckpoint, readCheckpointHeader, restoreProjection, writeCheckpoint, writeCheckpointSliced } from '../../../engine/projections/projectionCheckpoint.ts';
import { STREAM_JOBS } from '../../../engine/subjects.ts';
import { useTestNats } from '../../helpers/natsServer.ts';
import { jobEvents, taskPlans } from '../../unit/actors/jobEvents.fixture.ts';

async function follow(log: EventLog, p: JobProjection, from = 1): Promise<JobProjection> {
  const f = log.follow(from, (r) => p.apply(r));
  await f.caughtUp;
  await f.stop();
  return p;
}

const views = (p: JobProjection) => ({ lastSeq: p.lastSeq(), all: [...p.all()].map(entryView), waiting: [...p.waiting()].map((e) => e.id), active: [...p.active()].map((e) => e.id) });

describe('JetStream projection checkpoints', () => {
  const t = useTestNats();

  it('stores and loads a checkpoint; a projection restored from it and followed from the next seq equals a replay', async () => {
    const controlStore = createKvControlStore({ nc: t.nc, logger: silentLogger });
    await controlStore.ready;
    const store = createJetStreamCheckpoints({ nc: t.nc, controlStore });
    const log = createJetStreamEventLog({ nc: t.nc });
    try {
      assert.equal(await store.load(), undefined);
      assert.equal(await loadCheckpoint(store, silentLogger), undefined);
      const a = jobEvents('a');
      await log.append('job.a.ev', [a.submitted()]);
      await log.append('job.a.ev', [a.claimed(1), a.planned(taskPlans(2), 1)]);
      await log.append('job.b.ev', [jobEvents('b').submitted({ priority: 2 })]);
      const live = await follow(log, createJobProjection({ logger: silentLogger }));
      const stream = await store.stream();
      assert.ok(stream !== undefined && stream.lastSeq === live.lastSeq() && stream.firstSeq === 1);
      // saved in pieces as the writer makes them, loaded as header, body and the body's digest
      const sliced = await writeCheckpointSliced(live, stream, 1);
      assert.ok(sliced.pieces.length > 3);
      await store.save(sliced.pieces);
      const text = writeCheckpoint(live, stream);
      const loaded = await store.load();
      assert.ok(loaded !== undefined);
      assert.equal(`${loaded.header}\n${loaded.body}`, text);
      assert.equal(loaded.bodyDigest, readCheckpointHeader(text)?.digest);
      // records after the checkpoint
      await log.append('job.c.ev', [jobEvents('c').submitted()]);
      await log.append('job.b.ev', [jobEvents('b').claimed(1)]);
      const state = await loadCheckpoint(store, silentLogger);
      assert.ok(state !== undefined);
      const restored = await follow(log, restoreProjection(state, { logger: silentLogger }), state.lastSeq + 1);
      assert.deepEqual(views(restored), views(await follow(log, createJobProjection({ logger: silentLogger }))));
      // a second save replaces the first
      await store.save([Buffer.from(writeCheckpoint(restored, (await store.stream())!))]);
      assert.equal(readCheckpoint((await store.load())!, (await store.stream())!).ok, true);
    } finally {
      await controlStore.close();
    }
  });

  it('writes no checkpoint larger than a start can read, and keeps the one it has', async () => {
    const controlStore = createKvControlStore({ nc: t.nc, logger: silentLogger });
    await controlStore.ready;
    try {
      const p = createJobProjection({ logger: silentLogger });
      const small = writeCheckpoint(p, (await createJetStreamCheckpoints({ nc: t.nc, controlStore }).stream())!);
      const store = createJetStreamCheckpoints({ nc: t.nc, controlStore, maxBytes: Buffer.byteLength(small) });
      await store.save([Buffer.from(small)]);
      const log = createJetStreamEventLog({ nc: t.nc });
      await log.append('job.big.ev', [jobEvents('big').submitted()]);
      const big = await writeCheckpointSliced(await follow(log, p), (await store.stream())!);
      await assert.rejects(store.save(big.pieces), (err: unknown) => isAppError(err, 'BODY_TOO_LARGE'));
      const loaded = await store.load();
      assert.equal(loaded === undefined ? undefined : `${loaded.header}\n${loaded.body}`, small);
    } finally {
      await controlStore.close();
    }
  });

  it('one holder of the lease at a time, until it expires', async () => {
    const nc2 = await connectNats(t.srv.url, { name: 'peer' });
    const c1 = createKvControlStore({ nc: t.nc, logger: silentLogger });
    const c2 = createKvControlStore({ nc: nc2, logger: silentLogger });
    try {
      await Promise.all([c1.ready, c2.ready]);
      const s1 = createJetStreamCheckpoints({ nc: t.nc, controlStore: c1, clock: systemClock });
      const s2 = createJetStreamCheckpoints({ nc: nc2, controlStore: c2, clock: systemClock });
      // racing for a free lease: exactly one wins
      const won = await Promise.all([s1.lease('c-1', 300), s2.lease('c-2', 300)]);
      assert.equal(won.filter(Boolean).length, 1, `one winner: ${won}`);
      const [holder, other] = won[0] ? [s1, s2] : [s2, s1];
      const [holderId, otherId] = won[0] ? ['c-1', 'c-2'] : ['c-2', 'c-1'];
      await new Promise((r) => setTimeout(r, 100)); // the other's mirror sees the lease
      assert.equal(await other.lease(otherId, 300), false);
      assert.equal(await holder.lease(holderId, 300), true, 'the holder renews');
      await new Promise((r) => setTimeout(r, 450));
      assert.equal(await other.lease(otherId, 300), true, 'taken once expired');
    } finally {
      await c1.close();
      await c2.close();
      await nc2.close();
    }
  });

  it('refuses a checkpoint of a stream that was deleted and created again', async () => {
    const controlStore = createKvControlStore({ nc: t.nc, logger: silentLogger });
    await controlStore.ready;
    try {
      const store = createJetStreamCheckpoints({ nc: t.nc, controlStore });
      const before = await store.stream();
      assert.ok(before !== undefined);
      const p = createJobProjection({ logger: silentLogger });
      await follow(createJetStreamEventLog({ nc: t.nc }), p);
      await store.save([Buffer.from(writeCheckpoint(p, before))]);
      await (await jetstreamManager(t.nc)).streams.delete(STREAM_JOBS);
      assert.equal(await store.stream(), undefined, 'no stream');
      await ensureStreams(t.nc);
      const log = createJetStreamEventLog({ nc: t.nc });
      for (let i = 0; i < 8; i++) await log.append(`job.n${i}.ev`, [jobEvents(`n${i}`).submitted()]);
      const now = await store.stream();
      assert.ok(now !== undefined && now.created !== before.created);
      const read = readCheckpoint((await store.load())!, now);
      assert.equal(read.ok, false);
      assert.equal(read.ok ? '' : read.reason, 'stream');
      assert.equal(await loadCheckpoint(store, silentLogger), undefined);
    } finally {
      await controlStore.close();
    }
  });
});
