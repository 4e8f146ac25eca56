/**
 * Writes `WebhookDue` on `job.<id>.hook` for every job that ends with webhook targets (its own
 * `callbackUrl`, or a global webhook subscribed to the event), so the deliverer's durable consumer
 * reads `.hook` records alone instead of every record of every job (decision 0012 F4).
 *
 * Who writes it (msg id `due:<jobId>:<eventSeq>`, so every writer's append is one record):
 * - the coordinator that wrote the terminal record, as soon as its projection applies it;
 * - every coordinator at once when no coordinator wrote it (a WAITING job stopped through the API);
 * - every coordinator after `graceMs` for jobs it saw end with targets, whoever wrote the terminal
 *   record: this covers an owner that died between its terminal record and the due record (the
 *   duplicate is dropped by the msg id within the stream's duplicate window; after it, a second due
 *   record finds its deliveries logged and sends nothing);
 * - on start, for jobs that ended with targets within `startupLookbackMs` before this process
 *   followed the stream live: it reads their `.hook` subject (and `.ev` when that shows no due record,
 *   or the job was recovered) and writes the due record only when neither a due record nor finished
 *   deliveries of the last terminal record are logged (every coordinator was down, or an older
 *   version's delivery was retrying when the version changed). One or two subject reads per such job
 *   and start: that is what bounds the look-back, and at most {@link STARTUP_MAX_JOBS} jobs, the most
 *   recently finished first. A job compacted meanwhile (a short `compactAfterMs`) is checked too: its
 *   `.ev` is one JobCompacted record, so the due record names that record's seq (as a redelivery of a
 *   compacted job does), unless the `.hook` subject accounts for every end of the job (simulation seed
 *   297722144: the owner died before its due record, the other coordinator compacted the job and
 *   died within the grace, and the two that started skipped the compacted job: nothing was ever sent).
 * A job recovered or removed before its grace ends drops out.
 */
import { EVENT_SCHEMA_VERSION, TERMINAL_STATES, type Envelope, type WebhookAttemptData, type WebhookDue } from '../../actors/events.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import type { Clock } from '../clock.ts';
import type { ControlStore } from '../controlstore/controlStore.ts';
import type { EventLog, LogRecord } from '../eventlog/eventLog.ts';
import type { Logger } from '../log.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { jobEvSubject, jobHookSubject } from '../subjects.ts';
import type { WebhookEventName } from './sign.ts';
import { webhookDefs } from './webhookStore.ts';

/** Default of {@link HookDueOptions.graceMs}. */
export const DEFAULT_WEBHOOK_DUE_GRACE_MS = 10_000;
/** Default of {@link HookDueOptions.startupLookbackMs}: the default `compactAfterMs`. */
export const DEFAULT_WEBHOOK_DUE_LOOKBACK_MS = 60 * 60_000;
/** Jobs checked at once by the start-up pass. */
const STARTUP_CONCURRENCY = 16;
/**
 * Most jobs one start-up pass reads, the most recently finished first. Each costs one or two subject
 * reads (an ordered consumer each), and a due record is missing only for jobs that ended in the moments
 * before every coordinator went down: with a global webhook at 1,000 jobs/s the hour's look-back alone
 * would be 3.6 million reads per start.
 */
export const STARTUP_MAX_JOBS = 5_000;

/** The webhook event of each terminal job event. */
export const TERMINAL_EVENTS: Readonly<Record<string, WebhookEventName>> = {
  JobSucceeded: 'job.succeeded',
  JobFailed: 'job.failed',
  JobStopped: 'job.stopped',
};

/** The msg id of a job's due record for the terminal record at `eventSeq`. */
export const dueMsgId = (jobId: string, eventSeq: number) => `due:${jobId}:${eventSeq}`;

/** Options of {@link startHookDue}. */
export interface HookDueOptions {
  eventLog: EventLog;
  projection: JobProjection;
  /** Global webhooks (`webhookDefs`). */
  store: ControlStore;
  clock: Clock;
  logger: Logger;
  /** This process's coordinator id: terminal records it wrote get their due record at once. */
  coordinatorId?: string;
  /** How long after a job ended with targets this process writes its missing due record. @defaultValue {@link DEFAULT_WEBHOOK_DUE_GRACE_MS} */
  graceMs?: number;
  /** Jobs that ended this long before start are checked once. @defaultValue {@link DEFAULT_WEBHOOK_DUE_LOOKBACK_MS} */
  startupLookbackMs?: number;
  /** Most jobs the start-up pass reads, the most recently finished first. @defaultValue {@link STARTUP_MAX_JOBS} */
  startupMaxJobs?: number;
}

/** A running due writer. */
export interface HookDue {
  /** Jobs waiting out their grace (or a failed append's retry). */
  pending(): number;
  /** Resolves once the start-up pass is done. */
  readonly started: Promise<void>;
  stop(): Promise<void>;
}

interface Owed {
  event: WebhookEventName;
  eventSeq: number;
  /** clock.monotonic() at which this process writes the due record. */
  dueAt: number;
}

/** The events some global webhook is subscribed to, read again after any change of a webhook. */
function globalEvents(store: ControlStore): { has(event: WebhookEventName): boolean; stop(): void } {
  let events: ReadonlySet<string> | undefined;
  const off = store.onChange((key) => {
    if (key.startsWith('hook.')) events = undefined;
  });
  return {
    has: (event) => (events ??= new Set(webhookDefs(store).flatMap((w) => w.events))).has(event),
    stop: () => void off(),
  };
}

/** The terminal event of a `.ev` record, if it has one. */
function terminalOf(r: LogRecord): { event: WebhookEventName; actor: string } | undefined {
  for (const ev of r.events) {
    const event = TERMINAL_EVENTS[ev.type];
    if (event !== undefined) return { event, actor: ev.meta.actor };
  }
  return undefined;
}

/** The webhook event of a job that ended in `state`. */
const eventOfState = (state: string): WebhookEventName | undefined =>
  state === 'SUCCEEDED' ? 'job.succeeded' : state === 'FAILED' ? 'job.failed' : state === 'STOPPED' ? 'job.stopped' : undefined;

/** The end a `.ev` record notifies: its terminal event, or the state a JobCompacted rolled up. */
function endOf(r: LogRecord): { event: WebhookEventName; compacted: boolean } | undefined {
  const t = terminalOf(r);
  if (t !== undefined) return { event: t.event, compacted: false };
  for (const ev of r.events) {
    if (ev.type !== 'JobCompacted') continue;
    const event = eventOfState((ev.data as { state: string }).state);
    if (event !== undefined) return { event, compacted: true };
  }
  return undefined;
}

/** Starts writing due records (call it in every coordinator-role process, next to the deliverer). */
export function startHookDue(opts: HookDueOptions): HookDue {
  const { eventLog, projection, store, clock, logger } = opts;
  const graceMs = opts.graceMs ?? DEFAULT_WEBHOOK_DUE_GRACE_MS;
  const me = opts.coordinatorId === undefined ? undefined : `coordinator:${opts.coordinatorId}`;
  const owed = new Map<string, Owed>();
  const subscribed = globalEvents(store);
  /** True if the job has a target for `event`: its callbackUrl, or a global webhook subscribed to it. */
  const hasTargets = (ctx: JobContext, event: WebhookEventName) => ctx.callbackUrl !== undefined || subscribed.has(event);
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  let timer: unknown;

  async function write(jobId: string, o: Pick<Owed, 'event' | 'eventSeq'>): Promise<boolean> {
    const ev: WebhookDue = {
      type: 'WebhookDue',
      data: { event: o.event, eventSeq: o.eventSeq },
      meta: { jobId, epoch: 0, actor: 'webhooks', at: new Date(clock.now()).toISOString(), v: EVENT_SCHEMA_VERSION },
    };
    const epoch = (projection.get(jobId)?.snapshot.context as { epoch?: number } | undefined)?.epoch;
    if (epoch !== undefined) ev.meta.epoch = epoch;
    try {
      await eventLog.append(jobHookSubject(jobId), [ev as Envelope], { msgId: dueMsgId(jobId, o.eventSeq) });
      return true;
    } catch (err) {
      logger.warn({ err, jobId, eventSeq: o.eventSeq }, 'could not write a webhook due record; retrying');
      return false;
    }
  }

  function track(p: Promise<void>): void {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }

  function arm(): void {
    if (stopped) return;
    clock.clearTimeout(timer);
    let first = Infinity;
    for (const o of owed.values()) first = Math.min(first, o.dueAt);
    if (first === Infinity) return;
    timer = clock.setTimeout(sweep, Math.max(0, first - clock.monotonic()));
  }

  /** Writes the due records whose grace ended; a failed append is retried a grace later. */
  function sweep(): void {
    timer = undefined;
    const now = clock.monotonic();
    for (const [jobId, o] of owed) {
      if (o.dueAt > now) continue;
      o.dueAt = now + graceMs; // until the append answers: not picked again by a sweep meanwhile
      track(write(jobId, o).then((ok) => {
        if (ok && owed.get(jobId) === o) owed.delete(jobId);
        arm();
      }));
    }
    arm();
  }

  const offChange = projection.onChange((entry: JobEntry, _previous, r: LogRecord) => {
    if (!r.subject.endsWith('.ev')) return;
    const t = terminalOf(r);
    if (t === undefined) {
      if (!TERMINAL_STATES.has(entry.state) && owed.delete(entry.id)) arm(); // recovered: nothing owed any more
      return;
    }
    if (!TERMINAL_STATES.has(entry.state)) return;
    const ctx = entry.snapshot.context as JobContext;
    if (!hasTargets(ctx, t.event)) return;
    const o: Owed = { event: t.event, eventSeq: r.seq, dueAt: clock.monotonic() + graceMs };
    owed.set(entry.id, o);
    // the writer of the terminal record, or everyone when no coordinator wrote it
    if (t.actor === me || !t.actor.startsWith('coordinator:')) {
      track(write(entry.id, o).then((ok) => {
        if (ok && owed.get(entry.id) === o) owed.delete(entry.id);
      }));
    }
    arm();
  });
  const offRemove = projection.onRemove((e) => {
    if (owed.delete(e.id)) arm();
  });

  /** Jobs that ended shortly before this process started: write what no one logged. */
  async function startupPass(): Promise<void> {
    const since = clock.now() - (opts.startupLookbackMs ?? DEFAULT_WEBHOOK_DUE_LOOKBACK_MS);
    const found: { id: string; finished: number }[] = [];
    for (const e of projection.terminal()) {
      const ctx = e.snapshot.context as JobContext;
      if (owed.has(e.id)) continue; // compacted too: its due record may be missing all the same
      const finished = ctx.finishedAt === undefined ? NaN : Date.parse(ctx.finishedAt);
      if (!(finished >= since)) continue;
      const event = eventOfState(e.state);
      if (event !== undefined && hasTargets(ctx, event)) found.push({ id: e.id, finished });
    }
    found.sort((a, b) => b.finished - a.finished);
    const most = opts.startupMaxJobs ?? STARTUP_MAX_JOBS;
    if (found.length > most) {
      logger.warn({ checked: most, skipped: found.length - most }, 'webhook due start-up pass: checking only the most recently finished jobs with targets');
    }
    const candidates = found.slice(0, most).map((f) => f.id);
    let next = 0;
    const worker = async () => {
      while (!stopped && next < candidates.length) {
        const jobId = candidates[next++]!;
        try {
          await checkOne(jobId);
        } catch (err) {
          logger.warn({ err, jobId }, 'could not check a finished job for its webhook due record');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(STARTUP_CONCURRENCY, candidates.length) }, worker));
  }

  async function checkOne(jobId: string): Promise<void> {
    if (owed.has(jobId)) return; // seen live meanwhile
    const hook = await eventLog.readSubject(jobHookSubject(jobId));
    const dueSeqs = new Set<number>();
    for (const r of hook) for (const h of r.events) if (h.type === 'WebhookDue') dueSeqs.add((h.data as { eventSeq: number }).eventSeq);
    // a job never recovered ended once: any due record is its own (one read, the common case)
    const recoveries = (projection.get(jobId)?.snapshot.context as JobContext | undefined)?.recoveries ?? 0;
    if (dueSeqs.size > 0 && recoveries === 0) return;
    let last: { event: WebhookEventName; eventSeq: number; compacted: boolean } | undefined;
    for (const r of await eventLog.readSubject(jobEvSubject(jobId))) {
      const end = endOf(r);
      if (end !== undefined) last = { ...end, eventSeq: r.seq };
    }
    if (last === undefined || dueSeqs.has(last.eventSeq)) return; // removed meanwhile, or due already
    /** eventSeq → deliveries (deliveryId → finished: delivered or final) an older version logged for it. */
    const deliveries = new Map<number, Map<string, boolean>>();
    for (const r of hook) {
      for (const h of r.events) {
        const d = h.data as Partial<WebhookAttemptData> & { final?: boolean };
        if ((h.type !== 'WebhookDelivered' && h.type !== 'WebhookFailed') || d.eventSeq === undefined) continue;
        const byId = deliveries.get(d.eventSeq) ?? new Map<string, boolean>();
        const id = d.deliveryId ?? '';
        byId.set(id, (byId.get(id) ?? false) || h.type === 'WebhookDelivered' || d.final === true);
        deliveries.set(d.eventSeq, byId);
      }
    }
    const finished = (eventSeq: number) => {
      const byId = deliveries.get(eventSeq);
      return byId !== undefined && [...byId.values()].every(Boolean);
    };
    // an older version delivered (or gave up on) every target of it: nothing owed
    if (finished(last.eventSeq)) return;
    if (last.compacted) {
      // The terminal records' seqs were rolled up. The job ended recoveries + 1 times; when the `.hook`
      // subject has a due record or finished deliveries for as many terminal records, the last end is
      // among them. Otherwise it may be the one missing: owed under the JobCompacted's seq (at worst a
      // repeated POST, when an earlier end had no target).
      const accounted = new Set([...dueSeqs, ...[...deliveries.keys()].filter(finished)]);
      if (accounted.size >= recoveries + 1) return;
    }
    if (!owed.has(jobId) && !(await write(jobId, last))) owed.set(jobId, { ...last, dueAt: clock.monotonic() + graceMs });
    arm();
  }

  const started = startupPass().catch((err: unknown) => logger.warn({ err }, 'webhook due start-up pass failed'));
  track(started);

  return {
    pending: () => owed.size,
    started,
    async stop() {
      stopped = true;
      offChange();
      offRemove();
      subscribed.stop();
      clock.clearTimeout(timer);
      await Promise.all([...inflight]);
    },
  };
}
