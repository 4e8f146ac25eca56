/**
 * The durable pull consumer `hooks` on stream JOBS that feeds the webhook deliverer the `job.*.hook`
 * records (WebhookDue, written only for jobs with targets, and redelivery requests: decision 0012 F4).
 * One server-side filter ({@link HOOKS_FILTER} says why). Every coordinator-role process pulls from the
 * same durable, so each record is handled by one of them. Created with deliver policy `new`: history
 * is not re-notified. Records that trigger nothing are acked at once by the handler; a trigger runs
 * concurrently with others, up to `concurrency`, and is acked or nak'ed with a delay (backoff) by the
 * handler.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, type Consumer, type ConsumerConfig, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import type { HookConsumerHandle, HookMessage } from '../hooks/hookMessage.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../retry.ts';
import { startPullLoop } from './pullLoop.ts';
import { CONSUMER_HOOKS, STREAM_JOBS } from '../subjects.ts';

export type { NatsConnection };

/** Options of {@link startHookConsumer}. */
export interface HookConsumerOptions {
  nc: NatsConnection;
  /** Called for every record that passes `mayTrigger`; must ack or nak it (a throw naks it after 1 s). */
  handler: (m: HookMessage) => Promise<void>;
  /** Cheap pre-check on the raw record; false = acked at once without calling the handler. */
  mayTrigger: (subject: string, data: Uint8Array) => boolean;
  /** A record not acked within this is redelivered (a crashed deliverer). */
  ackWaitMs: number;
  /** Handlers running at once. @defaultValue 32 */
  concurrency?: number;
  logger: Logger;
  /** @defaultValue 'JOBS' */
  stream?: string;
  /** @defaultValue CONSUMER_HOOKS ('hooks') */
  durable?: string;
  /** @defaultValue 5000 */
  requestTimeoutMs?: number;
}

/** Records per pull: most are acked at once, so large pulls keep the hot path cheap. */
// Small enough that records waiting behind busy handlers do not outlive the short ack wait.
const FETCH_BATCH = 64;
/** A handler that threw: its record is nak'ed with this delay. */
const ERROR_RETRY_MS = 1_000;
/** Floor of the interval at which a held record's ack timer is reset (a third of the ack wait). */
const MIN_KEEP_ALIVE_MS = 100;
const nanos = (ms: number) => Math.round(ms * 1_000_000);

/**
 * One filter, never several: on nats-server 2.15.1 a consumer with two or more filters finds each
 * next message by intersecting the filters with every subject of the file block it reads
 * (`LoadNextMsgMulti` → `firstMatchingMulti` → `stree.IntersectGSL`), a walk over thousands of job
 * subjects per message once the consumer lags (100,000 jobs bulk-submitted: 86 % of the server's CPU,
 * ~1,070 µs per job; 2.10.27 is slow there too). One filter takes the linear scan (docs/nats-notes.md,
 * 2026-12-05). Since F4 the trigger of a terminal state is a `.hook` record (WebhookDue), so the
 * `.ev` and `.task` records no longer reach the consumer; a durable made with `job.*.*` (or the two
 * filters before it) is updated on start.
 */
export const HOOKS_FILTER = 'job.*.hook';
/** Subjects whose records go to `mayTrigger` and the handler; anything else (left from an older filter) is acked at once. */
const isHookRecord = (subject: string) => subject.endsWith('.hook');

/** The consumer config we want (exported for tests and docs). */
export function hookConsumerConfig(durable: string, ackWaitMs: number): Partial<ConsumerConfig> {
  return {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    deliver_policy: DeliverPolicy.New,
    filter_subjects: [HOOKS_FILTER],
    // retries are nak'ed with a delay and counted in the delivery log, not by the server
    max_deliver: -1,
    // notifications waiting out a backoff stay unacked: do not let them stall new ones
    max_ack_pending: -1,
  };
}

/** Creates (or updates) the durable and pulls from it until stop(). */
export async function startHookConsumer(opts: HookConsumerOptions): Promise<HookConsumerHandle> {
  const { nc, handler, logger } = opts;
  const stream = opts.stream ?? STREAM_JOBS;
  const durable = opts.durable ?? CONSUMER_HOOKS;
  const concurrency = opts.concurrency ?? 32;
  const timeout = opts.requestTimeoutMs ?? 5_000;
  const js = jetstream(nc, { timeout });
  let jsmP: Promise<JetStreamManager> | undefined;
  const jsm = () => (jsmP ??= js.jetstreamManager(false));

  async function ensureConsumer(): Promise<Consumer> {
    const want = hookConsumerConfig(durable, opts.ackWaitMs);
    const m = await jsm();
    try {
      const c = (await m.consumers.info(stream, durable)).config;
      if (c.ack_wait !== want.ack_wait || JSON.stringify(c.filter_subjects) !== JSON.stringify(want.filter_subjects) || c.max_ack_pending !== -1) {
        await m.consumers.update(stream, durable, { ack_wait: want.ack_wait, filter_subjects: want.filter_subjects, max_ack_pending: -1 });
      }
    } catch (err) {
      if (!(err instanceof jserrors.ConsumerNotFoundError)) throw err;
      try {
        await m.consumers.add(stream, want);
      } catch (addErr) {
        // another process created it meanwhile: use theirs
        if (!(await m.consumers.info(stream, durable).then(() => true, () => false))) throw addErr;
      }
    }
    return js.consumers.get(stream, durable);
  }

  function toMessage(m: JsMsg): HookMessage {
    return {
      subject: m.subject,
      seq: m.seq,
      data: m.data,
      ack: () => m.ack(),
      nak: (delayMs) => m.nak(delayMs),
      working: () => m.working(),
    };
  }

  /** Aborted by stop(): a record still waiting for a slot is handed back instead of started. */
  const stopping = new AbortController();

  /**
   * Waits for a free handler slot; keeps the waiting record's ack timer alive meanwhile. False when
   * the consumer stopped first (its wait ends at once, so it holds neither the process nor the record).
   */
  async function slot(m: JsMsg): Promise<boolean> {
    while (pull.running() >= concurrency && !stopping.signal.aborted) {
      m.working();
      // one wait, ended by whichever comes first: a free slot, the keep-alive period, or stop()
      const wait = new AbortController();
      const onStop = () => wait.abort();
      stopping.signal.addEventListener('abort', onStop, { once: true });
      try {
        await Promise.race([pull.anySettled(), sleep(Math.max(MIN_KEEP_ALIVE_MS, opts.ackWaitMs / 3), { signal: wait.signal })]);
      } finally {
        wait.abort(); // clears the timer when a slot freed first
        stopping.signal.removeEventListener('abort', onStop);
      }
    }
    return !stopping.signal.aborted;
  }

  function start(m: JsMsg): void {
    const hm = toMessage(m);
    // Keep the record ours while the handler runs (projection wait, reads, POSTs): the ack wait
    // can then stay short, so a record held by a process that dies is redelivered within seconds.
    const keepAlive = setInterval(() => m.working(), Math.max(MIN_KEEP_ALIVE_MS, Math.floor(opts.ackWaitMs / 3)));
    pull.track(
      handler(hm)
        .catch((err: unknown) => {
          logger.warn({ err, seq: m.seq, subject: m.subject }, 'webhook handler failed; retrying the record');
          m.nak(ERROR_RETRY_MS);
        })
        .finally(() => clearInterval(keepAlive)),
    );
  }

  async function onMessage(m: JsMsg): Promise<void> {
    if (!isHookRecord(m.subject) || !opts.mayTrigger(m.subject, m.data)) {
      m.ack(); // delivery results; `.ev`/`.task` records left from an older filter
      return;
    }
    if (await slot(m)) start(m);
    else m.nak(); // stopped while waiting: another consumer (or the next start) delivers it
  }

  const pull = startPullLoop({
    nc,
    // Fail early (e.g. no JetStream) rather than in the background.
    consumer: await ensureConsumer(),
    ensureConsumer,
    batchSize: () => FETCH_BATCH,
    onMessage,
    onError: (err) => logger.warn({ err }, 'webhook consumer pull failed; retrying'),
  });
  return {
    stop: () => {
      stopping.abort();
      return pull.stop();
    },
  };
}
