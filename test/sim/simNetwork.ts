/**
 * The simulated network between processes and the shared in-memory "NATS": each process gets its
 * own EventLog and TaskQueue whose every request, reply and delivered record is a task of
 * fast-check's scheduler, so fast-check picks the order in which I/O completes. A frozen process
 * neither sends nor receives until woken; a dead one never again.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type fc from 'fast-check';
import type { Envelope, JobEvent } from '../../actors/events.ts';
import { isAppError } from '../../engine/errors.ts';
import { settleItem, type AppendOptions, type EventLog, type Follower, type LogRecord } from '../../engine/eventlog/eventLog.ts';
import type { MemoryEventLog } from '../../engine/eventlog/memoryEventLog.ts';
import type { JobProjection } from '../../engine/projections/jobProjection.ts';
import { parseSubject } from '../../engine/subjects.ts';
import type { Delivery, TaskConsumer, TaskMessage, TaskQueue } from '../../engine/taskqueue/taskQueue.ts';
import type { SimProcess } from './simProcess.ts';

/** One append a coordinator sent, as it met the store. */
export interface AppendAttempt {
  proc: SimProcess;
  jobId: string;
  types: string[];
  /** The job had moved past the epoch these events were decided under when they reached the store. */
  stale: boolean;
  result: 'stored' | 'duplicate' | 'CONFLICT' | 'UNAVAILABLE' | 'other';
}

/** A worker's consumer, kept so the simulation can inject a duplicate delivery or cut it off. */
interface ConsumerRef {
  proc: SimProcess;
  handler: (d: Delivery) => Promise<void>;
  inner: TaskConsumer;
}

export interface SimNetwork {
  eventLogFor(proc: SimProcess): EventLog;
  taskQueueFor(proc: SimProcess): TaskQueue;
  /** Stop delivering tasks to a dead worker (its held deliveries expire after ackWait). */
  cutOff(proc: SimProcess): void;
  /** Deliver an already delivered task once more to a running worker (JetStream redelivery). */
  duplicateDelivery(pick: number): boolean;
  readonly attempts: AppendAttempt[];
}

/** The process a task handler runs in (set around every delivery), so a job type can tell which worker runs it. */
export const currentProc = new AsyncLocalStorage<SimProcess>();

export interface SimNetworkOptions {
  /** A process sends a task to the queue (before the request hops). */
  onDispatch?: (proc: SimProcess, task: TaskMessage) => void;
  /** The store executes a purge of `subject` asked by `proc`. */
  onPurge?: (proc: SimProcess, subject: string) => void;
  scheduler: fc.Scheduler;
  log: MemoryEventLog;
  queue: TaskQueue;
  /** An up-to-date fold of the store, to judge appends when they reach it. */
  truth: JobProjection;
}

/** The epoch a coordinator's events were decided under (claims and requeues propose epoch + 1). */
function decidedEpoch(events: readonly Envelope[]): number {
  const e = events[0] as JobEvent;
  return e.type === 'JobClaimed' || e.type === 'JobRequeued' ? e.data.epoch - 1 : e.meta.epoch;
}

/** `job/task#attempt@epoch`, short, for the scheduler's report. */
const taskLabel = (t: TaskMessage) => `${t.jobId.slice(0, 8)}/${t.taskId}#${t.attempt}@${t.epoch}`;

export function createSimNetwork(opts: SimNetworkOptions): SimNetwork {
  const { scheduler, log, queue, truth } = opts;
  const attempts: AppendAttempt[] = [];
  const consumers: ConsumerRef[] = [];
  const delivered: TaskMessage[] = [];

  /** One network hop of `proc`: scheduled by fast-check, then held while the process is stopped. */
  async function hop(proc: SimProcess, label: string): Promise<void> {
    await scheduler.schedule(Promise.resolve(), label);
    await proc.gate();
  }

  /** Request, execution at the server, reply: the two hops are ordered by the scheduler. */
  async function rpc<T>(proc: SimProcess, label: string, op: () => Promise<T>): Promise<T> {
    await hop(proc, `${proc.name}>${label}`);
    let out: { ok: true; value: T } | { ok: false; err: unknown };
    try {
      out = { ok: true, value: await op() };
    } catch (err) {
      out = { ok: false, err };
    }
    await hop(proc, `${proc.name}<${label}`);
    if (!out.ok) throw out.err;
    return out.value;
  }

  async function recordedAppend(proc: SimProcess, subject: string, events: readonly Envelope[], o: AppendOptions | undefined) {
    const s = parseSubject(subject);
    const coordinatorWrite = proc.kind === 'coord' && s?.kind === 'job-ev';
    if (!coordinatorWrite) return log.append(subject, events, o);
    const cur = truth.get(s.id);
    const attempt: AppendAttempt = {
      proc, jobId: s.id, types: events.map((e) => e.type),
      stale: cur !== undefined && decidedEpoch(events) < cur.snapshot.context.epoch, result: 'other',
    };
    attempts.push(attempt);
    try {
      const res = await log.append(subject, events, o);
      attempt.result = res.duplicate ? 'duplicate' : 'stored';
      return res;
    } catch (err) {
      attempt.result = isAppError(err, 'CONFLICT') ? 'CONFLICT' : isAppError(err, 'UNAVAILABLE') ? 'UNAVAILABLE' : 'other';
      throw err;
    }
  }

  function eventLogFor(proc: SimProcess): EventLog {
    return {
      append: (subject, events, o) => rpc(proc, `append ${subject}`, () => recordedAppend(proc, subject, events, o)),
      // one request and one reply for the whole batch; each item decides alone, as the interface says
      appendBatch: (items) => rpc(proc, `appendBatch ${items.length}`, () =>
        Promise.all(items.map((i) => settleItem(() => recordedAppend(proc, i.subject, i.events, i.opts))))),
      readSubject: (subject) => rpc(proc, `read ${subject}`, () => log.readSubject(subject)),
      purge: (subject) => rpc(proc, `purge ${subject}`, () => {
        opts.onPurge?.(proc, subject);
        return log.purge(subject);
      }),
      lastSeq: () => rpc(proc, 'lastSeq', () => log.lastSeq()),
      listSubjects: (filter) => rpc(proc, `list ${filter}`, () => log.listSubjects(filter)),
      follow(fromSeq, onRecord, fo): Follower {
        return log.follow(fromSeq, async (r: LogRecord) => {
          await hop(proc, `${proc.name}:rec ${r.seq}`);
          await onRecord(r);
        }, fo);
      },
      close: async () => undefined,
    };
  }

  function wrapDelivery(proc: SimProcess, d: Delivery): Delivery {
    const alive = () => proc.state() !== 'dead';
    return {
      task: d.task,
      deliveryCount: d.deliveryCount,
      working: () => alive() && d.working(),
      ack: () => rpc(proc, `ack ${taskLabel(d.task)}`, () => d.ack()),
      nak: (ms) => alive() && d.nak(ms),
      term: () => alive() && d.term(),
    };
  }

  function taskQueueFor(proc: SimProcess): TaskQueue {
    return {
      dispatch: (pool, task) => {
        opts.onDispatch?.(proc, task);
        return rpc(proc, `dispatch ${taskLabel(task)}`, () => queue.dispatch(pool, task));
      },
      consume(pool, concurrency, handler, opts = {}) {
        const onExhausted = opts.onExhausted;
        const inner = queue.consume(
          pool,
          concurrency,
          async (d) => {
            delivered.push(d.task);
            await hop(proc, `${proc.name}:task ${taskLabel(d.task)}`);
            await currentProc.run(proc, () => handler(wrapDelivery(proc, d)));
          },
          // the queue's notice reaches the process like any other message: not while frozen or dead
          onExhausted ? { onExhausted: async (t) => { await hop(proc, `${proc.name}:exhausted ${taskLabel(t)}`); await onExhausted(t); } } : {},
        );
        consumers.push({ proc, handler, inner });
        return inner;
      },
      close: async () => undefined,
    };
  }

  return {
    eventLogFor,
    taskQueueFor,
    cutOff(proc) {
      for (const c of consumers) if (c.proc === proc) void c.inner.drain();
    },
    duplicateDelivery(pick) {
      const live = consumers.filter((c) => c.proc.state() === 'running');
      if (live.length === 0 || delivered.length === 0) return false;
      const c = live[pick % live.length]!;
      const task = structuredClone(delivered[pick % delivered.length]!);
      // A redelivery the first consumer does not know about: its ack and nak change nothing.
      const d: Delivery = { task, deliveryCount: 2, working: () => undefined, ack: async () => undefined, nak: () => undefined, term: () => undefined };
      void (async () => {
        await hop(c.proc, `${c.proc.name}:dup ${taskLabel(task)}`);
        await currentProc.run(c.proc, () => c.handler(wrapDelivery(c.proc, d)));
      })();
      return true;
    },
    attempts,
  };
}
