/**
 * The pull loop shared by the task queue's pool consumers and the webhook consumer: pull from a
 * durable consumer, hand each message to a handler that may keep running (tracked as in flight),
 * start again on a fresh pull after a reconnect, look the consumer up again after a failed pull and
 * back off, and on stop nak what is still delivered and wait for the handlers. What differs (how
 * many to pull, what a message starts, checks before a pull) comes in as callbacks.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { backoffDelay, createPause, type Backoff } from '../retry.ts';
import { onReconnect } from './connection.ts';

/** How long one pull waits for messages. */
export const PULL_EXPIRES_MS = 5_000;
/** A pull that outlives this is abandoned (the client's heartbeat checks should end it first). */
export const PULL_GUARD_MS = PULL_EXPIRES_MS + 5_000;
/** After a failed pull: 250 ms, doubling up to 5 s; a pull that ends normally resets it. */
export const PULL_RETRY_BACKOFF: Backoff = { baseMs: 250, maxMs: 5_000 };

/** Options of {@link startPullLoop}. */
export interface PullLoopOptions {
  nc: NatsConnection;
  /** Looks the durable up (creating or updating it); called again after every failed pull. */
  ensureConsumer: () => Promise<Consumer>;
  /** The consumer when the caller already looked it up (to fail early). */
  consumer?: Consumer;
  /** How many messages the next pull asks for, given the handlers running; 0 or less = wait until one settles. */
  batchSize: (running: number) => number;
  /**
   * One message of a pull, not called once stopping (the message is nak'ed). It may wait (the pull
   * waits with it); work that outlives it goes to {@link PullLoop.track}.
   */
  onMessage: (m: JsMsg) => void | Promise<void>;
  /** Before each pull, once the consumer is known: true = the consumer is to be looked up anew. */
  beforePull?: () => Promise<boolean>;
  /** A failed pull (told before the backoff; not once stopping). */
  onError?: (err: unknown) => void;
  /** After a reconnect, before the current pull is ended. */
  onReconnect?: () => void;
  /** A handler settling also ends a backoff, so a freed slot pulls at once. @defaultValue false */
  settledEndsBackoff?: boolean;
}

export interface PullLoop {
  /** Adds a running handler: stop() waits for it; its settling frees a slot. It must not reject. */
  track(p: Promise<void>): void;
  /** Handlers running now. */
  running(): number;
  /** Resolves when one of the handlers running now settles (never, when none runs). */
  anySettled(): Promise<void>;
  /** Stops pulling (messages still delivered are nak'ed), then waits for the running handlers. */
  stop(): Promise<void>;
}

/** Starts pulling at once; see {@link PullLoopOptions} for what the caller decides. */
export function startPullLoop(opts: PullLoopOptions): PullLoop {
  const { nc } = opts;
  const inflight = new Set<Promise<void>>();
  const pause = createPause();
  let stopping = false;
  let iter: ConsumerMessages | undefined;
  let markStopped!: () => void;
  const stopped = new Promise<void>((res) => (markStopped = res));

  async function loop(): Promise<void> {
    let consumer = opts.consumer;
    let failures = 0; // consecutive failed pulls
    while (!stopping) {
      if (opts.batchSize(inflight.size) <= 0) {
        await Promise.race([...inflight, stopped]);
        continue;
      }
      let guard: NodeJS.Timeout | undefined;
      try {
        consumer ??= await opts.ensureConsumer();
        if (stopping) break;
        if (await opts.beforePull?.()) {
          consumer = undefined;
          continue;
        }
        const it = await consumer.fetch({ max_messages: opts.batchSize(inflight.size), expires: PULL_EXPIRES_MS });
        iter = it;
        if (stopping) void it.close();
        guard = setTimeout(() => void it.close(), PULL_GUARD_MS);
        for await (const m of it) {
          if (stopping) m.nak();
          else await opts.onMessage(m);
        }
        failures = 0;
      } catch (err) {
        // server restart, timeout, missed heartbeats, consumer deleted: look it up again and retry
        if (nc.isClosed() || stopping) break;
        opts.onError?.(err);
        consumer = undefined;
        await pause(backoffDelay(PULL_RETRY_BACKOFF, failures));
        failures++;
      } finally {
        clearTimeout(guard);
        iter = undefined;
      }
    }
  }

  // a pull made before a server restart is gone: make a new one now, not when its guard fires
  const stopWatch = onReconnect(nc, () => {
    opts.onReconnect?.();
    void iter?.close();
  });
  const done = loop();
  let stopping$: Promise<void> | undefined;
  return {
    track(p) {
      const q: Promise<void> = p.finally(() => {
        inflight.delete(q);
        if (opts.settledEndsBackoff === true) pause.wake();
      });
      inflight.add(q);
    },
    running: () => inflight.size,
    anySettled: () => Promise.race(inflight),
    stop: () =>
      (stopping$ ??= (async () => {
        stopping = true;
        void iter?.close();
        pause.wake();
        markStopped();
        await done;
        await Promise.all([...inflight]);
        stopWatch();
      })()),
  };
}
