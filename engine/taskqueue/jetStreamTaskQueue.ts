import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, type Consumer, type ConsumerConfig, type JetStreamManager, type JsMsg, type SeqMsgRequest } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import { silentLogger, type Logger } from '../log.ts';
import { createPubAckPublisher } from '../nats/pubAcks.ts';
import { startPullLoop } from '../nats/pullLoop.ts';
import { sleep } from '../retry.ts';
import { STREAM_TASKS, taskSubject } from '../subjects.ts';
import type { ConsumeOptions, Delivery, TaskConsumer, TaskMessage, TaskQueue, TaskQueueOptions } from './taskQueue.ts';

/** Options of {@link createJetStreamTaskQueue}. */
export interface JetStreamTaskQueueOptions extends TaskQueueOptions {
  /** A connection the caller owns (close() leaves it open). */
  nc: NatsConnection;
  /** @defaultValue 'TASKS' */
  stream?: string;
  /** Durable consumer name = prefix + pool; all processes of a pool share it. @defaultValue 'pool-' */
  durablePrefix?: string;
  /** Timeout of publish / ack / consumer requests. @defaultValue 5000 */
  requestTimeoutMs?: number;
  /** Where a consumer found blind after a server crash is reported. @defaultValue silent */
  logger?: Logger;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** How often a pool checks that its consumer still sees what the stream holds. */
const BLIND_CHECK_MS = 10_000;
/** A consumer found blind is checked once more after this before it is made anew. */
const BLIND_RECHECK_MS = 250;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const nanos = (ms: number) => Math.round(ms * 1_000_000);

/** Dedup id of one dispatch: the same attempt of the same task under the same claim is sent once. */
export const dispatchMsgId = (t: TaskMessage) => `${t.jobId}:${t.taskId}:${t.attempt}:${t.epoch}`;

/**
 * The work queue on stream TASKS: one durable pull consumer per pool with explicit acks, pulled
 * only for free handler slots (so no message waits in a local buffer while its ack timer runs).
 * Messages that reach max_deliver are deleted from the stream (a work queue keeps them otherwise).
 */
export function createJetStreamTaskQueue(opts: JetStreamTaskQueueOptions): TaskQueue {
  const stream = opts.stream ?? STREAM_TASKS;
  const prefix = opts.durablePrefix ?? 'pool-';
  const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const { nc, ackWaitMs, maxDeliver } = opts;
  const logger = opts.logger ?? silentLogger;
  const js = jetstream(nc, { timeout });
  let jsmP: Promise<JetStreamManager> | undefined;
  const jsm = () => (jsmP ??= js.jetstreamManager(false));
  const consumers = new Set<TaskConsumer>();
  const pubAcks = createPubAckPublisher(nc, timeout);

  async function dispatch(pool: string, task: TaskMessage): Promise<void> {
    const subject = taskSubject(pool);
    await pubAcks.publish(subject, encoder.encode(JSON.stringify(task)), { msgId: dispatchMsgId(task) }, `dispatch to ${subject}`);
  }

  /** Creates the pool's durable consumer, or updates it when ack wait / max deliver changed. */
  async function ensureConsumer(pool: string): Promise<Consumer> {
    const name = prefix + pool;
    const want: Partial<ConsumerConfig> = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
      filter_subject: taskSubject(pool),
      deliver_policy: DeliverPolicy.All,
      // each process pulls only for its free slots; the default cap (1000) would bound the pool
      max_ack_pending: -1,
    };
    const m = await jsm();
    try {
      const ci = await m.consumers.info(stream, name);
      const c = ci.config;
      if (c.ack_wait !== want.ack_wait || c.max_deliver !== want.max_deliver || c.max_ack_pending !== want.max_ack_pending) {
        await m.consumers.update(stream, name, { ack_wait: want.ack_wait, max_deliver: maxDeliver, max_ack_pending: -1 });
      }
    } catch (err) {
      if (!(err instanceof jserrors.ConsumerNotFoundError)) throw err;
      await m.consumers.add(stream, want);
    }
    return js.consumers.get(stream, name);
  }

  /**
   * True when the pool's consumer cannot see messages the stream holds. After a kill -9, a work
   * queue that was empty can come back with its sequence reset while the consumer kept its ack
   * floor (nats-server#6881, fixed only in 2.14): tasks stored at or below that floor are never
   * delivered. The consumer is read first, so its sequences name messages that existed then;
   * a stream's last sequence never goes down otherwise.
   */
  async function consumerIsBlind(pool: string): Promise<boolean> {
    const m = await jsm();
    const ci = await m.consumers.info(stream, prefix + pool);
    const si = await m.streams.info(stream);
    if (ci.delivered.stream_seq > si.state.last_seq) return true;
    // the server's MSG.GET takes next_by_subj (since 2.9); the client types it for direct gets only
    const first: SeqMsgRequest = { seq: 1, next_by_subj: taskSubject(pool) } as SeqMsgRequest;
    const oldest = await m.streams.getMessage(stream, first);
    return oldest !== null && oldest.seq <= ci.ack_floor.stream_seq;
  }

  /** Checks twice (a moment apart) and, if the consumer is still blind, makes it anew. */
  async function healIfBlind(pool: string): Promise<boolean> {
    if (!(await consumerIsBlind(pool))) return false;
    await sleep(BLIND_RECHECK_MS);
    if (!(await consumerIsBlind(pool))) return false;
    logger.warn({ stream, consumer: prefix + pool }, 'task consumer is ahead of its stream after a nats-server crash; recreating it (tasks it held may run again)');
    const m = await jsm();
    await m.consumers.delete(stream, prefix + pool).catch((err: unknown) => {
      if (!(err instanceof jserrors.ConsumerNotFoundError)) throw err;
    });
    return true;
  }

  function toDelivery(m: JsMsg, task: TaskMessage, settle: () => void): Delivery {
    return {
      task,
      deliveryCount: m.info.deliveryCount,
      working: () => m.working(),
      // A plain ack, not a confirmed one (ackAck, a round trip per task): the outcome is already in the
      // log, so a lost ack only means a redelivery that finishedFor drops, or a second run counted once
      // (decision 0012, §5 step 0).
      ack: async () => {
        settle();
        m.ack();
      },
      nak: (delayMs?: number) => {
        settle();
        m.nak(delayMs);
      },
      term: () => {
        settle();
        m.term();
      },
    };
  }

  function consume(pool: string, concurrency: number, handler: (d: Delivery) => Promise<void>, copts: ConsumeOptions = {}): TaskConsumer {
    const name = prefix + pool;
    /** When the next blindness check is due (performance.now()); 0 = at once (start, reconnect). */
    let checkDueAt = 0;

    // past max_deliver the server stops delivering but a work queue keeps the message: delete it
    const advisories: Subscription = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${name}`, {
      callback: (_err, msg) => {
        let seq: unknown;
        try {
          seq = msg.json<{ stream_seq?: unknown }>().stream_seq;
        } catch {
          return;
        }
        if (typeof seq !== 'number') return;
        // every process of the pool gets the advisory: reporting and deleting twice is harmless
        void (async () => {
          const m = await jsm();
          if (copts.onExhausted) {
            const stored = await m.streams.getMessage(stream, { seq }).catch(() => null);
            if (stored) await copts.onExhausted(stored.json<TaskMessage>());
          }
          await m.streams.deleteMessage(stream, seq, false);
        })().catch(() => undefined);
      },
    });

    function start(m: JsMsg): void {
      let task: TaskMessage;
      try {
        task = JSON.parse(decoder.decode(m.data)) as TaskMessage;
      } catch {
        m.term(); // a body that is not JSON would fail on every delivery
        return;
      }
      let settled = false;
      const d = toDelivery(m, task, () => (settled = true));
      pull.track(
        (async () => {
          try {
            await handler(d);
          } catch {
            if (!settled) m.nak(); // unsettled and failed: let another delivery try
          }
        })(),
      );
    }

    // Pulled only for free handler slots, so no message waits in a local buffer while its ack timer runs.
    const pull = startPullLoop({
      nc,
      ensureConsumer: () => ensureConsumer(pool),
      batchSize: (running) => concurrency - running,
      onMessage: start,
      beforePull: async () => {
        if (performance.now() < checkDueAt) return false;
        checkDueAt = performance.now() + BLIND_CHECK_MS;
        return healIfBlind(pool);
      },
      onReconnect: () => (checkDueAt = 0), // the server may have come back from a crash with its sequences reset
      settledEndsBackoff: true,
    });

    let draining$: Promise<void> | undefined;
    const tc: TaskConsumer = {
      drain: () =>
        (draining$ ??= (async () => {
          consumers.delete(tc);
          await pull.stop();
          advisories.unsubscribe();
        })()),
    };
    consumers.add(tc);
    return tc;
  }

  return {
    dispatch,
    consume,
    close: async () => {
      await Promise.all([...consumers].map((c) => c.drain()));
    },
  };
}
