/**
 * Webhook delivery. For every terminal job event (JobSucceeded, JobFailed, JobStopped) and every
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
import { EVENT_SCHEMA_VERSION, TERMINAL_STATES, type Envelope, type JobState, type WebhookAttemptData, type WebhookDelivered, type WebhookFailed } from '../../actors/events.ts';
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
import { webhookHeaders, type WebhookEventName } from './sign.ts';
import { callbackSecret, webhookDefs } from './webhookStore.ts';

/** Longest retry delay. */
export const WEBHOOK_MAX_BACKOFF_MS = 5 * 60_000;
/** Target id of the job's own callbackUrl (global webhooks use their id). */
export const CALLBACK_TARGET = 'callback';
/** How long a record waits for the local projection to apply it before it is retried. */
const PROJECTION_WAIT_MS = 10_000;
const RETRY_SOON_MS = 1_000;
/** Ack wait of the hooks consumer (extended while a record is handled). */
export const HOOK_ACK_WAIT_MS = 5_000;

const TERMINAL_EVENTS: Readonly<Record<string, WebhookEventName>> = {
  JobSucceeded: 'job.succeeded',
  JobFailed: 'job.failed',
  JobStopped: 'job.stopped',
};
const EVENT_OF_STATE: Partial<Record<JobState, WebhookEventName>> = {
  SUCCEEDED: 'job.succeeded',
  FAILED: 'job.failed',
  STOPPED: 'job.stopped',
};

// JobCompacted too: retention may roll a job's terminal record up before its delivery finished.
const TERMINAL_NEEDLES = [...Object.keys(TERMINAL_EVENTS), 'JobCompacted'].map((t) => Buffer.from(`"${t}"`));
const REDELIVERY_NEEDLE = Buffer.from('"WebhookRedeliveryRequested"');

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
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (subject.endsWith('.ev')) return TERMINAL_NEEDLES.some((n) => buf.includes(n));
  if (subject.endsWith('.hook')) return buf.includes(REDELIVERY_NEEDLE);
  return false;
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
  /**
   * The job was compacted: its terminal record (and any retry pending on it) is gone. Finish what
   * the delivery log shows unfinished for this event, and deliver to targets it shows nothing for.
   */
  resume?: boolean;
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
  /** `${target} ${event}` → the newest delivery of that event to that target. */
  latest: Map<string, { deliveryId: string; eventSeq: number }>;
}

function readHistory(records: readonly LogRecord[]): HookHistory {
  const h: HookHistory = { byDelivery: new Map(), delivered: new Set(), latest: new Map() };
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
      const key = `${d.target} ${d.event}`;
      if ((h.latest.get(key)?.eventSeq ?? -1) <= d.eventSeq) h.latest.set(key, { deliveryId: d.deliveryId, eventSeq: d.eventSeq });
    }
  }
  return h;
}

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
   * One record of a job at a time in this process. Two triggers of one delivery (the terminal event
   * and, once the job is compacted, its resume) would otherwise both read the delivery log before
   * either attempt is recorded, and number the same attempt twice (seen in a loaded CI pair).
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
    if (s === undefined || (s.kind !== 'job-ev' && s.kind !== 'job-hook') || !mayTrigger(m.subject, m.data)) return m.ack();
    const events = decodeEvents(m.data);
    if (events === undefined) return m.ack();
    let trig: Trigger | undefined;
    if (s.kind === 'job-ev') {
      const name = events.map((e) => TERMINAL_EVENTS[e.type]).find((n) => n !== undefined);
      if (name !== undefined) trig = { event: name, eventSeq: m.seq, redelivery: false };
      const compacted = events.find((e) => e.type === 'JobCompacted');
      const compactedEvent = compacted === undefined ? undefined : EVENT_OF_STATE[(compacted.data as { state: JobState }).state];
      if (trig === undefined && compactedEvent !== undefined) trig = { event: compactedEvent, eventSeq: m.seq, redelivery: false, resume: true };
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
      // After a compaction, continue the newest delivery of this event to this target (same id, same seq).
      const prior = trig.resume ? history.latest.get(`${t.id} ${trig.event}`) : undefined;
      // A webhook created after the job finished was never owed this notification.
      if (trig.resume && prior === undefined && t.createdAt !== undefined && t.createdAt > (finishedAt ?? '')) continue;
      const deliveryId = prior?.deliveryId ?? `${s.id}:${m.seq}:${t.id}`;
      const tTrig = prior ? { ...trig, eventSeq: prior.eventSeq } : trig;
      const d = history.byDelivery.get(deliveryId);
      if (d?.delivered === true || d?.final === true) continue;
      if (!trig.redelivery && history.delivered.has(`${tTrig.eventSeq} ${t.id}`)) continue;
      const n = (d?.attempts ?? 0) + 1;
      if (n > config.webhookMaxAttempts) continue;
      pending.push({ t, deliveryId, n, trig: tTrig });
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
}

/**
 * Starts delivering webhooks from the shared durable consumer (call it in every process with the
 * coordinator role; they share the work). `stop()` stops pulling and waits for deliveries in flight.
 */
export async function startHookDeliverer(opts: HookDelivererOptions): Promise<HookConsumerHandle> {
  const handler = createHookHandler(opts);
  return opts.queue.consume({
    handler,
    mayTrigger,
    // Short: the consumer extends it (working()) while a record is handled, so this only bounds how
    // long a record held by a process that died waits before a peer gets it (found by test/fault).
    ackWaitMs: HOOK_ACK_WAIT_MS,
    logger: opts.logger,
    clock: opts.clock,
    ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
  });
}
