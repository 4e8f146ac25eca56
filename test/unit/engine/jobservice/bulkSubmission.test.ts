/**
 * `JobService.submitMany` over the in-memory log: one appendBatch for all valid items, each item
 * answered as `submit` alone would answer it (validation, queue room, idempotency within the call and
 * across calls, a store error of one item).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../../../engine/errors.ts';
import type { BatchItem } from '../../../../engine/eventlog/eventLog.ts';
import { createMemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { SYSTEM_CALLER, type Caller, type SubmitManyResult } from '../../../../engine/serviceTypes.ts';
import { withMemoryEngine, type MemoryEngine } from '../../../helpers/memoryEngine.ts';

const ANN: Caller = { user: 'ann', role: 'operator', virtualClusters: [] };
const NOOP = { type: 'noop', spec: {} };

/** Counts the appends the engine makes (the service calls the log's methods through its wrappers at call time). */
function countAppends(e: MemoryEngine): { single: number; batches: BatchItem[][] } {
  const seen = { single: 0, batches: [] as BatchItem[][] };
  const { append, appendBatch } = e.log;
  e.log.append = (...args) => {
    seen.single++;
    return append(...args);
  };
  e.log.appendBatch = (items) => {
    seen.batches.push([...items]);
    return appendBatch(items);
  };
  return seen;
}

const statusOf = (r: SubmitManyResult) => (r.ok ? (r.created ? 201 : 200) : r.error.code);

describe('JobService.submitMany', () => {
  it('writes the valid items with one appendBatch, in item order; invalid items fail alone with submit\'s error', async () => {
    await withMemoryEngine({ roles: ['api'] }, async (e) => {
      const seen = countAppends(e);
      const results = await e.core.service.submitMany([
        { req: { ...NOOP, name: 'a' } },
        { req: { type: 'nope', spec: {} } },
        { req: { type: 'noop', spec: { tasks: 0 } } },
        { req: { ...NOOP, virtualCluster: 'nowhere' } },
        { req: { ...NOOP, name: 'b' }, idempotencyKey: 'k' },
      ], { caller: ANN });
      assert.deepEqual(results.map(statusOf), [201, 'UNKNOWN_JOB_TYPE', 'INVALID_SPEC', 'VIRTUAL_CLUSTER_NOT_FOUND', 201]);
      for (const [i, req] of [[1, { type: 'nope', spec: {} }], [2, { type: 'noop', spec: { tasks: 0 } }], [3, { ...NOOP, virtualCluster: 'nowhere' }]] as const) {
        const alone = await e.core.service.submit(req, { caller: ANN }).then(() => undefined, (err: AppError) => err);
        const r = results[i]!;
        assert.ok(!r.ok && alone, `item ${i}`);
        assert.deepEqual([r.error.code, r.error.message], [alone.code, alone.message]);
      }
      assert.equal(seen.single, 0);
      assert.equal(seen.batches.length, 1);
      assert.equal(seen.batches[0]!.length, 2);
      const [a, b] = [results[0]!, results[4]!];
      assert.ok(a.ok && b.ok);
      assert.deepEqual([a.job.name, a.job.owner, a.job.state, b.job.name], ['a', 'ann', 'WAITING', 'b']);
      assert.ok(b.job.submitSeq > a.job.submitSeq);
      const { jobs } = await e.core.service.list({ limit: 100, active: 'all' }, SYSTEM_CALLER);
      assert.deepEqual(jobs.map((j) => j.id).sort(), [a.job.id, b.job.id].sort());
      const history = await e.core.service.history(b.job.id, ANN);
      assert.deepEqual(history.map((h) => h.type), ['JobSubmitted']);
    });
  });

  it('one key, one job: within a call the later items replay the first (or are IDEMPOTENCY_KEY_REUSED), and across calls and with submit', async () => {
    await withMemoryEngine({ roles: ['api'] }, async (e) => {
      const svc = e.core.service;
      const first = await svc.submitMany([
        { req: NOOP, idempotencyKey: 'k1' },
        { req: NOOP, idempotencyKey: 'k1' },
        { req: { ...NOOP, name: 'other' }, idempotencyKey: 'k1' },
        { req: NOOP },
      ], { caller: ANN });
      assert.deepEqual(first.map(statusOf), [201, 200, 'IDEMPOTENCY_KEY_REUSED', 201]);
      const id = first[0]!.ok ? first[0]!.job.id : '';
      assert.equal(first[1]!.ok && first[1]!.job.id, id);
      // the same key again: across calls, and through submit (one key space)
      const again = await svc.submitMany([{ req: NOOP, idempotencyKey: 'k1' }, { req: { ...NOOP, priority: 5 }, idempotencyKey: 'k1' }], { caller: ANN });
      assert.deepEqual(again.map(statusOf), [200, 'IDEMPOTENCY_KEY_REUSED']);
      assert.equal(again[0]!.ok && again[0]!.job.id, id);
      const viaSubmit = await svc.submit(NOOP, { caller: ANN, idempotencyKey: 'k1' });
      assert.deepEqual([viaSubmit.created, viaSubmit.job.id], [false, id]);
      const { jobs } = await svc.list({ limit: 100, active: 'all' }, SYSTEM_CALLER);
      assert.equal(jobs.length, 2);
    });
  });

  it('gives the items past the waiting queue\'s room QUEUE_FULL; a failed item or a key an earlier item used takes no room', async () => {
    await withMemoryEngine({ roles: ['api'], waitingJobCapacity: 3 }, async (e) => {
      await e.core.service.submit(NOOP, { caller: ANN });
      const results = await e.core.service.submitMany([
        { req: { type: 'nope', spec: {} } },
        { req: NOOP, idempotencyKey: 'q' },
        { req: NOOP, idempotencyKey: 'q' },
        { req: NOOP },
        { req: NOOP },
        { req: NOOP, idempotencyKey: 'q' },
      ], { caller: ANN });
      assert.deepEqual(results.map(statusOf), ['UNKNOWN_JOB_TYPE', 201, 200, 201, 'QUEUE_FULL', 200]);
    });
  });

  it('answers a store error on one item for that item; the others are written', async () => {
    await withMemoryEngine({ roles: ['api'] }, async (e) => {
      const { appendBatch } = e.log;
      e.log.appendBatch = async (items) => {
        const [, ...rest] = items;
        const results = await appendBatch(rest);
        return [{ ok: false, error: new AppError('UNAVAILABLE') }, ...results];
      };
      const results = await e.core.service.submitMany([{ req: NOOP }, { req: NOOP }], { caller: ANN });
      assert.deepEqual(results.map(statusOf), ['UNAVAILABLE', 201]);
      e.log.appendBatch = async () => {
        throw new AppError('STATE_STORE_RESET');
      };
      const reset = await e.core.service.submitMany([{ req: NOOP }, { req: { type: 'nope', spec: {} } }], { caller: ANN });
      assert.deepEqual(reset.map(statusOf), ['STATE_STORE_RESET', 'UNKNOWN_JOB_TYPE']);
    });
  });
  it('a job written and acked is answered as written when neither the projection nor the store can show it (submit and submitMany)', async () => {
    await withMemoryEngine({ roles: ['api'] }, async (e) => {
      // the appends land in a log this engine does not follow, and reads fail: the write is acked, then nothing can be read
      const elsewhere = createMemoryEventLog();
      e.log.append = (s, ev, o) => elsewhere.append(s, ev, o);
      e.log.appendBatch = (items) => elsewhere.appendBatch(items);
      e.log.readSubject = () => Promise.reject(new AppError('UNAVAILABLE', 'store out of reach (injected)'));
      // the engine's timers are unref'd and nothing else is pending: keep the loop alive through the projection wait
      const keepAlive = setInterval(() => undefined, 100);
      const [one, many] = await Promise.all([
        e.core.service.submit({ ...NOOP, name: 'one' }, { caller: ANN }),
        e.core.service.submitMany([{ req: { ...NOOP, name: 'two' } }, { req: { ...NOOP, name: 'three' } }], { caller: ANN }),
      ]).finally(() => clearInterval(keepAlive));
      assert.deepEqual([one.created, one.job.name, one.job.state], [true, 'one', 'WAITING']);
      assert.deepEqual(many.map((r) => (r.ok ? [statusOf(r), r.job.name, r.job.state] : r.error.code)), [[201, 'two', 'WAITING'], [201, 'three', 'WAITING']]);
      assert.equal((await elsewhere.readSubject(`job.${one.job.id}.ev`)).length, 1, 'written once');
    });
  });
});
