/**
 * The retention of a worker-only process: its slim job view forgets removed jobs on their notices,
 * and a pass forgets those of a notice the view missed (rolled up by a newer one before it read it).
 * The view lags here by following the log in steps: records deleted between two steps are never
 * delivered, as with a JetStream consumer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../../../engine/errors.ts';
import type { EventLog } from '../../../../engine/eventlog/eventLog.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createJobProjection, type JobProjection } from '../../../../engine/projections/jobProjection.ts';
import { createSlimJobView, SLIM_VIEW_SUBJECTS, type SlimJobView } from '../../../../engine/projections/slimJobView.ts';
import { createRetention, type RetentionConfig } from '../../../../engine/retention/retention.ts';
import { createSlimViewRetention } from '../../../../engine/retention/slimViewRetention.ts';
import { createFakeClock, type FakeClock } from '../../../helpers/fakeClock.ts';
import { appendJobHistory, type JobEnd } from './jobHistory.fixture.ts';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const MIN = 60_000;
const NOTHING = { compacted: 0, removed: 0, strays: 0 };

/** Retention off but for the age rule each writer pass gives. */
const OFF: RetentionConfig = {
  compactAfterMs: 365 * 24 * 3600_000,
  retentionMaxAgeMs: 0,
  retentionMaxCount: 0,
  retentionByType: '{}',
  retentionIntervalMs: 60_000,
};

interface World {
  log: MemoryEventLog;
  clock: FakeClock;
  /** A coordinator's projection (its retention writes), kept up to date. */
  projection: JobProjection;
  job(end: JobEnd): Promise<{ id: string; submitSeq: number }>;
  /** One pass of a writer that removes every terminal job older than `maxAgeMs`. */
  removeOlderThan(maxAgeMs: number): Promise<number>;
  close(): Promise<void>;
}

async function world(): Promise<World> {
  const log = createMemoryEventLog();
  const clock = createFakeClock({ wallMs: T0, timers: 'real' });
  const projection = createJobProjection({ logger: silentLogger, clock });
  const follower = log.follow(1, (r) => projection.apply(r));
  await follower.caughtUp;
  const sync = async () => assert.ok(await projection.waitFor(await log.lastSeq(), 2_000), 'the writer caught up');
  return {
    log,
    clock,
    projection,
    async job(end) {
      const id = await appendJobHistory(log, () => clock.now(), end);
      await sync();
      return { id, submitSeq: projection.get(id)!.submitSeq };
    },
    async removeOlderThan(maxAgeMs) {
      await sync();
      const writer = createRetention({ eventLog: log, projection, config: { ...OFF, retentionMaxAgeMs: maxAgeMs }, clock, logger: silentLogger, writer: true });
      const { removed } = await writer.runOnce();
      await sync();
      return removed;
    },
    async close() {
      await follower.stop();
      await log.close();
    },
  };
}

const withWorld = (fn: (w: World) => Promise<void>) => async () => {
  const w = await world();
  try {
    await fn(w);
  } finally {
    await w.close();
  }
};

/** Lets `view` read what the log holds now (from where it stopped), as a worker-only process follows it. */
async function catchUp(log: EventLog, view: SlimJobView): Promise<void> {
  const f = log.follow(view.lastSeq() + 1, (r) => view.apply(r), { filterSubjects: SLIM_VIEW_SUBJECTS });
  await f.caughtUp;
  await f.stop();
}

/** The log, with every read the reconcile makes written down. */
function spied(log: EventLog, reads: string[]): EventLog {
  return {
    ...log,
    listSubjects: async (filter) => (reads.push(`list ${filter}`), log.listSubjects(filter)),
    readSubject: async (subject) => (reads.push(`read ${subject}`), log.readSubject(subject)),
    lastSeq: async () => (reads.push('lastSeq'), log.lastSeq()),
  };
}

/** A view that read jobs a and b, then lagged while a writer removed a, then b (b's notice rolled up a's). */
async function laggingView(w: World) {
  const a = await w.job('stopped');
  await w.clock.advance(10 * MIN);
  const b = await w.job('succeeded');
  const kept = await w.job('running');
  const view = createSlimJobView();
  await catchUp(w.log, view);
  await w.clock.advance(10 * MIN);
  assert.equal(await w.removeOlderThan(15 * MIN), 1, 'a removed');
  assert.equal(await w.removeOlderThan(5 * MIN), 1, 'then b');
  await catchUp(w.log, view);
  return { view, a, b, kept };
}

describe('retention of a worker-only process (slim job view)', () => {
  it('forgets the jobs of a removal notice rolled up before the view read it; the store\'s jobs stay', withWorld(async (w) => {
    const { view, a, b, kept } = await laggingView(w);
    assert.equal(view.get(b.id), undefined, 'b: forgotten on the notice the view read');
    assert.ok(view.get(a.id), 'a: its notice was rolled up unread');
    assert.deepEqual(view.missedRemovals().notices, 1);
    const reads: string[] = [];
    const retention = createSlimViewRetention({ view, eventLog: spied(w.log, reads), clock: w.clock, logger: silentLogger, intervalMs: MIN });
    assert.deepEqual(await retention.runOnce(), { ...NOTHING, removed: 1 });
    assert.equal(view.get(a.id), undefined);
    assert.ok(view.get(kept.id), 'a job the store still holds stays');
    assert.deepEqual(reads, ['list job.*.ev', 'lastSeq', `read job.${a.id}.ev`]);
    // reconciled once: the next pass reads nothing
    assert.deepEqual(await retention.runOnce(), NOTHING);
    assert.equal(reads.length, 3);
  }));

  it('a view that missed no notice, or whose missed notices can name none of its jobs, reads nothing from the store', withWorld(async (w) => {
    const a = await w.job('stopped');
    const view = createSlimJobView();
    await catchUp(w.log, view);
    await w.clock.advance(10 * MIN);
    assert.equal(await w.removeOlderThan(5 * MIN), 1);
    await catchUp(w.log, view);
    assert.equal(view.get(a.id), undefined);
    // the view read the closing notice only: it names the runs of the pending one it rolled up
    assert.equal(view.missedRemovals().notices, 0);
    const reads: string[] = [];
    const pass = (v: SlimJobView) => createSlimViewRetention({ view: v, eventLog: spied(w.log, reads), clock: w.clock, logger: silentLogger, intervalMs: MIN }).runOnce();
    assert.deepEqual(await pass(view), NOTHING);
    // a process started after a second removal replays its notice, which does not name a's: a miss,
    // but every job that process holds was submitted after a's notice
    await w.job('stopped');
    await w.clock.advance(10 * MIN);
    const later = await w.job('stopped');
    assert.equal(await w.removeOlderThan(5 * MIN), 1);
    const fresh = createSlimJobView();
    await catchUp(w.log, fresh);
    assert.equal(fresh.missedRemovals().notices, 1);
    assert.deepEqual(await pass(fresh), NOTHING);
    assert.ok(fresh.get(later.id));
    assert.deepEqual(reads, []);
  }));

  it('an unavailable store cuts the pass short; the next pass reconciles', withWorld(async (w) => {
    const { view, a } = await laggingView(w);
    let down = true;
    const eventLog: EventLog = {
      ...w.log,
      listSubjects: async (filter) => {
        if (down) throw new AppError('UNAVAILABLE', 'no responders');
        return w.log.listSubjects(filter);
      },
    };
    const retention = createSlimViewRetention({ view, eventLog, clock: w.clock, logger: silentLogger, intervalMs: MIN });
    assert.deepEqual(await retention.runOnce(), NOTHING);
    assert.ok(view.get(a.id));
    down = false;
    assert.deepEqual(await retention.runOnce(), { ...NOTHING, removed: 1 });
    assert.equal(view.get(a.id), undefined);
  }));

  it('start() runs a pass every intervalMs until stop()', withWorld(async (w) => {
    const { view, a } = await laggingView(w);
    const clock = createFakeClock({ wallMs: T0 });
    const retention = createSlimViewRetention({ view, eventLog: w.log, clock, logger: silentLogger, intervalMs: MIN });
    const passes: number[] = [];
    retention.onPass((r) => passes.push(r.removed));
    retention.start();
    await clock.advance(MIN - 1);
    assert.deepEqual(passes, []);
    await clock.advance(1);
    for (let i = 0; i < 50 && passes.length === 0; i++) await new Promise((res) => setImmediate(res));
    assert.deepEqual(passes, [1]);
    assert.equal(view.get(a.id), undefined);
    retention.stop();
    await clock.advance(10 * MIN);
    assert.equal(passes.length, 1);
    assert.equal(clock.pending(), 0);
  }));
});
