import { systemClock, type Clock } from '../clock.ts';
import { checkId } from '../subjects.ts';
import type { ConsumeOptions, Delivery, TaskConsumer, TaskMessage, TaskQueue, TaskQueueOptions } from './taskQueue.ts';
import { dispatchMsgId } from './jetStreamTaskQueue.ts';

/** Options of {@link createMemoryTaskQueue}. */
export interface MemoryTaskQueueOptions extends TaskQueueOptions {
  /** Drives ack deadlines, nak delays and the dedup window. @defaultValue systemClock */
  clock?: Clock;
  /** Dispatch dedup window (as the TASKS stream's duplicate_window). @defaultValue 120000 */
  duplicateWindowMs?: number;
}

interface Entry {
  seq: number;
  task: TaskMessage;
  deliveries: number;
  /** Ack deadline or nak delay timer. */
  timer?: unknown;
  /** True while delivered and not yet acked / naked / expired. */
  out: boolean;
  /** Acked or termed: gone for good. */
  done: boolean;
}

interface Pool {
  ready: Entry[]; // sorted by seq: redeliveries go back in their original place, as on JetStream
  pullers: Set<() => void>;
  /** Consumers' onExhausted callbacks (like JetStream's MAX_DELIVERIES advisory, seen by all). */
  exhausted: Set<(task: TaskMessage) => Promise<void>>;
}

const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
const hop = () => new Promise<void>((r) => queueMicrotask(r));

/**
 * A TaskQueue in memory with the JetStream queue's semantics: dedup by dispatch id, ack deadline
 * (redelivery after ackWaitMs unless acked or working()), at most maxDeliver deliveries (then the
 * message is dropped), at most `concurrency` handlers per consumer. Time comes from the clock.
 */
export function createMemoryTaskQueue(opts: MemoryTaskQueueOptions): TaskQueue {
  const clock = opts.clock ?? systemClock;
  const windowMs = opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  const pools = new Map<string, Pool>();
  const dedup = new Map<string, number>(); // msgId -> monotonic ms of the dispatch
  const consumers = new Set<TaskConsumer>();
  let nextSeq = 1;

  const poolOf = (name: string): Pool => {
    let p = pools.get(name);
    if (p === undefined) pools.set(name, (p = { ready: [], pullers: new Set(), exhausted: new Set() }));
    return p;
  };

  function makeReady(pool: Pool, e: Entry): void {
    e.out = false;
    const i = pool.ready.findIndex((r) => r.seq > e.seq);
    pool.ready.splice(i === -1 ? pool.ready.length : i, 0, e);
    for (const pull of [...pool.pullers]) pull();
  }

  /** Redeliver after `ms`, or drop the entry when it has used up its deliveries. */
  function requeue(pool: Pool, e: Entry, ms: number): void {
    clock.clearTimeout(e.timer);
    e.out = false;
    if (e.done) return;
    if (e.deliveries >= opts.maxDeliver) {
      // JetStream stops here (and we delete it); tell the consumers, as its advisory does
      e.done = true;
      for (const cb of pool.exhausted) void cb(structuredClone(e.task)).catch(() => undefined);
      return;
    }
    e.timer = ms > 0 ? clock.setTimeout(() => makeReady(pool, e), ms) : undefined;
    if (ms <= 0) makeReady(pool, e);
  }

  function armAckDeadline(pool: Pool, e: Entry): void {
    clock.clearTimeout(e.timer);
    e.timer = clock.setTimeout(() => {
      if (e.out) requeue(pool, e, 0);
    }, opts.ackWaitMs);
  }

  async function dispatch(poolName: string, task: TaskMessage): Promise<void> {
    checkId(poolName);
    await hop();
    const id = dispatchMsgId(task);
    const at = dedup.get(id);
    if (at !== undefined && clock.monotonic() - at < windowMs) return;
    dedup.set(id, clock.monotonic());
    makeReady(poolOf(poolName), { seq: nextSeq++, task: structuredClone(task), deliveries: 0, out: false, done: false });
  }

  function consume(poolName: string, concurrency: number, handler: (d: Delivery) => Promise<void>, copts: ConsumeOptions = {}): TaskConsumer {
    const pool = poolOf(poolName);
    const onExhausted = copts.onExhausted;
    if (onExhausted) pool.exhausted.add(onExhausted);
    const inflight = new Set<Promise<void>>();
    let draining = false;

    function deliver(e: Entry): void {
      const mine = ++e.deliveries;
      e.out = true;
      armAckDeadline(pool, e);
      // working / nak only count while this delivery still owns the message; ack and term count
      // always (JetStream applies a late ack by stream sequence, even after a redelivery)
      const owns = () => e.out && e.deliveries === mine;
      const finish = () => {
        clock.clearTimeout(e.timer);
        e.done = true;
        e.out = false;
        const i = pool.ready.indexOf(e);
        if (i !== -1) pool.ready.splice(i, 1);
      };
      const d: Delivery = {
        task: structuredClone(e.task),
        deliveryCount: mine,
        working: () => {
          if (owns()) armAckDeadline(pool, e);
        },
        ack: async () => {
          finish();
          await hop();
        },
        nak: (delayMs = 0) => {
          if (owns()) requeue(pool, e, delayMs);
        },
        term: finish,
      };
      const p: Promise<void> = (async () => {
        await hop();
        try {
          await handler(d);
        } catch {
          d.nak();
        }
      })().finally(() => {
        inflight.delete(p);
        pull();
      });
      inflight.add(p);
    }

    function pull(): void {
      while (!draining && inflight.size < concurrency && pool.ready.length > 0) {
        const e = pool.ready.shift() as Entry;
        if (e.done) continue;
        deliver(e);
      }
    }

    pool.pullers.add(pull);
    queueMicrotask(pull);
    let draining$: Promise<void> | undefined;
    const tc: TaskConsumer = {
      drain: () =>
        (draining$ ??= (async () => {
          draining = true;
          pool.pullers.delete(pull);
          if (onExhausted) pool.exhausted.delete(onExhausted);
          consumers.delete(tc);
          await Promise.all([...inflight]);
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
