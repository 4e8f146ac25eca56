/**
 * Acknowledged JetStream publishes without the client's per-request machinery: one reply
 * subscription per connection, one sweep timer, and the PubAck read here.
 *
 * Why: `js.publish` is a core request. Per publish, nats-core 3.4 creates a request object, a timer
 * and a mux entry, and on every *successful* request builds a `RequestError("cancelled")` with its
 * stack (`RequestOne.cancel` rejects its already-resolved promise). In the one-process profile of a
 * tiny job (4 appends and a dispatch per job) that was ~4 % of the service's CPU for the error alone
 * and ~9 % with the bookkeeping (decision 0012 §6–7). The semantics are `js.publish`'s: same headers,
 * same answers, same errors as AppErrors (`toAppError`'s mapping).
 */
import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AppError } from '../errors.ts';

/** The publish's expectations and dedup id (the `Nats-*` headers `js.publish` would set). */
export interface PublishHeaders {
  msgId?: string;
  /** `Nats-Expected-Last-Subject-Sequence` (0 = no message on the subject yet). */
  expectedLastSubjectSeq?: number;
  /** `Nats-Rollup: sub`. */
  rollup?: boolean;
}

/** The stored message, as the PubAck says. */
export interface PubAck {
  seq: number;
  duplicate: boolean;
}

export interface PubAckPublisher {
  /** Publishes and waits for the PubAck; rejects with an AppError (CONFLICT, UNAVAILABLE or INTERNAL, as `toAppError`). */
  publish(subject: string, data: Uint8Array, h: PublishHeaders, what: string): Promise<PubAck>;
  /** Publishes still waiting for their answer. */
  readonly pending: number;
}

/** CAS lost: wrong last sequence (10071), or its 2.15 cluster form (10164). */
const CAS_CODES = new Set([10071, 10164]);
const decoder = new TextDecoder();

interface Waiter {
  resolve(a: PubAck): void;
  reject(e: AppError): void;
  deadline: number;
  what: string;
}

/** Creates the publisher of one connection; it subscribes on first use. */
export function createPubAckPublisher(nc: NatsConnection, timeoutMs: number): PubAckPublisher {
  const prefix = createInbox();
  const waiting = new Map<string, Waiter>();
  let sub: Subscription | undefined;
  let next = 0;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  /** How often expired publishes are looked for: a timeout fires between timeoutMs and timeoutMs + this. */
  const sweepMs = Math.max(10, Math.min(250, Math.floor(timeoutMs / 4)));

  function settle(token: string): Waiter | undefined {
    const w = waiting.get(token);
    if (w !== undefined) waiting.delete(token);
    return w;
  }

  function onReply(err: Error | null, m: Msg): void {
    if (err !== null) return;
    const w = settle(m.subject.slice(prefix.length + 1));
    if (w === undefined) return; // answered after its timeout
    const code = statusOf(m.headers);
    if (code === 503) {
      w.reject(new AppError('UNAVAILABLE', `${w.what}: no responders (no stream for the subject, or JetStream not ready)`));
      return;
    }
    if (code !== 0 && m.data.length === 0) {
      w.reject(new AppError(code >= 500 ? 'UNAVAILABLE' : 'INTERNAL', `${w.what}: status ${code} ${m.headers?.description ?? ''}`.trimEnd()));
      return;
    }
    let body: { seq?: number; duplicate?: boolean; stream?: string; error?: { code?: number; err_code?: number; description?: string } };
    try {
      body = JSON.parse(decoder.decode(m.data)) as typeof body;
    } catch {
      w.reject(new AppError('INTERNAL', `${w.what}: unreadable PubAck`));
      return;
    }
    const e = body.error;
    if (e !== undefined) {
      if (CAS_CODES.has(e.err_code ?? 0)) w.reject(new AppError('CONFLICT', e.description));
      else w.reject(new AppError(e.code === 503 ? 'UNAVAILABLE' : 'INTERNAL', `${w.what}: ${e.description ?? `error ${e.err_code ?? e.code ?? '?'}`}`));
      return;
    }
    if (typeof body.seq !== 'number' || !body.stream) {
      w.reject(new AppError('INTERNAL', `${w.what}: invalid ack response`));
      return;
    }
    w.resolve({ seq: body.seq, duplicate: body.duplicate === true });
  }

  /** Times out what waited too long; waiters expire in the order they were sent (one timeout for all). */
  function sweep(): void {
    const now = performance.now();
    for (const [token, w] of waiting) {
      if (w.deadline > now) break;
      waiting.delete(token);
      w.reject(new AppError('UNAVAILABLE', `${w.what}: no answer in ${timeoutMs} ms`));
    }
    if (waiting.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  function ensureSubscribed(): void {
    if (sub !== undefined && !sub.isClosed()) return;
    sub = nc.subscribe(`${prefix}.*`, { callback: onReply });
    // A closed connection answers nothing more: fail what waits at once.
    void nc.closed().then(() => {
      for (const [token, w] of waiting) {
        waiting.delete(token);
        w.reject(new AppError('UNAVAILABLE', `${w.what}: the NATS connection is closed`));
      }
    });
  }

  function publish(subject: string, data: Uint8Array, h: PublishHeaders, what: string): Promise<PubAck> {
    if (nc.isClosed()) return Promise.reject(new AppError('UNAVAILABLE', `${what}: the NATS connection is closed`));
    ensureSubscribed();
    const token = (next++).toString(36);
    const hdrs = toHeaders(h);
    return new Promise<PubAck>((resolve, reject) => {
      waiting.set(token, { resolve, reject, deadline: performance.now() + timeoutMs, what });
      sweeper ??= setInterval(sweep, sweepMs);
      try {
        nc.publish(subject, data, { reply: `${prefix}.${token}`, ...(hdrs !== undefined ? { headers: hdrs } : {}) });
      } catch (err) {
        waiting.delete(token);
        reject(new AppError('UNAVAILABLE', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      }
    });
  }

  return {
    publish,
    get pending() {
      return waiting.size;
    },
  };
}

function toHeaders(h: PublishHeaders): MsgHdrs | undefined {
  if (h.msgId === undefined && h.expectedLastSubjectSeq === undefined && h.rollup !== true) return undefined;
  const hdrs = natsHeaders();
  if (h.msgId !== undefined) hdrs.set('Nats-Msg-Id', h.msgId);
  if (h.expectedLastSubjectSeq !== undefined) hdrs.set('Nats-Expected-Last-Subject-Sequence', String(h.expectedLastSubjectSeq));
  if (h.rollup === true) hdrs.set('Nats-Rollup', 'sub');
  return hdrs;
}

/** The status code of a status message (no responders: 503), 0 for a plain message. */
function statusOf(h: MsgHdrs | undefined): number {
  return h?.code ?? 0;
}
