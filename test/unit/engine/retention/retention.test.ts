import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toJobView } from '../../../../actors/jobFold.ts';
import { AppError } from '../../../../engine/errors.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createJobProjection, type JobProjection } from '../../../../engine/projections/jobProjection.ts';
import { createRetention, type RetentionConfig, type RetentionOptions } from '../../../../engine/retention/retention.ts';
import type { EventLog } from '../../../../engine/eventlog/eventLog.ts';
import { jobEvSubject, jobHookSubject, jobTaskSubject, RETENTION_REMOVED_SUBJECT } from '../../../../engine/subjects.ts';
import { appendJobHistory, type JobEnd } from './jobHistory.fixture.ts';
import type { Clock } from '../../../../engine/clock.ts';
import { createFakeClock, type FakeClock } from '../../../helpers/fakeClock.ts';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const MIN = 60_000;

/** Retention off unless a test turns a knob on. */
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
  /** The projection of a process; `newProcess()` adds another one following the same log. */
  projection: JobProjection;
  newProcess(): Promise<JobProjection>;
  /** Resolves once every projection applied the whole log. */
  sync(): Promise<void>;
  retention(config: Partial<RetentionConfig>, o?: Partial<RetentionOptions>): ReturnType<typeof createRetention>;
  close(): Promise<void>;
}

async function world(): Promise<World> {
  const log = createMemoryEventLog();
  // wall time moves only when the test says so; timers are real (projection.waitFor, start())
  const clock = createFakeClock({ wallMs: T0, timers: 'real' });
  const projections: JobProjection[] = [];
  const followers: { stop(): Promise<void> }[] = [];
  const newProcess = async () => {
    const p = createJobProjection({ logger: silentLogger, clock });
    const f = log.follow(1, (r) => p.apply(r));
    followers.push(f);
    projections.push(p);
    await f.caughtUp;
    return p;
  };
  const projection = await newProcess();
  return {
    log,
    clock,
    projection,
    newProcess,
    async sync() {
      const last = await log.lastSeq();
      for (const p of projections) assert.ok(await p.waitFor(last, 2_000), 'projection caught up');
    },
    retention: (config, o = {}) =>
      createRetention({ eventLog: log, projection, config: { ...OFF, ...config }, clock, logger: silentLogger, writer: true, ...o }),
    async close() {
      await Promise.all(followers.map((f) => f.stop()));
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

/** Appends a job's history with times from the world's clock; returns its id once every projection has it. */
async function makeJob(w: World, end: JobEnd, type = 'noop'): Promise<string> {
  const id = await appendJobHistory(w.log, () => w.clock.now(), end, type);
  await w.sync();
  return id;
}

const subjectsOf = (id: string) => [jobEvSubject(id), jobTaskSubject(id), jobHookSubject(id)];
const recordCounts = async (w: World, id: string) => Promise.all(subjectsOf(id).map(async (s) => (await w.log.readSubject(s)).length));

describe('retention: compaction', () => {
  it('compacts a terminal job once compactAfterMs passed: one JobCompacted on .ev, no .task, same view', withWorld(async (w) => {
    const id = await makeJob(w, 'succeeded');
    const before = toJobView(w.projection.get(id)!.snapshot);
    assert.equal(before.compacted, false);
    const r = w.retention({ compactAfterMs: 10 * MIN });
    await w.clock.advance(10 * MIN - 1);
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 0, strays: 0 }, 'not yet');
    assert.deepEqual(await recordCounts(w, id), [4, 2, 1]);
    await w.clock.advance(1);
    assert.deepEqual(await r.runOnce(), { compacted: 1, removed: 0, strays: 0 });
    await w.sync();
    const ev = await w.log.readSubject(jobEvSubject(id));
    assert.deepEqual(ev.map((x) => x.events.map((e) => e.type)), [['JobCompacted']]);
    assert.deepEqual(await recordCounts(w, id), [1, 0, 1], 'the delivery log stays until the job is removed');
    // get still answers with the final state and progress
    const entry = w.projection.get(id)!;
    assert.equal(entry.lastEvSeq, ev[0]!.seq);
    const after = toJobView(entry.snapshot);
    assert.deepEqual(after, { ...before, compacted: true });
    assert.equal(after.state, 'SUCCEEDED');
    assert.equal(after.progress.itemsDone, 6);
    assert.equal(after.progress.itemsFailed, 2);
    // idempotent: nothing more to do
    await w.clock.advance(MIN);
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 0, strays: 0 });
    assert.equal((await w.log.readSubject(jobEvSubject(id))).length, 1);
  }));

  it('a process replaying the stream after compaction rebuilds the same terminal view', withWorld(async (w) => {
    const ids = [await makeJob(w, 'succeeded'), await makeJob(w, 'stopped'), await makeJob(w, 'failed')];
    await w.clock.advance(MIN);
    assert.deepEqual(await w.retention({ compactAfterMs: 0 }).runOnce(), { compacted: 3, removed: 0, strays: 0 });
    await w.sync();
    const fresh = await w.newProcess();
    for (const id of ids) {
      assert.deepEqual(toJobView(fresh.get(id)!.snapshot), toJobView(w.projection.get(id)!.snapshot));
      assert.equal(fresh.get(id)!.lastEvSeq, w.projection.get(id)!.lastEvSeq);
      assert.equal(fresh.get(id)!.submitSeq, w.projection.get(id)!.submitSeq, 'same place in submission order');
    }
    assert.deepEqual([...fresh.terminal()].map((e) => e.id), ids);
    assert.equal(fresh.rejected, 0);
  }));

  it('compacts only on writers; a non-writer leaves the stream alone', withWorld(async (w) => {
    const id = await makeJob(w, 'stopped');
    await w.clock.advance(MIN);
    assert.deepEqual(await w.retention({ compactAfterMs: 0 }, { writer: false }).runOnce(), { compacted: 0, removed: 0, strays: 0 });
    assert.deepEqual(await recordCounts(w, id), [2, 0, 0]);
  }));

  it('two writers racing: CAS makes exactly one compaction', withWorld(async (w) => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => makeJob(w, 'stopped')));
    const [a, b] = [w.retention({ compactAfterMs: 0 }), w.retention({ compactAfterMs: 0 })];
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    assert.equal(ra.compacted + rb.compacted, 5);
    await w.sync();
    for (const id of ids) assert.deepEqual((await w.log.readSubject(jobEvSubject(id))).map((x) => x.events[0]!.type), ['JobCompacted']);
  }));

  it('an unavailable store cuts the pass short; the next pass does the work', withWorld(async (w) => {
    const id = await makeJob(w, 'stopped');
    const r = w.retention({ compactAfterMs: 0 });
    w.log.failNextAppend(new AppError('UNAVAILABLE', 'down'));
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 0, strays: 0 });
    assert.equal((await w.log.readSubject(jobEvSubject(id))).length, 2);
    await w.sync();
    assert.deepEqual(await r.runOnce(), { compacted: 1, removed: 0, strays: 0 });
  }));
});

describe('retention: removal', () => {
  it('removes a job by age on every process; only the writer purges its subjects', withWorld(async (w) => {
    const id = await makeJob(w, 'succeeded');
    const keep = await makeJob(w, 'waiting');
    const apiOnly = await w.newProcess();
    const cfg = { retentionMaxAgeMs: 60 * MIN };
    const writer = w.retention(cfg);
    const reader = createRetention({ eventLog: w.log, projection: apiOnly, config: { ...OFF, ...cfg }, clock: w.clock, logger: silentLogger, writer: false });
    await w.clock.advance(60 * MIN - 1);
    assert.deepEqual(await writer.runOnce(), { compacted: 0, removed: 0, strays: 0 });
    await w.clock.advance(1);
    assert.deepEqual(await reader.runOnce(), { compacted: 0, removed: 1, strays: 0 });
    assert.equal(apiOnly.get(id), undefined);
    assert.deepEqual(await recordCounts(w, id), [4, 2, 1], 'a non-writer does not purge');
    assert.deepEqual(await writer.runOnce(), { compacted: 0, removed: 1, strays: 0 });
    assert.equal(w.projection.get(id), undefined);
    assert.deepEqual(await recordCounts(w, id), [0, 0, 0]);
    assert.ok(w.projection.get(keep) && apiOnly.get(keep), 'a non-terminal job stays');
    // later records on other jobs flow as before, and a fresh replay does not know the job
    await makeJob(w, 'stopped');
    const fresh = await w.newProcess();
    assert.equal(fresh.get(id), undefined);
    assert.ok(fresh.get(keep));
  }));

  it('after purging a job, the writer cleans up what it left outside the stream (afterRemove: its output, its type\'s documents); a failure there is logged, the removal stands', withWorld(async (w) => {
    const a = await makeJob(w, 'succeeded');
    const b = await makeJob(w, 'failed');
    const cleaned: { id: string; type: string }[] = [];
    const cfg = { retentionMaxAgeMs: 60 * MIN };
    const reader = createRetention({ eventLog: w.log, projection: await w.newProcess(), config: { ...OFF, ...cfg }, clock: w.clock, logger: silentLogger, writer: false, afterRemove: async (j) => void cleaned.push({ id: j.id, type: j.type }) });
    const writer = w.retention(cfg, {
      afterRemove: async (j) => {
        cleaned.push({ id: j.id, type: j.type });
        if (j.id === b) throw new Error('document store away');
      },
    });
    await w.clock.advance(60 * MIN);
    assert.equal((await reader.runOnce()).removed, 2);
    assert.equal(cleaned.length, 0, 'only the writer, which purges, cleans up');
    assert.equal((await writer.runOnce()).removed, 2);
    assert.deepEqual(cleaned.map((c) => c.id).sort(), [a, b].sort());
    assert.ok(cleaned.every((c) => c.type === 'noop'));
    assert.deepEqual([await recordCounts(w, a), await recordCounts(w, b)], [[0, 0, 0], [0, 0, 0]]);
  }));

  it('announces a removal before its purges (JobsRemoved pending), and closes it with a second notice once they are done; each says which notices it makes up for', withWorld(async (w) => {
    const id = await makeJob(w, 'succeeded');
    const ops: string[] = [];
    const spy: EventLog = {
      ...w.log,
      append: async (subject, events, o) => {
        if (subject === RETENTION_REMOVED_SUBJECT) ops.push(`notice ${JSON.stringify(events[0]!.data)}`);
        return w.log.append(subject, events, o);
      },
      purge: async (subject) => {
        ops.push(`purge ${subject}`);
        return w.log.purge(subject);
      },
    };
    await w.clock.advance(60 * MIN);
    assert.deepEqual(await w.retention({ retentionMaxAgeMs: 60 * MIN }, { eventLog: spy }).runOnce(), { compacted: 0, removed: 1, strays: 0 });
    const run = JSON.stringify([{ jobId: id, submitSeq: 1 }]);
    assert.deepEqual(ops, [
      `purge ${jobTaskSubject(id)}`, // the compaction a removal makes first: once compacted, no recover can re-open the job
      `notice {"jobs":${run},"pending":true,"sinceSeq":0}`, // the first notice: nothing before it to make up for
      ...subjectsOf(id).map((s) => `purge ${s}`),
      `notice {"jobs":${run},"sinceSeq":0}`, // names the runs of the pending notice it rolls up
    ]);
    const [closed] = await w.log.readSubject(RETENTION_REMOVED_SUBJECT);
    assert.equal((await w.log.readSubject(RETENTION_REMOVED_SUBJECT)).length, 1, 'rolled up: the newest notice only');
    // the next removal does not name the closed notice's runs: a reader that missed it missed them
    await makeJob(w, 'stopped');
    await w.clock.advance(60 * MIN);
    ops.length = 0;
    assert.equal((await w.retention({ retentionMaxAgeMs: 60 * MIN }, { eventLog: spy }).runOnce()).removed, 1);
    const since = ops.filter((o) => o.startsWith('notice')).map((o) => (JSON.parse(o.slice('notice '.length)) as { sinceSeq?: number }).sinceSeq);
    assert.deepEqual(since, [closed!.seq, closed!.seq]);
  }));

  it('a writer that finds a pending notice (its writer died midway) carries its jobs into its own and purges them too', withWorld(async (w) => {
    const dead = await makeJob(w, 'succeeded');
    const mine = await makeJob(w, 'failed');
    await w.clock.advance(MIN);
    assert.equal((await w.retention({ compactAfterMs: MIN }).runOnce()).compacted, 2);
    await w.sync();
    // the dead writer's notice: the job is compacted and announced, not yet purged
    const deadRun = { jobId: dead, submitSeq: w.projection.get(dead)!.submitSeq };
    const mineRun = { jobId: mine, submitSeq: w.projection.get(mine)!.submitSeq };
    const meta = { jobId: '', epoch: 0, actor: 'coordinator:dead', at: new Date(w.clock.now()).toISOString(), v: 1 };
    const deadSeq = (await w.log.append(RETENTION_REMOVED_SUBJECT, [{ type: 'JobsRemoved', data: { jobs: [deadRun], pending: true }, meta }], { rollup: true })).seq;
    await w.sync();
    assert.equal(w.projection.get(dead)?.state, undefined, 'every process forgot it on the notice');
    assert.deepEqual(await recordCounts(w, dead), [1, 0, 1], 'still stored');
    await w.clock.advance(60 * MIN);
    assert.equal((await w.retention({ retentionMaxAgeMs: 60 * MIN }).runOnce()).removed, 1);
    assert.deepEqual([await recordCounts(w, dead), await recordCounts(w, mine)], [[0, 0, 0], [0, 0, 0]]);
    const [notice] = await w.log.readSubject(RETENTION_REMOVED_SUBJECT);
    const { sinceSeq, ...closed } = notice?.events[0]?.data as { sinceSeq?: number };
    assert.deepEqual(closed, { jobs: [mineRun, deadRun] }, 'closed, naming both');
    // it names every run of the dead writer's notice, which has no sinceSeq (as from an older writer):
    // it makes up for that notice, not for what came before it
    assert.equal(sinceSeq, deadSeq);
  }));

  it('purges the task and delivery records a crash between purges left behind, and nothing of a live job', withWorld(async (w) => {
    const crashed = await makeJob(w, 'succeeded');
    const compacted = await makeJob(w, 'succeeded');
    await w.clock.advance(MIN);
    assert.deepEqual(await w.retention({ compactAfterMs: MIN }).runOnce(), { compacted: 2, removed: 0, strays: 0 });
    // a removal that died after purging .ev: the job is gone, its .hook (and any .task) is not
    await w.log.purge(jobEvSubject(crashed));
    assert.deepEqual(await recordCounts(w, crashed), [0, 0, 1]);
    // A restarted process replays: both jobs' delivery logs come before anything it knows them by
    // (the compacted job's JobCompacted is later in the stream).
    const fresh = await w.newProcess();
    const r = createRetention({ eventLog: w.log, projection: fresh, config: { ...OFF }, clock: w.clock, logger: silentLogger, writer: true });
    const reported: unknown[] = [];
    r.onPass((x) => reported.push(x));
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 0, strays: 1 });
    assert.deepEqual(reported, [{ compacted: 0, removed: 0, strays: 1 }], 'each pass is reported (metrics)');
    assert.deepEqual(await recordCounts(w, crashed), [0, 0, 0]);
    assert.deepEqual(await recordCounts(w, compacted), [1, 0, 1], 'a live job keeps its delivery log');
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 0, strays: 0 }, 'nothing left');
  }));

  it('keeps the newest maxCount terminal jobs of each type', withWorld(async (w) => {
    const noop: string[] = [];
    const load: string[] = [];
    for (let i = 0; i < 5; i++) {
      noop.push(await makeJob(w, 'stopped', 'noop'));
      if (i < 3) load.push(await makeJob(w, 'failed', 'load'));
      await w.clock.advance(1_000);
    }
    const running = await makeJob(w, 'running', 'noop');
    assert.deepEqual(await w.retention({ retentionMaxCount: 2 }).runOnce(), { compacted: 0, removed: 4, strays: 0 });
    const left = (ids: string[]) => ids.filter((id) => w.projection.get(id) !== undefined);
    assert.deepEqual(left(noop), noop.slice(3));
    assert.deepEqual(left(load), load.slice(1));
    assert.ok(w.projection.get(running));
    assert.deepEqual(await recordCounts(w, noop[0]!), [0, 0, 0]);
  }));

  it('a per-type rule overrides the global settings', withWorld(async (w) => {
    const noop = await makeJob(w, 'stopped', 'noop');
    const load = await makeJob(w, 'stopped', 'load');
    const sleep = await makeJob(w, 'stopped', 'sleep');
    const cfg = {
      compactAfterMs: 5 * MIN,
      retentionMaxAgeMs: 24 * 60 * MIN,
      retentionByType: JSON.stringify({ noop: { maxAgeMs: 2 * MIN }, load: { compactAfterMs: 0 }, sleep: { maxCount: 1 } }),
    };
    const r = w.retention(cfg);
    await w.clock.advance(MIN);
    assert.deepEqual(await r.runOnce(), { compacted: 1, removed: 0, strays: 0 }, 'load compacts at once; the others wait');
    await w.sync();
    assert.equal(w.projection.get(load)!.snapshot.context.compacted, true);
    await w.clock.advance(MIN);
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 1, strays: 0 }, 'noop is removed at 2 min, before its compaction');
    assert.equal(w.projection.get(noop), undefined);
    await makeJob(w, 'stopped', 'sleep'); // sleep keeps one: the older goes
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 1, strays: 0 });
    assert.equal(w.projection.get(sleep), undefined);
    assert.ok(w.projection.get(load));
  }));

  it('never touches non-terminal jobs, however old', withWorld(async (w) => {
    const ids = [await makeJob(w, 'waiting'), await makeJob(w, 'running')];
    const counts = await Promise.all(ids.map((id) => recordCounts(w, id)));
    await w.clock.advance(365 * 24 * 60 * MIN);
    const r = w.retention({ compactAfterMs: 0, retentionMaxAgeMs: 1, retentionMaxCount: 1 });
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 0, strays: 0 });
    for (const id of ids) assert.ok(w.projection.get(id));
    assert.deepEqual(await Promise.all(ids.map((id) => recordCounts(w, id))), counts);
  }));

  it('does a bounded amount of work per pass', withWorld(async (w) => {
    for (let i = 0; i < 7; i++) await makeJob(w, 'stopped');
    await w.clock.advance(MIN);
    const r = w.retention({ retentionMaxAgeMs: 1 }, { maxJobsPerPass: 3 });
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 3, strays: 0 });
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 3, strays: 0 });
    assert.deepEqual(await r.runOnce(), { compacted: 0, removed: 1, strays: 0 });
  }));

  it('start() runs passes every retentionIntervalMs until stop()', withWorld(async (w) => {
    const id = await makeJob(w, 'stopped');
    await w.clock.advance(MIN);
    // the retention's own timers, to see that stop() leaves none armed
    const armed = new Set<unknown>();
    const clock: Clock = {
      ...w.clock,
      setTimeout(fn, ms) {
        const h: NodeJS.Timeout = setTimeout(() => {
          armed.delete(h);
          fn();
        }, ms);
        armed.add(h);
        return h;
      },
      clearTimeout(h) {
        armed.delete(h);
        clearTimeout(h as NodeJS.Timeout);
      },
    };
    const r = w.retention({ retentionMaxAgeMs: 1, retentionIntervalMs: 10 }, { clock });
    r.start();
    try {
      const deadline = Date.now() + 2_000;
      while (w.projection.get(id) !== undefined && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      assert.equal(w.projection.get(id), undefined);
    } finally {
      r.stop();
    }
    await r.runOnce(); // joins a pass that may still run; it must not re-arm the loop
    assert.equal(armed.size, 0, 'no pass is scheduled after stop()');
  }));
});
