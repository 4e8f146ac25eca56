import { createInbox, headers, nuid, type Msg, type Subscription } from '@nats-io/transport-node';
import { AppError } from '../errors.ts';
import { serverHasAtomicBatch } from '../nats/connection.ts';
import { settleItem, type AppendResult, type BatchItem, type BatchItemResult, type EventLog } from './eventLog.ts';
import type { JetStreamLogContext } from './jetStreamLogContext.ts';

const encoder = new TextEncoder();

/** Most messages in one atomic commit (the server's default limit is 1,000). */
const MAX_ATOMIC_BATCH = 100;

/**
 * Fewest items sent as an atomic batch; smaller batches are pipelined. By default none is: measured on
 * 2.15.1 (docs/nats-notes.md), a stream commits one atomic batch at a time at ~2–3 ms each, and an
 * atomic batch of 100 costs the server ~105 µs per message against ~25 µs pipelined (the client saves
 * ~40 µs), at half the rate. Group commit gains from pipelining (one socket write); atomic batches are
 * for where atomicity itself is needed (decision 0012, M2/M3), which asks for them with a lower value.
 */
export const DEFAULT_ATOMIC_BATCH_MIN = Number.POSITIVE_INFINITY;

/** What the server answered a commit: the last message's seq and the count, or its error. */
type CommitAnswer = { ok: true; seq: number; count: number } | { ok: false; code: number; description: string } | { ok: false; code: 'timeout' };

/**
 * Group commit on the JetStream event log (decision 0012, M1).
 *
 * **Atomic** (at least `atomicMin` items, server ≥ 2.12 and the stream echoes `allow_atomic`): the items go as atomic batches
 * (`Nats-Batch-Id`/`-Sequence`/`-Commit` headers, published in one tick, one answer). The CAS and msg
 * id of every message are raw headers (the 3.4 client's `add()` drops `expect`, PITFALLS). A stale
 * CAS or a stored msg id in any item rejects the whole batch and stores nothing, so on any rejection
 * the items go again one by one (pipelined `append`, each deciding alone, with `append`'s recovery of
 * our own stored message): one extra round for a batch that met a conflict. No answer in time is an
 * outage (UNAVAILABLE per item), as for `append`: the batch may or may not be stored, and the callers'
 * msg ids make their retries safe.
 *
 * **Pipelined** (fewer items, older servers, or a stream without `allow_atomic`; `startBatch` must never reach a
 * 2.10 server, which stores the messages one by one and then fails): every item is published in the
 * same tick and the acks are awaited together, so the client sends them in one socket write.
 *
 * Items that cannot share an atomic batch go after it, one by one: a rollup, a second CAS item on one
 * subject (its expectation cannot know the seq the batch gives the first), a msg id already in the batch.
 */
export function createJetStreamBatch(cx: JetStreamLogContext, append: EventLog['append'], atomicMin = DEFAULT_ATOMIC_BATCH_MIN): EventLog['appendBatch'] {
  /** Whether atomic batches are on: asked once per connection (a reconnect may land on another server). */
  let atomic: Promise<boolean> | undefined;
  cx.onReconnect.add(() => (atomic = undefined));
  const inbox = createInbox();
  let sub: Subscription | undefined;
  const waiting = new Map<string, (a: CommitAnswer) => void>();

  async function atomicAvailable(): Promise<boolean> {
    if (!serverHasAtomicBatch(cx.nc.info?.version)) return false;
    try {
      const info = await (await cx.jsm()).streams.info(cx.stream);
      return (info.config as { allow_atomic?: boolean }).allow_atomic === true;
    } catch {
      atomic = undefined; // ask again next time
      return false;
    }
  }

  function onReply(err: Error | null, m: Msg): void {
    if (err !== null) return;
    const [id, part] = m.subject.slice(inbox.length + 1).split('.');
    const done = waiting.get(id ?? '');
    if (done === undefined) return;
    if (m.data.length === 0) return; // the first message's empty acknowledgement
    let body: { seq?: number; count?: number; error?: { err_code?: number; description?: string } };
    try {
      body = m.json();
    } catch {
      body = { error: { err_code: 0, description: 'unreadable answer' } };
    }
    if (body.error !== undefined) done({ ok: false, code: body.error.err_code ?? 0, description: body.error.description ?? '' });
    else if (part === 'c') done({ ok: true, seq: body.seq ?? 0, count: body.count ?? 0 });
  }

  /** Publishes `items` as one atomic batch in this tick and waits for the commit's answer. */
  function commit(items: readonly BatchItem[]): Promise<CommitAnswer> {
    sub ??= cx.nc.subscribe(`${inbox}.>`, { callback: onReply });
    const id = nuid.next();
    return new Promise<CommitAnswer>((resolve) => {
      const timer = setTimeout(() => finish({ ok: false, code: 'timeout' }), cx.timeout);
      const finish = (a: CommitAnswer) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(a);
      };
      waiting.set(id, finish);
      items.forEach((it, i) => {
        const last = i === items.length - 1;
        const h = headers();
        h.set('Nats-Batch-Id', id);
        h.set('Nats-Batch-Sequence', String(i + 1));
        if (last) h.set('Nats-Batch-Commit', '1');
        const o = it.opts ?? {};
        if (o.expectedLastSubjectSeq !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(o.expectedLastSubjectSeq));
        if (o.msgId !== undefined) h.set('Nats-Msg-Id', o.msgId);
        // the server answers the first message (empty, or an error) and the commit
        const reply = last ? `${inbox}.${id}.c` : i === 0 ? `${inbox}.${id}.f` : undefined;
        cx.nc.publish(it.subject, encoder.encode(JSON.stringify(it.events)), { headers: h, ...(reply !== undefined ? { reply } : {}) });
      });
    });
  }

  const oneByOne = (items: readonly BatchItem[]) => Promise.all(items.map((i) => settleItem(() => append(i.subject, i.events, i.opts))));

  async function atomicChunk(items: readonly BatchItem[]): Promise<BatchItemResult[]> {
    try {
      cx.checkConnected('append batch');
    } catch (err) {
      return items.map(() => ({ ok: false, error: err as AppError }));
    }
    const a = await commit(items);
    if (a.ok && a.count === items.length) {
      const first = a.seq - a.count + 1;
      return items.map((_, i) => ({ ok: true, result: { seq: first + i, duplicate: false } satisfies AppendResult }));
    }
    if (!a.ok && a.code === 'timeout') {
      const error = new AppError('UNAVAILABLE', `append batch of ${items.length}: no answer in ${cx.timeout} ms`);
      return items.map(() => ({ ok: false, error }));
    }
    // a conflict, a stored msg id, a full server...: each item alone decides what is true for it
    return oneByOne(items);
  }

  return async (items: readonly BatchItem[]): Promise<BatchItemResult[]> => {
    if (items.some((i) => i.events.length === 0)) throw new AppError('INTERNAL', 'append needs at least one event');
    if (items.length < Math.max(2, atomicMin) || !(await (atomic ??= atomicAvailable()))) return oneByOne(items);
    const { together, after } = partition(items);
    const results = new Array<BatchItemResult>(items.length);
    const chunks: number[][] = [];
    for (let i = 0; i < together.length; i += MAX_ATOMIC_BATCH) chunks.push(together.slice(i, i + MAX_ATOMIC_BATCH));
    await Promise.all(chunks.map(async (idx) => {
      const r = idx.length === 1 ? await oneByOne([items[idx[0]!]!]) : await atomicChunk(idx.map((i) => items[i]!));
      idx.forEach((i, k) => (results[i] = r[k]!));
    }));
    for (const i of after) results[i] = (await oneByOne([items[i]!]))[0]!;
    return results;
  };
}

/** Indexes of the items that can share atomic batches, and of those to append alone after them. */
function partition(items: readonly BatchItem[]): { together: number[]; after: number[] } {
  const together: number[] = [];
  const after: number[] = [];
  const casSubjects = new Set<string>();
  const msgIds = new Set<string>();
  items.forEach((it, i) => {
    const o = it.opts ?? {};
    const cas = o.expectedLastSubjectSeq !== undefined;
    const clash = o.rollup === true || (cas && casSubjects.has(it.subject)) || (o.msgId !== undefined && msgIds.has(o.msgId));
    if (clash) {
      after.push(i);
      return;
    }
    if (cas) casSubjects.add(it.subject);
    if (o.msgId !== undefined) msgIds.add(o.msgId);
    together.push(i);
  });
  return { together, after };
}
