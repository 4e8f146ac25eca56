/**
 * One contract for every EventLog implementation (like Emmett's event store suites):
 * `eventLogContract('memory', async () => ({ log: createMemoryEventLog(), cleanup: async () => {} }))`.
 * Each test gets a fresh, empty log from `makeLog` and always calls its `cleanup`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope } from '../../actors/events.ts';
import { isAppError } from '../../engine/errors.ts';
import type { BatchItemResult, EventLog, LogRecord } from '../../engine/eventlog/eventLog.ts';

export interface LogFixture {
  log: EventLog;
  cleanup(): Promise<void>;
}

const WAIT_MS = 5_000;
let idCounter = 0;
/** Subjects are unique per call, so a fixture may even share one stream between tests. */
const newId = () => `c${process.pid}x${++idCounter}`;
const evSubject = (id: string) => `job.${id}.ev`;

export function ev(type: string, n: number, jobId = 'j'): Envelope {
  return { type, data: { n }, meta: { jobId, epoch: 0, actor: 'test', at: new Date(0).toISOString(), v: 1 } };
}

/** Resolves when `cond()` holds, checking after each delivered record; rejects after `ms`. */
function collector() {
  const got: LogRecord[] = [];
  let check: (() => void) | undefined;
  return {
    got,
    onRecord: (r: LogRecord) => {
      got.push(r);
      check?.();
    },
    until(cond: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got seqs ${got.map((r) => r.seq)}`)), ms);
        check = () => {
          if (!cond()) return;
          clearTimeout(t);
          check = undefined;
          resolve();
        };
        check();
      });
    },
  };
}

function withTimeout<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)));
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

const isConflict = (e: unknown) => isAppError(e, 'CONFLICT');

export function eventLogContract(name: string, makeLog: () => Promise<LogFixture>): void {
  /** Runs `fn` with a fresh log and always cleans up. */
  const withLog = (fn: (log: EventLog) => Promise<void>) => async () => {
    const fx = await makeLog();
    try {
      await fn(fx.log);
    } finally {
      await fx.log.close();
      await fx.cleanup();
    }
  };

  describe(`EventLog contract: ${name}`, () => {
    it('appends with increasing sequences; lastSeq follows', withLog(async (log) => {
      assert.equal(await log.lastSeq(), 0);
      const a = await log.append(evSubject(newId()), [ev('A', 1)]);
      const b = await log.append(evSubject(newId()), [ev('B', 2)]);
      assert.ok(b.seq > a.seq && a.seq >= 1);
      assert.equal(a.duplicate, false);
      assert.equal(await log.lastSeq(), b.seq);
    }));

    it('CAS with 0 succeeds on a fresh subject once, then fails with CONFLICT', withLog(async (log) => {
      const s = evSubject(newId());
      const first = await log.append(s, [ev('A', 1)], { expectedLastSubjectSeq: 0 });
      await assert.rejects(log.append(s, [ev('A', 2)], { expectedLastSubjectSeq: 0 }), isConflict);
      assert.deepEqual((await log.readSubject(s)).map((r) => r.seq), [first.seq]);
    }));

    it('CAS with the right seq succeeds; a stale seq fails with CONFLICT and stores nothing', withLog(async (log) => {
      const s = evSubject(newId());
      const a = await log.append(s, [ev('A', 1)]);
      await log.append(evSubject(newId()), [ev('Other', 0)]); // other subjects do not matter
      const b = await log.append(s, [ev('B', 2)], { expectedLastSubjectSeq: a.seq });
      const before = await log.lastSeq();
      await assert.rejects(log.append(s, [ev('C', 3)], { expectedLastSubjectSeq: a.seq }), isConflict);
      assert.equal(await log.lastSeq(), before);
      assert.deepEqual((await log.readSubject(s)).map((r) => r.seq), [a.seq, b.seq]);
    }));

    it('8 concurrent racers with the same expectation: exactly one wins', withLog(async (log) => {
      const s = evSubject(newId());
      const base = await log.append(s, [ev('A', 0)]);
      for (const expected of [base.seq, 0]) {
        const subject = expected === 0 ? evSubject(newId()) : s;
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => log.append(subject, [ev('Race', i)], { expectedLastSubjectSeq: expected })),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        assert.equal(won.length, 1, `winners with expectation ${expected}`);
        for (const r of results) if (r.status === 'rejected') assert.ok(isConflict(r.reason), String(r.reason));
      }
      assert.equal((await log.readSubject(s)).length, 2);
    }));

    it('msgId dedup returns duplicate:true with the original seq and stores once', withLog(async (log) => {
      const s = evSubject(newId());
      const a = await log.append(s, [ev('A', 1)], { msgId: `${s}:1`, expectedLastSubjectSeq: 0 });
      const again = await log.append(s, [ev('A', 1)], { msgId: `${s}:1` });
      assert.deepEqual(again, { seq: a.seq, duplicate: true });
      // a retry after a lost ack carries a now-stale expectation: still a duplicate, not a conflict
      const retry = await log.append(s, [ev('A', 1)], { msgId: `${s}:1`, expectedLastSubjectSeq: 0 });
      assert.deepEqual(retry, { seq: a.seq, duplicate: true });
      assert.equal((await log.readSubject(s)).length, 1);
      assert.equal(await log.lastSeq(), a.seq);
    }));

    it('a retried append (its ack lost) is recognised as ours, even behind a newer record: duplicate, stored once', withLog(async (log) => {
      const s = evSubject(newId());
      const first = await log.append(s, [ev('A', 1)], { expectedLastSubjectSeq: 0, msgId: 'retry-a' });
      // the same append again, as a writer does after a lost ack: its expectation is now stale
      const again = await log.append(s, [ev('A', 1)], { expectedLastSubjectSeq: 0, msgId: 'retry-a' });
      assert.deepEqual(again, { seq: first.seq, duplicate: true });
      const b = await log.append(s, [ev('B', 2)], { expectedLastSubjectSeq: first.seq, msgId: 'retry-b' });
      const late = await log.append(s, [ev('A', 1)], { expectedLastSubjectSeq: 0, msgId: 'retry-a' });
      assert.deepEqual(late, { seq: first.seq, duplicate: true }, 'found behind a newer record');
      // a real loser (another msg id) is still a conflict
      await assert.rejects(log.append(s, [ev('C', 3)], { expectedLastSubjectSeq: first.seq, msgId: 'retry-c' }), isConflict);
      assert.deepEqual((await log.readSubject(s)).map((r) => r.seq), [first.seq, b.seq], 'nothing written twice');
    }));

    it('a multi-event append round-trips as one record', withLog(async (log) => {
      const s = evSubject(newId());
      const events = [ev('A', 1), ev('B', 2), { ...ev('C', 3), data: { nested: { list: [1, 'x', null] } } }];
      const { seq } = await log.append(s, events);
      const [rec, ...rest] = await log.readSubject(s);
      assert.equal(rest.length, 0);
      assert.ok(rec);
      assert.equal(rec.seq, seq);
      assert.equal(rec.subject, s);
      assert.deepEqual(rec.events, events);
      assert.ok(!Number.isNaN(Date.parse(rec.time)) && rec.time.endsWith('Z'), rec.time);
    }));

    it('readSubject returns only that subject, in order; [] for an unknown subject', withLog(async (log) => {
      const [s1, s2] = [evSubject(newId()), evSubject(newId())];
      for (let i = 0; i < 5; i++) {
        await log.append(s1, [ev('A', i)]);
        await log.append(s2, [ev('B', i)]);
      }
      const r1 = await log.readSubject(s1);
      assert.deepEqual(r1.map((r) => (r.events[0]?.data as { n: number }).n), [0, 1, 2, 3, 4]);
      assert.ok(r1.every((r) => r.subject === s1));
      assert.ok(r1.every((r, i) => i === 0 || r.seq > (r1[i - 1] as LogRecord).seq));
      assert.deepEqual(await withTimeout(log.readSubject(evSubject(newId())), 'readSubject of an unknown subject', 2_000), []);
    }));

    it('follow from 1 replays everything, resolves caughtUp, then delivers live appends in order', withLog(async (log) => {
      const s = evSubject(newId());
      const seqs: number[] = [];
      for (let i = 0; i < 10; i++) seqs.push((await log.append(s, [ev('A', i)])).seq);
      const c = collector();
      const f = log.follow(1, c.onRecord);
      await withTimeout(f.caughtUp, 'caughtUp');
      assert.deepEqual(c.got.map((r) => r.seq), seqs, 'every existing record before caughtUp');
      assert.equal(f.lastDelivered(), seqs.at(-1));
      for (let i = 10; i < 15; i++) seqs.push((await log.append(s, [ev('A', i)])).seq);
      await c.until(() => c.got.length === 15, '15 records');
      assert.deepEqual(c.got.map((r) => r.seq), seqs);
      assert.deepEqual(c.got.map((r) => (r.events[0]?.data as { n: number }).n), [...Array(15).keys()]);
      await f.stop();
    }));

    it('follow awaits onRecord before delivering the next record', withLog(async (log) => {
      const s = evSubject(newId());
      for (let i = 0; i < 5; i++) await log.append(s, [ev('A', i)]);
      let inFlight = 0;
      let maxInFlight = 0;
      const c = collector();
      const f = log.follow(1, async (r) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((res) => setImmediate(res));
        inFlight--;
        c.onRecord(r);
      });
      await withTimeout(f.caughtUp, 'caughtUp');
      assert.equal(c.got.length, 5);
      assert.equal(maxInFlight, 1);
      await f.stop();
    }));

    it('follow from a middle seq starts there', withLog(async (log) => {
      const s = evSubject(newId());
      const seqs: number[] = [];
      for (let i = 0; i < 6; i++) seqs.push((await log.append(s, [ev('A', i)])).seq);
      const from = seqs[3] as number;
      const c = collector();
      const f = log.follow(from, c.onRecord);
      await withTimeout(f.caughtUp, 'caughtUp');
      assert.deepEqual(c.got.map((r) => r.seq), seqs.slice(3));
      await f.stop();
    }));

    it('caughtUp resolves at once on an empty log and past the end, then live records arrive', withLog(async (log) => {
      const c = collector();
      const f = log.follow(1, c.onRecord);
      await withTimeout(f.caughtUp, 'caughtUp on an empty log', 2_000);
      assert.equal(f.lastDelivered(), 0);
      const { seq } = await log.append(evSubject(newId()), [ev('A', 1)]);
      const beyond = log.follow(seq + 5, () => undefined);
      await withTimeout(beyond.caughtUp, 'caughtUp past the end', 2_000);
      await c.until(() => c.got.length === 1, 'the live record');
      assert.equal(c.got[0]?.seq, seq);
      await Promise.all([f.stop(), beyond.stop()]);
    }));

    it('filter delivers only matching subjects and still catches up', withLog(async (log) => {
      const id = newId();
      const ev1 = await log.append(`job.${id}.ev`, [ev('A', 1)]);
      const t1 = await log.append(`job.${id}.task`, [ev('T', 1)]);
      await log.append(`worker.${newId()}.ev`, [ev('W', 1)]); // the last record does not match
      const c = collector();
      const f = log.follow(1, c.onRecord, { filter: `job.${id}.*` });
      await withTimeout(f.caughtUp, 'caughtUp with a filter whose last match is not the last record');
      assert.deepEqual(c.got.map((r) => r.seq), [ev1.seq, t1.seq]);
      const tasks = collector();
      const ft = log.follow(1, tasks.onRecord, { filter: 'job.*.task' });
      await withTimeout(ft.caughtUp, 'caughtUp (task filter)');
      const t2 = await log.append(`job.${id}.task`, [ev('T', 2)]);
      await log.append(`job.${id}.ev`, [ev('A', 2)]);
      await tasks.until(() => tasks.got.some((r) => r.seq === t2.seq), 'the live task record');
      assert.ok(tasks.got.every((r) => r.subject.endsWith('.task')));
      await Promise.all([f.stop(), ft.stop()]);
    }));

    it('filterSubjects delivers the records matching any of them, in order, and still catches up', withLog(async (log) => {
      const id = newId();
      const w = newId();
      const e1 = await log.append(`job.${id}.ev`, [ev('A', 1)]);
      await log.append(`job.${id}.hook`, [ev('H', 1)]);
      const t1 = await log.append(`job.${id}.task`, [ev('T', 1)]);
      const w1 = await log.append(`worker.${w}.ev`, [ev('W', 1)]);
      await log.append(`job.${newId()}.ev`, [ev('A', 2)]); // the last record matches none
      const filterSubjects = [`job.${id}.ev`, `job.${id}.task`, `worker.${w}.ev`];
      const c = collector();
      const f = log.follow(1, c.onRecord, { filterSubjects });
      await withTimeout(f.caughtUp, 'caughtUp with filterSubjects whose last match is not the last record');
      assert.deepEqual(c.got.map((r) => r.seq), [e1.seq, t1.seq, w1.seq]);
      await log.append(`job.${id}.hook`, [ev('H', 2)]);
      const t2 = await log.append(`job.${id}.task`, [ev('T', 2)]);
      await log.append(`worker.${newId()}.ev`, [ev('W', 2)]);
      const e2 = await log.append(`job.${id}.ev`, [ev('A', 3)]);
      await c.until(() => c.got.some((r) => r.seq === e2.seq), 'the live records');
      assert.deepEqual(c.got.map((r) => r.seq), [e1.seq, t1.seq, w1.seq, t2.seq, e2.seq]);
      // from the middle: the first match at or after it
      const mid = collector();
      const fm = log.follow(w1.seq, mid.onRecord, { filterSubjects });
      await withTimeout(fm.caughtUp, 'caughtUp from the middle');
      await mid.until(() => mid.got.length === 3, 'the records from the middle');
      assert.deepEqual(mid.got.map((r) => r.seq), [w1.seq, t2.seq, e2.seq]);
      await Promise.all([f.stop(), fm.stop()]);
      assert.throws(() => log.follow(1, () => undefined, { filter: `job.${id}.ev`, filterSubjects }), (e: unknown) => isAppError(e, 'INTERNAL'));
      assert.throws(() => log.follow(1, () => undefined, { filterSubjects: [] }), (e: unknown) => isAppError(e, 'INTERNAL'));
    }));

    it('stop() ends delivery', withLog(async (log) => {
      const s = evSubject(newId());
      const c = collector();
      const f = log.follow(1, c.onRecord);
      await withTimeout(f.caughtUp, 'caughtUp');
      await log.append(s, [ev('A', 1)]);
      await c.until(() => c.got.length === 1, 'the first record');
      await f.stop();
      const late = await log.append(s, [ev('A', 2)]);
      // a second follower proves the late record was delivered to whoever still listens
      const ref = collector();
      const g = log.follow(late.seq, ref.onRecord);
      await ref.until(() => ref.got.length === 1, 'the reference follower');
      await g.stop();
      assert.equal(c.got.length, 1);
      assert.equal(f.lastDelivered(), c.got[0]?.seq);
    }));

    it('rollup leaves only the new record on its subject; other subjects and lastSeq are unaffected', withLog(async (log) => {
      const [s, other] = [evSubject(newId()), evSubject(newId())];
      const a = await log.append(s, [ev('A', 1)]);
      const o = await log.append(other, [ev('O', 1)]);
      const b = await log.append(s, [ev('B', 2)]);
      const r = await log.append(s, [ev('Snapshot', 3)], { rollup: true, expectedLastSubjectSeq: b.seq });
      assert.ok(r.seq > b.seq && r.duplicate === false);
      const recs = await log.readSubject(s);
      assert.deepEqual(recs.map((x) => x.seq), [r.seq]);
      assert.deepEqual(recs[0]?.events, [ev('Snapshot', 3)]);
      assert.deepEqual((await log.readSubject(other)).map((x) => x.seq), [o.seq]);
      assert.equal(await log.lastSeq(), r.seq);
      // the rollup record is now the subject's last: CAS continues from it
      await assert.rejects(log.append(s, [ev('C', 4)], { expectedLastSubjectSeq: a.seq }), isConflict);
      const c = await log.append(s, [ev('C', 4)], { expectedLastSubjectSeq: r.seq });
      assert.deepEqual((await log.readSubject(s)).map((x) => x.seq), [r.seq, c.seq]);
    }));

    it('rollup with a stale CAS expectation fails with CONFLICT and rolls up nothing', withLog(async (log) => {
      const s = evSubject(newId());
      const a = await log.append(s, [ev('A', 1)]);
      const b = await log.append(s, [ev('B', 2)]);
      const before = await log.lastSeq();
      await assert.rejects(log.append(s, [ev('Snapshot', 3)], { rollup: true, expectedLastSubjectSeq: a.seq }), isConflict);
      assert.deepEqual((await log.readSubject(s)).map((x) => x.seq), [a.seq, b.seq]);
      assert.equal(await log.lastSeq(), before);
    }));

    it('purge empties one subject, leaves the others and the stream lastSeq; the subject CAS restarts at 0', withLog(async (log) => {
      const id = newId();
      const [ev1, task, keep] = [`job.${id}.ev`, `job.${id}.task`, evSubject(newId())];
      await log.append(ev1, [ev('A', 1)]);
      await log.append(task, [ev('T', 1)]);
      const k = await log.append(keep, [ev('K', 1)]);
      const last = await log.append(ev1, [ev('A', 2)]); // the stream's last record is purged too
      await log.purge(ev1);
      assert.deepEqual(await log.readSubject(ev1), []);
      assert.equal((await log.readSubject(task)).length, 1, 'job.<id>.ev does not match job.<id>.task');
      assert.deepEqual((await log.readSubject(keep)).map((x) => x.seq), [k.seq]);
      assert.equal(await log.lastSeq(), last.seq);
      await log.purge(ev1); // idempotent
      await log.purge(evSubject(newId())); // nothing there: a no-op
      // NATS: a purged subject's last sequence is 0 again, hence purge only terminal jobs
      const again = await log.append(ev1, [ev('A', 3)], { expectedLastSubjectSeq: 0 });
      assert.ok(again.seq > last.seq);
    }));

    it('listSubjects names the subjects that hold records now: not purged ones, not other filters', withLog(async (log) => {
      const [a, b, gone] = [newId(), newId(), newId()];
      await log.append(evSubject(a), [ev('A', 1)]);
      await log.append(evSubject(a), [ev('A', 2)], { rollup: true });
      await log.append(`job.${a}.task`, [ev('T', 1)]);
      await log.append(evSubject(b), [ev('B', 1)]);
      await log.append(evSubject(gone), [ev('G', 1)]);
      await log.purge(evSubject(gone));
      const evs = await log.listSubjects('job.*.ev');
      assert.ok(evs.has(evSubject(a)) && evs.has(evSubject(b)), 'rolled-up and plain subjects are listed');
      assert.ok(!evs.has(evSubject(gone)), 'a purged subject is not');
      assert.ok(!evs.has(`job.${a}.task`), 'the filter holds');
      assert.deepEqual([...await log.listSubjects(`job.${a}.>`)].sort(), [evSubject(a), `job.${a}.task`]);
      assert.equal((await log.listSubjects(`job.${gone}.>`)).size, 0);
    }));

    it('purge refuses wildcards and empty tokens', withLog(async (log) => {
      const s = evSubject(newId());
      await log.append(s, [ev('A', 1)]);
      for (const bad of ['job.*.ev', 'job.>', '>', '', 'job..ev', 'job. x.ev']) {
        await assert.rejects(log.purge(bad), (e) => isAppError(e, 'INTERNAL'), bad);
      }
      assert.equal((await log.readSubject(s)).length, 1);
    }));

    it('a live follower keeps going across rollups and purges: it sees the rollup record and nothing deleted again', withLog(async (log) => {
      const id = newId();
      const [s, task] = [`job.${id}.ev`, `job.${id}.task`];
      const c = collector();
      const f = log.follow(1, c.onRecord);
      await withTimeout(f.caughtUp, 'caughtUp');
      const a = await log.append(s, [ev('A', 1)]);
      const t = await log.append(task, [ev('T', 1)]);
      await c.until(() => c.got.length === 2, 'the first two records');
      const r = await log.append(s, [ev('Snapshot', 2)], { rollup: true, expectedLastSubjectSeq: a.seq });
      await log.purge(task);
      const after = await log.append(evSubject(newId()), [ev('B', 3)]);
      await c.until(() => c.got.some((x) => x.seq === after.seq), 'the record after the purge');
      assert.deepEqual(c.got.map((x) => x.seq), [a.seq, t.seq, r.seq, after.seq], 'in order, nothing delivered twice');
      await log.purge(s);
      const late = await log.append(s, [ev('C', 4)], { expectedLastSubjectSeq: 0 });
      await c.until(() => c.got.some((x) => x.seq === late.seq), 'a record appended after purging its subject');
      assert.deepEqual(c.got.map((x) => x.seq), [a.seq, t.seq, r.seq, after.seq, late.seq]);
      // a new follower replays only what is left
      const fresh = collector();
      const g = log.follow(1, fresh.onRecord);
      await withTimeout(g.caughtUp, 'caughtUp of a fresh follower');
      assert.deepEqual(fresh.got.map((x) => x.seq), [after.seq, late.seq]);
      assert.equal(g.lastDelivered(), late.seq);
      await Promise.all([f.stop(), g.stop()]);
    }));

    it('caughtUp resolves when the newest records were deleted', withLog(async (log) => {
      const s = evSubject(newId());
      const kept = await log.append(evSubject(newId()), [ev('K', 1)]);
      await log.append(s, [ev('A', 1)]);
      await log.append(s, [ev('A', 2)]);
      await log.purge(s);
      const c = collector();
      const f = log.follow(1, c.onRecord);
      await withTimeout(f.caughtUp, 'caughtUp with deleted records at the end', 3_000);
      assert.deepEqual(c.got.map((x) => x.seq), [kept.seq]);
      await f.stop();
    }));

    it('appendBatch stores every item in item order, one record each, readable and followed like appends', withLog(async (log) => {
      const subjects = Array.from({ length: 5 }, () => evSubject(newId()));
      const f = collector();
      const follower = log.follow(1, f.onRecord);
      const res = await log.appendBatch(subjects.map((subject, i) => ({ subject, events: [ev('A', i), ev('B', i)], opts: { expectedLastSubjectSeq: 0, msgId: `${subject}:b` } })));
      const seqs = res.map((r) => (assert.ok(r.ok, String(!r.ok && r.error)), r.result.seq));
      assert.deepEqual(res.map((r) => r.ok && r.result.duplicate), [false, false, false, false, false]);
      assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'item order');
      assert.equal(new Set(seqs).size, 5);
      for (const [i, subject] of subjects.entries()) {
        const recs = await log.readSubject(subject);
        assert.deepEqual(recs.map((r) => [r.seq, r.events.map((e) => e.type)]), [[seqs[i], ['A', 'B']]]);
      }
      await f.until(() => f.got.length === 5, 'the batch delivered');
      assert.deepEqual(f.got.map((r) => r.seq), seqs);
      await follower.stop();
      assert.deepEqual(await log.appendBatch([]), []);
    }));

    it('appendBatch decides each item alone: a stale CAS fails that item only, a stored msg id is a duplicate, the rest are stored', withLog(async (log) => {
      const taken = evSubject(newId());
      const first = await log.append(taken, [ev('A', 0)], { expectedLastSubjectSeq: 0, msgId: 'batch-first' });
      const [x, y] = [evSubject(newId()), evSubject(newId())];
      const res = await log.appendBatch([
        { subject: x, events: [ev('X', 1)], opts: { expectedLastSubjectSeq: 0 } },
        { subject: taken, events: [ev('Loser', 1)], opts: { expectedLastSubjectSeq: 0, msgId: 'batch-loser' } },
        { subject: taken, events: [ev('A', 0)], opts: { expectedLastSubjectSeq: 0, msgId: 'batch-first' } }, // a retry of ours
        { subject: y, events: [ev('Y', 1)] },
      ]);
      const [rx, loser, retry, ry] = res as [BatchItemResult, BatchItemResult, BatchItemResult, BatchItemResult];
      assert.ok(rx.ok && !rx.result.duplicate);
      assert.ok(!loser.ok && isConflict(loser.error), 'the stale CAS loses');
      assert.ok(retry.ok);
      assert.deepEqual(retry.result, { seq: first.seq, duplicate: true });
      assert.ok(ry.ok && !ry.result.duplicate);
      assert.deepEqual((await log.readSubject(taken)).map((r) => r.events[0]!.type), ['A'], 'nothing of the loser stored');
      assert.equal((await log.readSubject(x)).length, 1);
      assert.equal((await log.readSubject(y)).length, 1);
    }));

    it('appendBatch keeps the order of items on one subject, and 8 racing batches let one CAS win per subject', withLog(async (log) => {
      const s = evSubject(newId());
      const res = await log.appendBatch([1, 2, 3].map((n) => ({ subject: s, events: [ev('T', n)] })));
      assert.ok(res.every((r) => r.ok));
      assert.deepEqual((await log.readSubject(s)).map((r) => (r.events[0]!.data as { n: number }).n), [1, 2, 3]);
      const raced = [evSubject(newId()), evSubject(newId())];
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        log.appendBatch(raced.map((subject) => ({ subject, events: [ev('Race', i)], opts: { expectedLastSubjectSeq: 0 } })))));
      for (const [k, subject] of raced.entries()) {
        const mine = all.map((r) => r[k] as BatchItemResult);
        assert.equal(mine.filter((r) => r.ok).length, 1, `winners on ${subject}`);
        for (const r of mine) if (!r.ok) assert.ok(isConflict(r.error), String(r.error));
        assert.equal((await log.readSubject(subject)).length, 1);
      }
    }));

    it('appendBatch refuses an item without events and stores nothing', withLog(async (log) => {
      const s = evSubject(newId());
      await assert.rejects(log.appendBatch([{ subject: s, events: [ev('A', 1)] }, { subject: s, events: [] }]), (e) => isAppError(e, 'INTERNAL'));
      assert.equal(await log.lastSeq(), 0);
    }));

    it('a throwing onRecord stops the follower and reports through onError', withLog(async (log) => {
      const s = evSubject(newId());
      await log.append(s, [ev('A', 1)]);
      await log.append(s, [ev('A', 2)]);
      const errors: unknown[] = [];
      let calls = 0;
      const f = log.follow(1, () => {
        calls++;
        throw new Error('boom');
      }, { onError: (e) => errors.push(e) });
      await assert.rejects(withTimeout(f.caughtUp, 'caughtUp rejection'));
      assert.equal(calls, 1);
      assert.equal(errors.length, 1);
      assert.equal(f.lastDelivered(), 0);
    }));
  });
}
