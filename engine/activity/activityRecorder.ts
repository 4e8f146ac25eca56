/**
 * What the service did over the last minutes, for the dashboard's overview (`GET /overview`): jobs
 * finished and task outcomes per interval, queue depth (WAITING) and jobs holding a slot at the end of
 * each interval, and the queue waits of the jobs first claimed in the window.
 *
 * Per process and in memory, from the records this process's projection applies: a display aid, not
 * state. Counters are put in the interval of the event's own time (`meta.at`, the writer's clock), so
 * the records a start replays fill the window they happened in (not a burst at the start), and older
 * ones are ignored. The two gauges are only known from when this process started following: intervals
 * before that are `null`. No timer: a gauge changes only when a record is applied, so the value last
 * set in an interval is the value at its end, and an interval without records carries the one before.
 */
import { JOB_STATES, type JobState } from '../../actors/events.ts';
import type { Clock } from '../clock.ts';
import type { JobProjection } from '../projections/jobProjection.ts';

/** Length of one interval of the series. @defaultValue 10 s */
export const DEFAULT_ACTIVITY_BUCKET_MS = 10_000;
/** How far back the series reaches. @defaultValue 15 min */
export const DEFAULT_ACTIVITY_WINDOW_MS = 15 * 60_000;
/** Queue waits kept for the percentiles (the newest). */
export const MAX_WAIT_SAMPLES = 10_000;

/** One interval of the series: counters of what happened in it, gauges at its end. */
export interface ActivitySample {
  /** Start of the interval (ISO-8601). */
  at: string;
  /** WAITING jobs at the end of the interval; null before this process followed the stream. */
  waiting: number | null;
  /** RUNNING, PAUSED and VERIFYING jobs at the end of the interval; null as `waiting`. */
  active: number | null;
  succeeded: number;
  failed: number;
  stopped: number;
  tasksSucceeded: number;
  tasksFailed: number;
}

/** Queue waits (submission to first claim) of the jobs first claimed in the window. */
export interface WaitStats {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** The recorder's answer. */
export interface ActivityView {
  at: string;
  bucketMs: number;
  windowMs: number;
  /** Jobs by state, service-wide, as this process's projection holds them now. */
  counts: Record<JobState, number>;
  /** Oldest first, one per interval, the current (unfinished) interval last. */
  series: ActivitySample[];
  /** null when no job was first claimed in the window. */
  waits: WaitStats | null;
  /** The longest a job now WAITING has waited (ms since its submission; 0 when none waits). */
  oldestWaitingMs: number;
}

export interface ActivityRecorderOptions {
  projection: JobProjection;
  clock: Pick<Clock, 'now'>;
  /** @defaultValue {@link DEFAULT_ACTIVITY_BUCKET_MS} */
  bucketMs?: number;
  /** @defaultValue {@link DEFAULT_ACTIVITY_WINDOW_MS} */
  windowMs?: number;
}

export interface ActivityRecorder {
  view(): ActivityView;
  /** Stops listening to the projection. */
  close(): void;
}

interface Bucket {
  waiting?: number;
  active?: number;
  succeeded: number;
  failed: number;
  stopped: number;
  tasksSucceeded: number;
  tasksFailed: number;
}

const TERMINAL_COUNTER = { JobSucceeded: 'succeeded', JobFailed: 'failed', JobStopped: 'stopped' } as const;

/** Listens to `projection` from now on; read with `view()`. */
export function createActivityRecorder(opts: ActivityRecorderOptions): ActivityRecorder {
  const { projection, clock } = opts;
  const bucketMs = opts.bucketMs ?? DEFAULT_ACTIVITY_BUCKET_MS;
  const windowMs = opts.windowMs ?? DEFAULT_ACTIVITY_WINDOW_MS;
  const buckets = new Map<number, Bucket>();
  /** Newest last; pruned from the front. */
  const waits: { at: number; ms: number }[] = [];
  /** The gauges' last values, carried into intervals without records. */
  let lastGauges: { index: number; waiting: number; active: number } | undefined;

  const indexOf = (ms: number) => Math.floor(ms / bucketMs);
  const firstIndex = (now: number) => indexOf(now - windowMs) + 1;
  const bucket = (i: number): Bucket => {
    let b = buckets.get(i);
    if (b === undefined) buckets.set(i, (b = { succeeded: 0, failed: 0, stopped: 0, tasksSucceeded: 0, tasksFailed: 0 }));
    return b;
  };
  const gauges = () => ({
    waiting: projection.countByState('WAITING'),
    active: projection.countByState('RUNNING') + projection.countByState('PAUSED') + projection.countByState('VERIFYING'),
  });

  function prune(now: number): void {
    const first = firstIndex(now);
    for (const i of buckets.keys()) if (i < first) buckets.delete(i);
    const oldest = now - windowMs;
    let drop = 0;
    while (drop < waits.length && waits[drop]!.at < oldest) drop++;
    if (waits.length - drop > MAX_WAIT_SAMPLES) drop = waits.length - MAX_WAIT_SAMPLES;
    if (drop > 0) waits.splice(0, drop);
  }

  const unsubscribe = projection.onChange((entry, _before, record) => {
    const now = clock.now();
    const oldest = now - windowMs;
    for (const ev of record.events) {
      const at = Math.min(Date.parse(ev.meta.at), now);
      if (!Number.isFinite(at) || at < oldest) continue;
      const counter = TERMINAL_COUNTER[ev.type as keyof typeof TERMINAL_COUNTER];
      if (counter !== undefined) bucket(indexOf(at))[counter]++;
      else if (ev.type === 'TaskSucceeded') bucket(indexOf(at)).tasksSucceeded++;
      else if (ev.type === 'TaskFailed') bucket(indexOf(at)).tasksFailed++;
      else if (ev.type === 'JobClaimed' && (ev.data as { epoch?: number }).epoch === 1) {
        // epoch 1 is the first claim; later ones follow a requeue or a recovery (as jetjobs_scheduler_wait_seconds)
        const submitted = Date.parse((entry.snapshot.context as { submittedAt?: string }).submittedAt ?? '');
        if (Number.isFinite(submitted)) waits.push({ at, ms: Math.max(0, at - submitted) });
      }
    }
    const g = gauges();
    const index = indexOf(now);
    const b = bucket(index);
    b.waiting = g.waiting;
    b.active = g.active;
    lastGauges = { index, ...g };
    prune(now);
  });

  function view(): ActivityView {
    const now = clock.now();
    prune(now);
    const current = indexOf(now);
    const series: ActivitySample[] = [];
    let carried: { waiting: number; active: number } | undefined;
    // the gauges' value before the window, if they were known then
    if (lastGauges !== undefined && lastGauges.index < firstIndex(now)) carried = lastGauges;
    for (let i = firstIndex(now); i <= current; i++) {
      const b = buckets.get(i);
      if (b?.waiting !== undefined && b.active !== undefined) carried = { waiting: b.waiting, active: b.active };
      // the interval under way holds the gauges as they are now, once anything was followed
      const g = i === current && carried !== undefined ? gauges() : carried;
      series.push({
        at: new Date(i * bucketMs).toISOString(),
        waiting: g?.waiting ?? null,
        active: g?.active ?? null,
        succeeded: b?.succeeded ?? 0,
        failed: b?.failed ?? 0,
        stopped: b?.stopped ?? 0,
        tasksSucceeded: b?.tasksSucceeded ?? 0,
        tasksFailed: b?.tasksFailed ?? 0,
      });
    }
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, projection.countByState(s)])) as Record<JobState, number>;
    let oldestSubmitted = Infinity;
    for (const e of projection.waiting()) {
      const t = Date.parse((e.snapshot.context as { submittedAt?: string }).submittedAt ?? '');
      if (t < oldestSubmitted) oldestSubmitted = t;
    }
    return {
      at: new Date(now).toISOString(), bucketMs, windowMs, counts, series,
      waits: waitStats(waits.map((w) => w.ms)),
      oldestWaitingMs: Number.isFinite(oldestSubmitted) ? Math.max(0, now - oldestSubmitted) : 0,
    };
  }

  return { view, close: unsubscribe };
}

/** Mean, nearest-rank percentiles and max of `ms`; null when empty. */
export function waitStats(ms: readonly number[]): WaitStats | null {
  if (ms.length === 0) return null;
  const sorted = [...ms].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    meanMs: Math.round(sorted.reduce((s, x) => s + x, 0) / sorted.length),
    p50Ms: rank(0.5), p95Ms: rank(0.95), maxMs: sorted[sorted.length - 1]!,
  };
}
