/**
 * A projection restored from a checkpoint (engine/projections/projectionCheckpoint.ts) against one
 * that never stopped, over random valid histories (randomJobHistory.ts) with worker registrations,
 * webhook records and task records of unknown jobs mixed in. A follower applies a prefix of the
 * stream (live, or replayed from the store as it stood at some later time: with the gaps rollups and
 * purges leave), is checkpointed at a random seq, the text goes through JSON, and the restored
 * projection applies the rest of the store. It must then equal a projection that replayed the same
 * records from seq 1: every entry (view, context, state, seqs), every list and its order, the counts,
 * the waiting queue of every virtual cluster, the workers, strays, gaps and lastSeq. Also right at
 * the checkpoint, before the tail.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JOB_STATES, type Envelope, type JobState } from '../../actors/events.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { silentLogger } from '../../engine/log.ts';
import { entryView } from '../../engine/projections/jobEntry.ts';
import { createJobProjection, type JobProjection } from '../../engine/projections/jobProjection.ts';
import { readCheckpoint, restoreProjection, writeCheckpoint, type StreamIdentity } from '../../engine/projections/projectionCheckpoint.ts';
import { actionArb, History, META, type Action } from './randomJobHistory.ts';

const STREAM: StreamIdentity = { created: '2026-12-05T10:00:00.000Z', firstSeq: 1 };
const VCS = ['default', 'gpu', 'cpu'];
const OWNERS = ['ann', 'bob'];

/** Records the job histories do not make: workers, webhook deliveries, task records of jobs nobody knows. */
type Extra = { t: 'worker'; w: number; kind: 'WorkerRegistered' | 'WorkerDraining' | 'WorkerLeft' } | { t: 'hook'; job: number } | { t: 'strayTask'; n: number };

const extraArb: fc.Arbitrary<Extra> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('worker' as const), w: fc.nat(2), kind: fc.constantFrom('WorkerRegistered' as const, 'WorkerDraining' as const, 'WorkerLeft' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('hook' as const), job: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('strayTask' as const), n: fc.nat(3) }) },
);

function applyExtra(h: History, x: Extra): void {
  const meta = { jobId: '', epoch: 0, actor: 'prop', at: META.at, v: 1 };
  if (x.t === 'worker') {
    const workerId = `w${x.w}`;
    const data = x.kind === 'WorkerRegistered' ? { workerId, pool: 'p', concurrency: 2 + x.w, host: 'h', pid: 100 + h.appended.length } : {};
    h.append(`worker.${workerId}.ev`, [{ type: x.kind, data, meta } as Envelope]);
  } else if (x.t === 'hook') {
    h.append(`job.job-${x.job}.hook`, [{ type: 'WebhookDue', data: {}, meta } as Envelope]);
  } else {
    h.append(`job.gone-${x.n}.task`, [{ type: 'TaskSucceeded', data: {}, meta: { ...meta, jobId: `gone-${x.n}` } } as Envelope]);
  }
}

/**
 * JSON with keys sorted: a context key set to undefined is absent after a JSON round trip, and comes
 * back at the end of the key order when a later event sets it (the same context, another key order).
 */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

/** Everything a projection shows, as plain data (strays last: taking them empties them). */
function viewsOf(p: JobProjection, h: History): unknown {
  const ids = [...h.jobs.map((j) => j.e.jobId), 'job-unknown'];
  const entry = (id: string) => {
    const e = p.get(id);
    return e === undefined ? null : { view: entryView(e), state: e.state, value: e.snapshot.value, status: e.snapshot.status, context: canonical(e.snapshot.context), submitSeq: e.submitSeq, lastEvSeq: e.lastEvSeq };
  };
  const idsOf = (it: Iterable<{ id: string }>) => Array.from(it, (e) => e.id);
  const last = p.lastSeq();
  return {
    lastSeq: last,
    gapsSeen: p.gapsSeen,
    rejected: p.rejected,
    entries: ids.map(entry),
    bySubmitSeq: Array.from({ length: last + 2 }, (_, s) => p.getBySubmitSeq(s)?.id ?? null),
    all: idsOf(p.all()),
    newestFirst: idsOf(p.newestFirst()),
    newestBefore: [1, 3, Math.floor(last / 2), last].map((b) => idsOf(p.newestFirst(b))),
    byOwner: OWNERS.map((owner) => idsOf(p.newestFirst(undefined, { owner }))),
    byLabel: ['team=a', 'team=b', 'k=v'].map((label) => idsOf(p.newestFirst(undefined, { label }))),
    waiting: idsOf(p.waiting()),
    waitingByVc: [...VCS, 'none'].map((vc) => idsOf(p.waiting(vc))),
    active: idsOf(p.active()),
    terminal: idsOf(p.terminal()),
    counts: (JOB_STATES as readonly JobState[]).map((s) => p.countByState(s)),
    vcCounts: [...p.virtualClusterCounts()].map(([vc, c]) => [vc, { ...c }]),
    workers: [...p.workers()].map((w) => ({ ...w })),
    strays: p.takeStrays(),
  };
}

function replay(records: readonly LogRecord[], into = createJobProjection({ logger: silentLogger })): JobProjection {
  for (const r of records) into.apply(structuredClone(r));
  return into;
}

interface Counts { runs: number; restoredJobs: number; waitingOrders: number; gaps: number; workers: number }

function check(jobCount: number, steps: (Action | Extra)[], cut: number, storedAt: number, n: Counts): void {
  const h = new History(jobCount, (k) => ({
    priority: k % 3 === 0 ? 5 : 0,
    owner: OWNERS[k % OWNERS.length]!,
    virtualCluster: VCS[k % VCS.length]!,
    labels: k % 2 === 0 ? { team: 'a' } : ({ team: 'b', k: 'v' } as Record<string, string>),
  }));
  for (const s of steps) {
    if (s.t === 'worker' || s.t === 'hook' || s.t === 'strayTask') applyExtra(h, s);
    else h.apply(s);
  }
  const total = h.appended.length;
  const at = cut % (total + 1); // 0: a checkpoint of an empty projection
  // The prefix the checkpointing process applied: live (every record), or a replay of the store at a later time.
  const storeTime = storedAt === 0 ? undefined : at + ((storedAt - 1) % (total - at + 1));
  const prefix = storeTime === undefined ? h.appended.slice(0, at) : h.storedUpTo(storeTime).filter((r) => r.seq <= at);
  const tail = h.storedUpTo(total).filter((r) => r.seq > at);

  const before = replay(prefix);
  // a checkpoint covers the records applied: a prefix whose last records were deleted ends below `at`
  const text = writeCheckpoint(before, STREAM);
  const read = readCheckpoint(JSON.parse(JSON.stringify(text)) as string, { ...STREAM, lastSeq: total });
  assert.ok(read.ok, read.ok ? '' : `${read.reason}: ${read.detail}`);
  assert.equal(read.header.seq, before.lastSeq());
  const restored = restoreProjection(read.state, { logger: silentLogger });
  const again = readCheckpoint(text, { ...STREAM, lastSeq: total });
  assert.ok(again.ok);
  assert.deepEqual(viewsOf(restoreProjection(again.state, { logger: silentLogger }), h), viewsOf(replay(prefix), h), `at the checkpoint (seq ${at})`);

  replay(tail, restored);
  const full = replay([...prefix, ...tail]);
  assert.deepEqual(viewsOf(restored, h), viewsOf(full, h), `checkpoint at seq ${at} of ${total}, then the tail`);
  // and the records once more (a follower restarted from an older seq): nothing changes
  replay(tail, restored);
  assert.equal(restored.lastSeq(), full.lastSeq());

  n.runs++;
  n.restoredJobs += read.state.jobs.length;
  if (read.state.waiting.length > 1) n.waitingOrders++;
  if (restored.gapsSeen > 0) n.gaps++;
  if (read.state.workers.length > 0) n.workers++;
}

describe('projection checkpoint against a full replay', () => {
  it('random histories: checkpoint at a random seq, through JSON, restore, follow the rest = replay from seq 1', () => {
    const n: Counts = { runs: 0, restoredJobs: 0, waitingOrders: 0, gaps: 0, workers: 0 };
    const stepArb = (jobs: number) => fc.oneof({ weight: 8, arbitrary: actionArb(jobs) as fc.Arbitrary<Action | Extra> }, { weight: 1, arbitrary: extraArb });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(stepArb(6), { maxLength: 120, size: 'max' }), fc.nat(), fc.nat(3), (jobs, steps, cut, storedAt) => {
        const fit = steps.map((s) => ('job' in s && s.t !== 'hook' ? { ...s, job: s.job % jobs } : s));
        check(jobs, fit, cut, storedAt, n);
      }),
      { numRuns: 300 },
    );
    console.log(`checkpoint property: ${JSON.stringify(n)}`);
    // the generator must reach the cases that matter
    assert.ok(n.restoredJobs > n.runs, 'checkpoints hold jobs');
    assert.ok(n.waitingOrders > 0, 'never several jobs waiting at a checkpoint');
    assert.ok(n.gaps > 0, 'never a gap');
    assert.ok(n.workers > 0, 'never a worker');
  });
});
