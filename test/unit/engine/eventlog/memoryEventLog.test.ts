import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, isAppError } from '../../../../engine/errors.ts';
import { createMemoryEventLog, subjectMatches } from '../../../../engine/eventlog/memoryEventLog.ts';
import { ev, eventLogContract } from '../../../contract/eventLog.contract.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';

eventLogContract('memory', async () => ({ log: createMemoryEventLog(), cleanup: async () => undefined }));

describe('memoryEventLog fault hooks', () => {
  it('failNextAppend rejects with UNAVAILABLE and stores nothing; the append after it works', async () => {
    const log = createMemoryEventLog();
    await assert.rejects((log.failNextAppend(), log.append('job.a.ev', [ev('A', 1)])), (e) => isAppError(e, 'UNAVAILABLE'));
    assert.equal(await log.lastSeq(), 0);
    assert.deepEqual(await log.readSubject('job.a.ev'), []);
    assert.equal((await log.append('job.a.ev', [ev('A', 1)], { expectedLastSubjectSeq: 0 })).seq, 1);
  });

  it('failNextAppend(err) rejects with the given error', async () => {
    const log = createMemoryEventLog();
    const custom = new AppError('INTERNAL', 'custom');
    log.failNextAppend(custom);
    await assert.rejects(log.append('job.a.ev', [ev('A', 1)]), (e) => e === custom);
  });

  it('loseNextAck stores the append but rejects; a retry with the same msgId is a duplicate', async () => {
    const log = createMemoryEventLog();
    log.loseNextAck();
    const opts = { msgId: 'm1', expectedLastSubjectSeq: 0 };
    await assert.rejects(log.append('job.a.ev', [ev('A', 1)], opts), (e) => isAppError(e, 'UNAVAILABLE'));
    assert.equal((await log.readSubject('job.a.ev')).length, 1);
    assert.deepEqual(await log.append('job.a.ev', [ev('A', 1)], opts), { seq: 1, duplicate: true });
    // without a msgId the retry is a CAS loss, as on JetStream
    log.loseNextAck();
    await assert.rejects(log.append('job.b.ev', [ev('B', 1)], { expectedLastSubjectSeq: 0 }));
    await assert.rejects(log.append('job.b.ev', [ev('B', 1)], { expectedLastSubjectSeq: 0 }), (e) => isAppError(e, 'CONFLICT'));
  });

  it('a lost ack is seen by followers', async () => {
    const log = createMemoryEventLog();
    const got: number[] = [];
    const f = log.follow(1, (r) => void got.push(r.seq));
    await f.caughtUp;
    log.loseNextAck();
    await assert.rejects(log.append('job.a.ev', [ev('A', 1)]));
    await log.append('job.a.ev', [ev('A', 2)]);
    await log.close();
    assert.deepEqual(got, [1, 2]);
  });
});

describe('memoryEventLog details', () => {
  it('forgets msgIds after the duplicate window of its clock', async () => {
    const clock = createFakeClock({ wallMs: 1_000_000, monotonicMs: 1_000_000 });
    const log = createMemoryEventLog({ clock, duplicateWindowMs: 1_000 });
    assert.equal((await log.append('job.a.ev', [ev('A', 1)], { msgId: 'x' })).seq, 1);
    await clock.advance(999);
    assert.deepEqual(await log.append('job.a.ev', [ev('A', 1)], { msgId: 'x' }), { seq: 1, duplicate: true });
    await clock.advance(1);
    assert.deepEqual(await log.append('job.a.ev', [ev('A', 1)], { msgId: 'x' }), { seq: 2, duplicate: false });
    assert.equal((await log.readSubject('job.a.ev'))[0]?.time, new Date(1_000_000).toISOString());
  });

  it('stored events are copies: mutating the caller objects changes nothing', async () => {
    const log = createMemoryEventLog();
    const e = ev('A', 1);
    await log.append('job.a.ev', [e]);
    (e.data as { n: number }).n = 99;
    const [r] = await log.readSubject('job.a.ev');
    assert.deepEqual(r?.events[0]?.data, { n: 1 });
  });

  it('append resolves asynchronously, so racers interleave as on a server', async () => {
    const log = createMemoryEventLog();
    let resolved = false;
    const p = log.append('job.a.ev', [ev('A', 1)]).then(() => (resolved = true));
    assert.equal(resolved, false);
    await p;
  });

  it('matches NATS wildcards', () => {
    assert.ok(subjectMatches('job.*.ev', 'job.a.ev'));
    assert.ok(!subjectMatches('job.*.ev', 'job.a.task'));
    assert.ok(subjectMatches('job.>', 'job.a.ev'));
    assert.ok(!subjectMatches('job.>', 'job'));
    assert.ok(subjectMatches('>', 'worker.w.ev'));
    assert.ok(!subjectMatches('job.a', 'job.a.ev'));
    assert.ok(subjectMatches('job.a.ev', 'job.a.ev'));
  });
});
