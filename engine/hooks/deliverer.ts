/**
 * Webhook delivery. For every WebhookDue (written by hookDue.ts when a job with targets ends) and every
 * WebhookRedeliveryRequested, POSTs `{ deliveryId, event, seq, job }` (signed, see sign.ts) to the
 * job's callbackUrl and to every global webhook subscribed to the event, and records each attempt
 * on `job.<id>.hook` (WebhookDelivered / WebhookFailed: url without query, never the secret).
 *
 * The delivery log is the state: attempt numbers, "already delivered" and "gave up" are read back
 * from it, so a retry, a crash or a second deliverer continues where the last attempt stopped.
 * A failed target is retried by nak'ing the record with a delay of
 * `webhookBackoffMs × 2^(attempt-1)` (capped at 5 min) up to `webhookMaxAttempts`; the last
 * failure is marked `final: true` (the dead letter, visible in the job's delivery log).
 */
import http from 'node:http';
import https from 'node:https';
import { EVENT_SCHEMA_VERSION, TERMINAL_STATES, type Envelope, type JobState, type WebhookAttemptData, type WebhookDelivered, type WebhookDue, type WebhookFailed } from '../../actors/events.ts';
import type { JobView } from '../../actors/jobFold.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { ControlStore } from '../controlstore/controlStore.ts';
import type { EventLog, LogRecord } from '../eventlog/eventLog.ts';
import type { Logger } from '../log.ts';
import { blockedHostReason, guardedLookup } from './targetPolicy.ts';
import { entryView } from '../projections/jobEntry.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { jobEvSubject, jobHookSubject, parseSubject } from '../subjects.ts';
import { redactUrl } from './callbackUrl.ts';
import { sparkCallbackBody } from './callbackFormats.ts';
import type { HookConsumerHandle, HookMessage } from './hookMessage.ts';
import type { HookQueue } from './hookQueue.ts';
import { backoffDelay, type Backoff } from '../retry.ts';
import { startHookDue, TERMINAL_EVENTS, type HookDueOptions } from './hookDue.ts';
import { WEBHOOK_EVENTS, webhookHeaders, type WebhookEventName } from './sign.ts';
import { callbackSecret, webhookDefs } from './webhookStore.ts';

/** Longest retry delay. */
export const WEBHOOK_MAX_BACKOFF_MS = 5 * 60_000;
/** Target id of the job's own callbackUrl (global webhooks use their id). */
export const CALLBACK_TARGET = 'callback';
/** How long a record waits for the local projection to apply it before it is retried. */
const PROJECTION_WAIT_MS = 10_000;
const RETRY_SOON_MS = 1_000;
/** A global webhook created this long after a job finished is not owed its notification (clocks differ). */
const CREATED_AFTER_SLACK_MS = 60_000;
/** Ack wait of the hooks consumer (extended while a record is handled). */
export const HOOK_ACK_WAIT_MS = 5_000;

const EVENT_OF_STATE: Partial<Record<JobState, WebhookEventName>> = {
  SUCCEEDED: 'job.succeeded',
  FAILED: 'job.failed',
  STOPPED: 'job.stopped',
};

// Only `.hook` records trigger: a job's terminal record triggers through its WebhookDue (hookDue.ts),
// which compaction does not roll up, so a retry pending on it outlives the `.ev` history.
const HOOK_NEEDLES = ['WebhookDue', 'WebhookRedeliveryRequested'].map((t) => Buffer.from(`"${t}"`));

/** Retry delay before attempt `attempt + 1`: `baseMs` doubling per failed attempt, capped at {@link WEBHOOK_MAX_BACKOFF_MS}. */
export function webhookBackoffMs(baseMs: number, attempt: number): number {
  const backoff: Backoff = { baseMs, maxMs: WEBHOOK_MAX_BACKOFF_MS };
  return backoffDelay(backoff, attempt - 1);
}

/**
 * The hot-path check on a raw JOBS record: false for anything that cannot trigger a delivery
 * (a byte search, no JSON parsing). True may still turn out to be nothing after parsing.
 */
export function mayTrigger(subject: string, data: Uint8Array): boolean {
  if (!subject.endsWith('.hook')) return false;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return HOOK_NEEDLES.some((n) => buf.includes(n));
}

/** Result of one POST: the status, or null and why there was none. */
export interface PostResult {
  status: number | null;
  error?: string;
}
export type PostFn = (url: string, headers: Record<string, string>, body: string, timeoutMs: number) => Promise<PostResult>;

/**
 * POSTs with node:http(s): no redirects followed, whole request bounded by `timeoutMs`, response
 * body discarded. Unless `allowPrivate`, refuses targets in loopback, private, link-local or reserved
 * ranges, checking the addresses a name resolves to on every attempt (targetPolicy.ts).
 */
export const createPostWebhook = (opts: { allowPrivate: boolean }): PostFn => (url, headers, body, timeoutMs) =>
  new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ status: null, error: 'invalid url' });
      return;
    }
    const blocked = opts.allowPrivate ? undefined : blockedHostReason(u.hostname);
    if (blocked !== undefined) {
      resolve({ status: null, error: `EBLOCKEDTARGET: ${blocked}` });
      return;
    }
    let settled = false;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'jetjobs-webhooks' },
        ...(opts.allowPrivate ? {} : { lookup: guardedLookup }),
      },
      (res) => {
        done({ status: res.statusCode ?? null });
        res.destroy(); // the status is all we need; never buffer a receiver's body
      },
    );
    const timer = setTimeout(() => {
      done({ status: null, error: `timed out after ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ status: null, error: err.code ?? err.message }));
    req.end(body);
  });

/** How one delivery attempt ended. */
export type WebhookAttemptOutcome = 'delivered' | 'retrying' | 'failed';

/** Dependencies of {@link createHookHandler}. */
export interface HookHandlerDeps {
  eventLog: EventLog;
  projection: JobProjection;
  store: ControlStore;
  config: Pick<Config, 'callbackSecret' | 'webhookMaxAttempts' | 'webhookBackoffMs' | 'webhookTimeoutMs'> & Partial<Pick<Config, 'webhookAllowPrivate'>>;
  clock: Clock;
  logger: Logger;
  /** Called after each attempt is logged: delivered, failed (will retry) or failed for good (metrics). */
  onAttempt?: (outcome: WebhookAttemptOutcome) => void;
  /** @defaultValue {@link createPostWebhook} with the config's `webhookAllowPrivate` (off when absent) */
  post?: PostFn;
}

interface Trigger {
  event: WebhookEventName;
  /** Seq of the terminal event's record. */
  eventSeq: number;
  redelivery: boolean;
  /** Redelivery to one target only. */
  onlyTarget?: string;
}

interface Target {
  id: string;
  url: string;
  secret: string;
  /** When a global webhook was created (ISO); undefined for the job's own callback. */
  createdAt?: string;
}

/** What the delivery log says. */
interface HookHistory {
  /** deliveryId → attempts made, delivered, gave up. */
  byDelivery: Map<string, { attempts: number; delivered: boolean; final: boolean }>;
  /** `${eventSeq} ${target}` of every successful delivery. */
  delivered: Set<string>;
}

function readHistory(records: readonly LogRecord[]): HookHistory {
  const h: HookHistory = { byDelivery: new Map(), delivered: new Set() };
  for (const r of records) {
    for (const ev of r.events) {
      if (ev.type !== 'WebhookDelivered' && ev.type !== 'WebhookFailed') continue;
      const d = ev.data as WebhookAttemptData & { final?: boolean };
      const cur = h.byDelivery.get(d.deliveryId) ?? { attempts: 0, delivered: false, final: false };
      cur.attempts = Math.max(cur.attempts, d.attempt);
      if (ev.type === 'WebhookDelivered') {
        cur.delivered = true;
        h.delivered.add(`${d.eventSeq} ${d.target}`);
      } else if (d.final === true) cur.final = true;
      h.byDelivery.set(d.deliveryId, cur);
    }
  }
  return h;
}

const isWebhookEvent = (e: unknown): e is WebhookEventName => (WEBHOOK_EVENTS as readonly unknown[]).includes(e);

function decodeEvents(data: Uint8Array): Envelope[] | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    return Array.isArray(v) ? (v as Envelope[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The per-record logic, independent of NATS: acks what triggers nothing, delivers, records each
 * attempt, then acks or naks with the backoff delay.
 */
export function createHookHandler(deps: HookHandlerDeps): (m: HookMessage) => Promise<void> {
  const { eventLog, projection, store, config, clock, logger } = deps;
  const post = deps.post ?? createPostWebhook({ allowPrivate: deps.config.webhookAllowPrivate === true });
  let secretP: Promise<string> | undefined;
  const cbSecret = () => {
    secretP ??= callbackSecret(store, config).catch((err: unknown) => {
      secretP = undefined;
      throw err;
    });
    return secretP;
  };

  /** The terminal event a redelivery re-sends: the newest terminal record on job.<id>.ev. */
  async function redeliveryTrigger(jobId: string, target: string | undefined): Promise<Trigger | undefined> {
    const records = await eventLog.readSubject(jobEvSubject(jobId));
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i]!;
      for (const ev of r.events) {
        const name = TERMINAL_EVENTS[ev.type] ?? (ev.type === 'JobCompacted' ? EVENT_OF_STATE[(ev.data as { state: JobState }).state] : undefined);
        if (name !== undefined) return { event: name, eventSeq: r.seq, redelivery: true, ...(target === undefined ? {} : { onlyTarget: target }) };
      }
    }
    return undefined;
  }

  async function targetsFor(entry: JobEntry, trig: Trigger): Promise<Target[]> {
    const out: Target[] = [];
    const callbackUrl = (entry.snapshot.context as { callbackUrl?: string }).callbackUrl;
    if (callbackUrl !== undefined && (trig.onlyTarget === undefined || trig.onlyTarget === CALLBACK_TARGET)) {
      out.push({ id: CALLBACK_TARGET, url: callbackUrl, secret: await cbSecret() });
    }
    for (const w of webhookDefs(store)) {
      if (trig.onlyTarget !== undefined && trig.onlyTarget !== w.id) continue;
      if (w.events.includes(trig.event)) out.push({ id: w.id, url: w.url, secret: w.secret, createdAt: w.createdAt });
    }
    return out;
  }

  async function attempt(jobId: string, epoch: number, job: JobView, trig: Trigger, t: Target, deliveryId: string, n: number) {
    const body = JSON.stringify(t.id === CALLBACK_TARGET && job.callbackFormat === 'spark' ? sparkCallbackBody(job) : { deliveryId, event: trig.event, seq: trig.eventSeq, job });
    const headers = webhookHeaders({ secret: t.secret, rawBody: body, nowMs: clock.now(), deliveryId, event: trig.event });
    const t0 = clock.monotonic();
    const r = await post(t.url, headers, body, config.webhookTimeoutMs);
    const ms = Math.round(clock.monotonic() - t0);
    const ok = r.status !== null && r.status >= 200 && r.status < 300;
    const final = !ok && n >= config.webhookMaxAttempts;
    const data: WebhookAttemptData = { deliveryId, target: t.id, url: redactUrl(t.url), event: trig.event, eventSeq: trig.eventSeq, attempt: n, status: r.status, ms };
    const meta = { jobId, epoch, actor: 'webhooks', at: new Date(clock.now()).toISOString(), v: EVENT_SCHEMA_VERSION };
    const error = r.error ?? (r.status !== null && r.status >= 300 && r.status < 400 ? `HTTP ${r.status} (redirects are not followed)` : `HTTP ${r.status}`);
    const ev: WebhookDelivered | WebhookFailed = ok ? { type: 'WebhookDelivered', data, meta } : { type: 'WebhookFailed', data: { ...data, error, final }, meta };
    await eventLog.append(jobHookSubject(jobId), [ev], { msgId: `hook:${deliveryId}:${n}` });
    deps.onAttempt?.(ok ? 'delivered' : final ? 'failed' : 'retrying');
    if (!ok) {
      const fields = { jobId, target: t.id, url: data.url, attempt: n, status: r.status, error };
      if (final) logger.warn(fields, 'webhook delivery failed for good');
      else logger.info(fields, 'webhook delivery failed; will retry');
    }
    return { ok, final, attempt: n };
  }

  /**
   * One record of a job at a time in this process. Two triggers of one delivery (a due record written
   * twice, past the msg-id window) would otherwise both read the delivery log before either attempt
   * is recorded, and number the same attempt twice (seen in a loaded CI pair).
   */
  const busy = new Map<string, Promise<void>>();
  return function handle(m: HookMessage): Promise<void> {
    const s = parseSubject(m.subject);
    const id = s !== undefined && 'id' in s ? s.id : undefined;
    if (id === undefined) return handleOne(m);
    const run = (busy.get(id) ?? Promise.resolve()).then(() => handleOne(m));
    const tail = run.catch(() => undefined);
    busy.set(id, tail);
    void tail.then(() => {
      if (busy.get(id) === tail) busy.delete(id);
    });
    return run;
  };

  async function handleOne(m: HookMessage): Promise<void> {
    const s = parseSubject(m.subject);
    // `.ev` records reach here only from a durable made by an older version (its filter was job.*.*):
    // hookDue.ts writes the due record of any of them left unfinished, so they are acked.
    if (s === undefined || s.kind !== 'job-hook' || !mayTrigger(m.subject, m.data)) return m.ack();
    const events = decodeEvents(m.data);
    if (events === undefined) return m.ack();
    let trig: Trigger | undefined;
    const due = events.find((e): e is WebhookDue => e.type === 'WebhookDue');
    if (due !== undefined && isWebhookEvent(due.data?.event) && Number.isSafeInteger(due.data.eventSeq)) {
      trig = { event: due.data.event, eventSeq: due.data.eventSeq, redelivery: false };
    } else {
      const req = events.find((e) => e.type === 'WebhookRedeliveryRequested');
      if (req !== undefined) trig = await redeliveryTrigger(s.id, (req.data as { target?: string } | null)?.target);
    }
    if (trig === undefined) return m.ack();

    if (!(await projection.waitFor(m.seq, PROJECTION_WAIT_MS))) return m.nak(RETRY_SOON_MS);
    const entry = projection.get(s.id);
    if (entry === undefined) {
      logger.info({ jobId: s.id, seq: m.seq }, 'webhook skipped: the job is gone');
      return m.ack();
    }
    if (trig.redelivery && !TERMINAL_STATES.has(entry.state)) return m.ack(); // recovered meanwhile: nothing final to re-send
    const targets = await targetsFor(entry, trig);
    if (targets.length === 0) return m.ack();

    const history = readHistory(await eventLog.readSubject(jobHookSubject(s.id)));
    const finishedAt = (entry.snapshot.context as { finishedAt?: string }).finishedAt;
    const pending: { t: Target; deliveryId: string; n: number; trig: Trigger }[] = [];
    for (const t of targets) {
      // A due record written late (a start-up check): a webhook created after the job finished was
      // never owed this notification. With slack: the two times come from different clocks.
      if (!trig.redelivery && t.createdAt !== undefined && Date.parse(t.createdAt) > Date.parse(finishedAt ?? '') + CREATED_AFTER_SLACK_MS) continue;
      // The terminal record's seq for a due record (ids keep their meaning); the request's own seq for a redelivery.
      const deliveryId = `${s.id}:${trig.redelivery ? m.seq : trig.eventSeq}:${t.id}`;
      const d = history.byDelivery.get(deliveryId);
      if (d?.delivered === true || d?.final === true) continue;
      if (!trig.redelivery && history.delivered.has(`${trig.eventSeq} ${t.id}`)) continue;
      const n = (d?.attempts ?? 0) + 1;
      if (n > config.webhookMaxAttempts) continue;
      pending.push({ t, deliveryId, n, trig });
    }
    if (pending.length === 0) return m.ack();

    const job = entryView(entry);
    const epoch = (entry.snapshot.context as { epoch: number }).epoch;
    const results = await Promise.all(pending.map((p) => attempt(s.id, epoch, job, p.trig, p.t, p.deliveryId, p.n)));
    const retry = results.filter((r) => !r.ok && !r.final);
    if (retry.length === 0) return m.ack();
    m.nak(webhookBackoffMs(config.webhookBackoffMs, Math.min(...retry.map((r) => r.attempt))));
  }
}

/** Dependencies of {@link startHookDeliverer}: the handler's, plus the queue it consumes. */
export interface HookDelivererOptions extends HookHandlerDeps {
  /** The shared durable queue of records (JetStream in production, memory in the simulation). */
  queue: HookQueue;
  /** Deliveries in flight at once in this process. @defaultValue 32 */
  concurrency?: number;
  /** This process's coordinator: the due records of the terminal records it writes are written at once (hookDue.ts). */
  coordinatorId?: string;
  /** @defaultValue {@link HookDueOptions.graceMs} */
  dueGraceMs?: number;
  /** @defaultValue {@link HookDueOptions.startupLookbackMs} */
  dueStartupLookbackMs?: number;
}

/**
 * Starts delivering webhooks from the shared durable consumer, and writing the due records of jobs
 * that end with targets (hookDue.ts) that feed it (call it in every process with the coordinator
 * role; they share the work). `stop()` stops both and waits for deliveries in flight.
 */
export async function startHookDeliverer(opts: HookDelivererOptions): Promise<HookConsumerHandle> {
  const handler = createHookHandler(opts);
  const dueOpts: HookDueOptions = {
    eventLog: opts.eventLog, projection: opts.projection, store: opts.store, clock: opts.clock, logger: opts.logger,
    ...(opts.coordinatorId === undefined ? {} : { coordinatorId: opts.coordinatorId }),
    ...(opts.dueGraceMs === undefined ? {} : { graceMs: opts.dueGraceMs }),
    ...(opts.dueStartupLookbackMs === undefined ? {} : { startupLookbackMs: opts.dueStartupLookbackMs }),
  };
  const consumer = await opts.queue.consume({
    handler,
    mayTrigger,
    // Short: the consumer extends it (working()) while a record is handled, so this only bounds how
    // long a record held by a process that died waits before a peer gets it (found by test/fault).
    ackWaitMs: HOOK_ACK_WAIT_MS,
    logger: opts.logger,
    clock: opts.clock,
    ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
  });
  // after the consumer exists: a due record written before the durable would be missed (deliver policy new)
  const due = startHookDue(dueOpts);
  return {
    // both at once: each stops taking work before its first wait (a consumer left pulling while the
    // due writer waits for an append would take records into a process that is going away)
    stop: async () => {
      await Promise.all([due.stop(), consumer.stop()]);
    },
  };
}
