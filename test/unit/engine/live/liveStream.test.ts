import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../../engine/clock.ts';
import { isAppError } from '../../../../engine/errors.ts';
import type { EventLog, Follower } from '../../../../engine/eventlog/eventLog.ts';
import { createMemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { liveStream, type LiveStreamDeps } from '../../../../engine/live/liveStream.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createJobProjection, type JobEntry } from '../../../../engine/projections/jobProjection.ts';
import type { LiveMessage } from '../../../../engine/serviceTypes.ts';
import { workerEvSubject } from '../../../../engine/subjects.ts';
import { createJobWriter } from './jobWriter.fixture.ts';
import { waitFor } from '../../../helpers/wait.ts';

type EventMsg = Extract<LiveMessage, { kind: 'event' }>;
type SnapshotMsg = Extract<LiveMessage, { kind: 'snapshot' }>;

/** A memory log + projection kept up to date, with a count of open followers (to spot leaks). */
async function setup() {
  const log = createMemoryEventLog();
  let open = 0;
  const counted: EventLog = {
    ...log,
    follow(from, onRecord, opts) {
      const f = log.follow(from, onRecord, opts);
      open++;
      let stopped = false;
      const wrapped: Follower = {
        caughtUp: f.caughtUp,
        lastDelivered: () => f.lastDelivered(),
        stop: async () => {
          if (!stopped) open--;
          stopped = true;
          await f.stop();
        },
      };
      return wrapped;
    },
  };
  const projection = createJobProjection({ logger: silentLogger });
  const feeder = log.follow(1, (r) => projection.apply(r));
  await feeder.caughtUp;
  const writer = createJobWriter(log);
  const deps = (canSee: (e: JobEntry) => boolean = () => true, limits?: LiveStreamDeps['limits']): LiveStreamDeps => ({
    eventLog: counted, projection, canSee, clock: systemClock, ...(limits ? { limits } : {}),
  });
  return { log, projection, writer, deps, openFollowers: () => open, close: () => log.close() };
}

/** Reads `n` messages (or fewer if the stream ends), failing after `ms`. */
async function take(it: AsyncIterator<LiveMessage>, n: number, ms = 5000): Promise<LiveMessage[]> {
  const out: LiveMessage[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${out.length}/${n} messages`)), left))),
    ]).finally(() => clearTimeout(timer));
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('liveStream', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });
  const start = async () => {
    const s = await setup();
    cleanups.push(s.close);
    return s;
  };

  it('streams one job: a snapshot at the current sequence, then each event with the job as it became', async () => {
    const s = await start();
    const id = await s.writer.submit();
    const other = await s.writer.submit();
    await waitFor(() => s.projection.lastSeq() >= 2, { what: 'projection', timeoutMs: 5000, intervalMs: 2 });
    const ac = new AbortController();
    const it = liveStream(s.deps(), { jobId: id, signal: ac.signal })[Symbol.asyncIterator]();
    const [snap] = (await take(it, 1)) as [SnapshotMsg];
    assert.equal(snap.kind, 'snapshot');
    assert.equal(snap.seq, 2);
    assert.deepEqual(snap.jobs.map((j) => [j.id, j.state]), [[id, 'WAITING']]);

    await s.writer.stop(other); // another job: not in this stream
    const stopSeq = await s.writer.stop(id);
    const [ev] = (await take(it, 1)) as [EventMsg];
    assert.equal(ev.kind, 'event');
    assert.equal(ev.seq, stopSeq);
    assert.equal(ev.jobId, id);
    assert.equal(ev.subject, 'ev');
    assert.equal(ev.type, 'JobStopped');
    assert.equal(ev.job?.state, 'STOPPED');
    ac.abort();
    assert.deepEqual(await take(it, 1), []);
    assert.equal(s.openFollowers(), 0);
  });

  it('resumes after a sequence: no snapshot, every later event once and in order', async () => {
    const s = await start();
    const a = await s.writer.submit();
    const resumeAfter = await s.writer.command(a, { kind: 'claim', coordinatorId: 'c1', tasks: [] });
    await s.writer.command(a, { kind: 'startVerification' });
    await s.writer.command(a, { kind: 'finish', outcome: 'succeeded' });
    const ac = new AbortController();
    const it = liveStream(s.deps(), { jobId: a, afterSeq: resumeAfter, signal: ac.signal })[Symbol.asyncIterator]();
    const msgs = (await take(it, 2)) as EventMsg[];
    assert.deepEqual(msgs.map((m) => [m.kind, m.type]), [['event', 'VerificationStarted'], ['event', 'JobSucceeded']]);
    assert.ok(msgs[0]!.seq > resumeAfter && msgs[1]!.seq > msgs[0]!.seq);
    assert.equal(msgs[1]!.job?.state, 'SUCCEEDED');
    ac.abort();
    await take(it, 1);
    assert.equal(s.openFollowers(), 0);
  });

  it('all jobs: shows only the jobs the caller may see and skips worker records', async () => {
    const s = await start();
    const mine = await s.writer.submit({ owner: 'alice' });
    const theirs = await s.writer.submit({ owner: 'bob' });
    await waitFor(() => s.projection.lastSeq() >= 2, { what: 'projection', timeoutMs: 5000, intervalMs: 2 });
    const canSee = (e: JobEntry) => (e.snapshot.context as { owner: string }).owner === 'alice';
    const ac = new AbortController();
    const it = liveStream(s.deps(canSee), { signal: ac.signal })[Symbol.asyncIterator]();
    const [snap] = (await take(it, 1)) as [SnapshotMsg];
    assert.deepEqual(snap.jobs.map((j) => j.id), [mine]);
    assert.equal(snap.truncated, false);

    await s.writer.stop(theirs);
    await s.log.append(workerEvSubject('w1'), [
      { type: 'WorkerRegistered', data: { workerId: 'w1', pool: 'default', concurrency: 1, host: 'h', pid: 1 }, meta: { jobId: 'w1', epoch: 0, actor: 'worker:w1', at: new Date().toISOString(), v: 1 } },
    ]);
    const newer = await s.writer.submit({ owner: 'alice' });
    await s.writer.stop(mine);
    const msgs = (await take(it, 2)) as EventMsg[];
    assert.deepEqual(msgs.map((m) => [m.jobId, m.type]), [[newer, 'JobSubmitted'], [mine, 'JobStopped']]);
    ac.abort();
    await take(it, 1);
    assert.equal(s.openFollowers(), 0);
  });

  it('caps the all-jobs snapshot, keeping unfinished jobs before the newest finished ones', async () => {
    const s = await start();
    const done: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await s.writer.submit();
      await s.writer.stop(id);
      done.push(id);
    }
    const waiting = await s.writer.submit();
    await waitFor(() => s.projection.get(waiting) !== undefined, { what: 'projection', timeoutMs: 5000, intervalMs: 2 });
    const ac = new AbortController();
    const it = liveStream(s.deps(() => true, { snapshotMaxJobs: 3 }), { signal: ac.signal })[Symbol.asyncIterator]();
    const [snap] = (await take(it, 1)) as [SnapshotMsg];
    assert.equal(snap.truncated, true);
    // the waiting job, then the two newest finished ones, in submission order
    assert.deepEqual(snap.jobs.map((j) => j.id), [done[2], done[3], waiting]);
    ac.abort();
    await take(it, 1);
  });

  it('an owner-scoped snapshot picks the same jobs from that owner\'s index as a filter over all jobs', async () => {
    const s = await start();
    const alice = (e: JobEntry) => (e.snapshot.context as { owner: string }).owner === 'alice';
    const done: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await s.writer.submit({ owner: 'alice' });
      await s.writer.submit({ owner: 'bob' });
      await s.writer.stop(id);
      done.push(id);
    }
    const running = await s.writer.submit({ owner: 'alice' });
    await s.writer.command(running, { kind: 'claim', coordinatorId: 'c1', tasks: [] });
    const waiting = await s.writer.submit({ owner: 'alice' });
    await s.writer.submit({ owner: 'bob' });
    await waitFor(() => s.projection.get(waiting) !== undefined, { what: 'projection', timeoutMs: 5000, intervalMs: 2 });
    const snapshotOf = async (owner?: string) => {
      const deps = { ...s.deps(alice, { snapshotMaxJobs: 4 }), ...(owner !== undefined ? { owner } : {}) };
      const ac = new AbortController();
      const it = liveStream(deps, { signal: ac.signal })[Symbol.asyncIterator]();
      const [snap] = (await take(it, 1)) as [SnapshotMsg];
      ac.abort();
      await take(it, 1);
      return { ids: snap.jobs.map((j) => j.id), truncated: snap.truncated };
    };
    const scoped = await snapshotOf('alice');
    // the running and the waiting job, then the two newest finished ones, in submission order
    assert.deepEqual(scoped, { ids: [done[1], done[2], running, waiting], truncated: true });
    assert.deepEqual(await snapshotOf(), scoped);
  });

  it('ends with an error when the consumer falls too far behind, and stops following', async () => {
    const s = await start();
    const id = await s.writer.submit();
    await waitFor(() => s.projection.lastSeq() >= 1, { what: 'projection', timeoutMs: 5000, intervalMs: 2 });
    const ac = new AbortController();
    const it = liveStream(s.deps(() => true, { maxBuffered: 5 }), { jobId: id, signal: ac.signal })[Symbol.asyncIterator]();
    await take(it, 1); // snapshot; then do not read while events pile up
    for (let i = 0; i < 10; i++) {
      await s.writer.command(id, i % 2 === 0 ? { kind: 'claim', coordinatorId: 'c1', tasks: [] } : { kind: 'requeue', fromCoordinator: 'c1' });
    }
    await waitFor(() => s.projection.lastSeq() >= 11, { what: 'projection', timeoutMs: 5000, intervalMs: 2 });
    await assert.rejects(
      async () => {
        for (;;) if ((await it.next()).done) break;
      },
      (e) => isAppError(e, 'UNAVAILABLE'),
    );
    await waitFor(() => s.openFollowers() === 0, { what: 'follower stopped', timeoutMs: 5000, intervalMs: 2 });
  });

  it('stops the follower when the consumer leaves the loop or the signal was already aborted', async () => {
    const s = await start();
    const id = await s.writer.submit();
    const ac = new AbortController();
    for await (const m of liveStream(s.deps(), { jobId: id, signal: ac.signal })) {
      assert.equal(m.kind, 'snapshot');
      break;
    }
    assert.equal(s.openFollowers(), 0);
    ac.abort();
    assert.deepEqual(await take(liveStream(s.deps(), { jobId: id, signal: ac.signal })[Symbol.asyncIterator](), 1), []);
    assert.equal(s.openFollowers(), 0);
  });

  it('tells a stream when retention removes a job it shows: a one-job stream then ends, an all-jobs stream goes on', async () => {
    const s = await start();
    const mine = await s.writer.submit({ owner: 'alice' });
    const theirs = await s.writer.submit({ owner: 'bob' });
    const later = await s.writer.submit({ owner: 'alice' });
    await s.writer.stop(mine);
    await s.writer.stop(theirs);
    await waitFor(() => s.projection.get(theirs)?.state === 'STOPPED', { what: 'projection', timeoutMs: 5000, intervalMs: 2 });
    const alice = (e: JobEntry) => (e.snapshot.context as { owner: string }).owner === 'alice';
    const one = liveStream(s.deps(alice), { jobId: mine, signal: new AbortController().signal })[Symbol.asyncIterator]();
    const all = liveStream(s.deps(alice), { signal: new AbortController().signal })[Symbol.asyncIterator]();
    await take(one, 1);
    await take(all, 1);

    s.projection.remove(theirs); // not alice's: neither stream hears of it
    s.projection.remove(mine);
    assert.deepEqual(await take(one, 2), [{ kind: 'removed', jobId: mine }], 'the one-job stream ends after it');
    assert.deepEqual(await take(all, 1), [{ kind: 'removed', jobId: mine }]);
    await s.writer.stop(later);
    const [ev] = (await take(all, 1)) as [EventMsg];
    assert.deepEqual([ev.jobId, ev.type], [later, 'JobStopped']);
    await all.return?.();
    await waitFor(() => s.openFollowers() === 0, { what: 'followers stopped', timeoutMs: 5000, intervalMs: 2 });
  });
});
