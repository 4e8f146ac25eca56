/**
 * The webhook deliverer's queue in memory, with the JetStream durable's semantics (hookQueue.ts):
 * it follows an EventLog and queues every `job.*.hook` record in stream order (the durable's one filter); each
 * is handed to one consumer at a time; ack finishes it, nak(delay) hands it out again after the delay,
 * and a record neither acked nor kept alive within the ack wait goes to the next consumer. No limit on
 * deliveries (the deliverer counts its attempts in the delivery log). Records that pass no
 * `mayTrigger` are acked at once. Time comes from the clocks: the queue's for ack deadlines and nak
 * delays, each consumer's for its keep-alives.
 */
import { systemClock, type Clock } from '../clock.ts';
import type { EventLog, Follower } from '../eventlog/eventLog.ts';
import type { Logger } from '../log.ts';
import { parseSubject } from '../subjects.ts';
import type { HookConsumerHandle, HookMessage } from './hookMessage.ts';
import { DEFAULT_HOOK_CONCURRENCY, type HookQueue } from './hookQueue.ts';

/** A handler that threw: its record is nak'ed with this delay (as on JetStream). */
const ERROR_RETRY_MS = 1_000;
/** Floor of the keep-alive interval (a third of the ack wait), as on JetStream. */
const MIN_KEEP_ALIVE_MS = 100;

/** Options of {@link createMemoryHookQueue}. */
export interface MemoryHookQueueOptions {
  /** The store whose records are queued (the durable's stream). */
  eventLog: EventLog;
  /** Ack deadlines and nak delays. @defaultValue systemClock */
  clock?: Clock;
  /**
   * First stream sequence queued. @defaultValue the one after the log's head when the first consumer
   * arrives, as the JetStream durable, created by the first consume() with deliver policy `new`
   */
  fromSeq?: number;
  /** Told when following the log fails. */
  logger?: Logger;
}

/** A HookQueue in memory; `close()` stops following the log and every consumer. */
export interface MemoryHookQueue extends HookQueue {
  /** Records queued and not yet acked. */
  pending(): number;
  close(): Promise<void>;
}

interface Entry {
  seq: number;
  subject: string;
  data: Uint8Array;
  deliveries: number;
  /** Ack deadline or nak delay. */
  timer?: unknown;
  /** Handed to a consumer and not acked, nak'ed or expired since. */
  out: boolean;
  /** Acked: gone for good. */
  done: boolean;
}

export function createMemoryHookQueue(opts: MemoryHookQueueOptions): MemoryHookQueue {
  const clock = opts.clock ?? systemClock;
  /** Waiting to be handed out, by stream sequence (a nak'ed record goes back in its place). */
  const ready: Entry[] = [];
  const pullers = new Set<() => void>();
  const handles = new Set<HookConsumerHandle>();
  let pending = 0;
  /** The longest ack wait asked by a consumer (the durable has one; consumers agree on it). */
  let ackWaitMs = 0;

  function makeReady(e: Entry): void {
    e.out = false;
    if (e.done) return;
    const i = ready.findIndex((r) => r.seq > e.seq);
    ready.splice(i === -1 ? ready.length : i, 0, e);
    for (const pull of [...pullers]) pull();
  }

  function later(e: Entry, ms: number): void {
    clock.clearTimeout(e.timer);
    e.out = false;
    e.timer = clock.setTimeout(() => makeReady(e), ms);
  }

  function armAckDeadline(e: Entry): void {
    clock.clearTimeout(e.timer);
    e.timer = clock.setTimeout(() => {
      if (e.out) makeReady(e);
    }, ackWaitMs);
  }

  function finish(e: Entry): void {
    clock.clearTimeout(e.timer);
    e.out = false;
    if (e.done) return;
    e.done = true;
    pending--;
    const i = ready.indexOf(e);
    if (i !== -1) ready.splice(i, 1);
  }

  let closed = false;
  /** Following the log from the queue's first sequence: started by the first consume() (the durable's creation). */
  let following: Promise<Follower | undefined> | undefined;
  const follow = (): Promise<Follower | undefined> =>
    (following ??= (async () => {
      const from = opts.fromSeq ?? (await opts.eventLog.lastSeq()) + 1;
      if (closed) return undefined;
      return opts.eventLog.follow(
        from,
        (r) => {
          const kind = parseSubject(r.subject)?.kind;
          if (kind !== 'job-hook') return;
          pending++;
          makeReady({ seq: r.seq, subject: r.subject, data: Buffer.from(JSON.stringify(r.events)), deliveries: 0, out: false, done: false });
        },
        { onError: (err) => opts.logger?.error({ err }, 'the webhook queue stopped following the event log') },
      );
    })());

  async function consume(c: Parameters<HookQueue['consume']>[0]): Promise<HookConsumerHandle> {
    await follow();
    const own = c.clock ?? systemClock;
    const concurrency = c.concurrency ?? DEFAULT_HOOK_CONCURRENCY;
    const keepAliveMs = Math.max(MIN_KEEP_ALIVE_MS, Math.floor(c.ackWaitMs / 3));
    ackWaitMs = Math.max(ackWaitMs, c.ackWaitMs);
    const inflight = new Set<Promise<void>>();
    let stopping = false;

    function deliver(e: Entry): void {
      if (!c.mayTrigger(e.subject, e.data)) {
        finish(e); // the hot path: most records are not terminal events
        return;
      }
      const mine = ++e.deliveries;
      e.out = true;
      armAckDeadline(e);
      // working and nak count only while this delivery still holds the record; ack always counts
      // (JetStream applies a late ack by stream sequence, even after a redelivery)
      const holds = () => e.out && !e.done && e.deliveries === mine;
      const m: HookMessage = {
        subject: e.subject,
        seq: e.seq,
        data: e.data,
        ack: () => finish(e),
        nak: (delayMs) => {
          if (holds()) later(e, delayMs);
        },
        working: () => {
          if (holds()) armAckDeadline(e);
        },
      };
      let keepAlive: unknown;
      const keep = () => {
        keepAlive = own.setTimeout(() => {
          m.working();
          keep();
        }, keepAliveMs);
      };
      keep();
      const p: Promise<void> = (async () => {
        await Promise.resolve(); // handed over asynchronously, as a fetched message is
        await c.handler(m);
      })()
        .catch((err: unknown) => {
          c.logger.warn({ err, seq: e.seq, subject: e.subject }, 'webhook handler failed; retrying the record');
          m.nak(ERROR_RETRY_MS);
        })
        .finally(() => {
          own.clearTimeout(keepAlive);
          inflight.delete(p);
          pull();
        });
      inflight.add(p);
    }

    function pull(): void {
      while (!stopping && inflight.size < concurrency && ready.length > 0) {
        const e = ready.shift()!;
        if (!e.done) deliver(e);
      }
    }

    pullers.add(pull);
    queueMicrotask(pull);
    let stopped: Promise<void> | undefined;
    const handle: HookConsumerHandle = {
      stop: () =>
        (stopped ??= (async () => {
          stopping = true;
          pullers.delete(pull);
          handles.delete(handle);
          await Promise.all([...inflight]);
        })()),
    };
    handles.add(handle);
    return handle;
  }

  return {
    consume,
    pending: () => pending,
    async close() {
      closed = true;
      await (await following)?.stop();
      await Promise.all([...handles].map((h) => h.stop()));
    },
  };
}
