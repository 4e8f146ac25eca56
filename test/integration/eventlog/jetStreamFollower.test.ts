/**
 * The JetStream follower's delivery on a real nats-server beyond the contract: records come to a
 * callback, a handler's promise holds the records behind it (and, past a bound, the consumer is
 * closed and following starts again from the cursor), sync and async handlers mix, and the records
 * carry the server's receive time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream } from '@nats-io/jetstream';
import type { LogRecord } from '../../../engine/eventlog/eventLog.ts';
import { createJetStreamEventLog } from '../../../engine/eventlog/jetStreamEventLog.ts';
import { ev } from '../../contract/eventLog.contract.ts';
import { useTestNats } from '../../helpers/natsServer.ts';
import { waitFor } from '../../helpers/wait.ts';

/** Appends `n` one-event records on 7 subjects (1,000 in flight); answers the first one's seq. */
async function bulk(nats: ReturnType<typeof useTestNats>, tag: string, n: number): Promise<number> {
  const js = jetstream(nats.nc);
  const start = (await createJetStreamEventLog({ nc: nats.nc }).lastSeq()) + 1;
  const body = JSON.stringify([ev('Bulk', 0)]);
  for (let i = 0; i < n; i += 1_000) {
    await Promise.all(Array.from({ length: Math.min(1_000, n - i) }, (_, k) => js.publish(`job.${tag}${(i + k) % 7}.ev`, body)));
  }
  return start;
}

describe('JetStream follower', () => {
  const nats = useTestNats();

  it('awaits a slow async handler for every record, in order, with no gap, across more records than it holds', async () => {
    const n = 10_000; // more than the follower holds behind a busy handler: it closes and resumes from the cursor
    const start = await bulk(nats, 'slow', n);
    const log = createJetStreamEventLog({ nc: nats.nc });
    const seqs: number[] = [];
    let inHandler = 0;
    let overlapped = false;
    const f = log.follow(start, async (r: LogRecord) => {
      overlapped ||= inHandler > 0;
      inHandler++;
      // every 2,000th record waits for a timer (the pulls keep arriving meanwhile), the rest for a microtask
      await (r.seq % 2_000 === 0 ? new Promise((res) => setTimeout(res, 100)) : Promise.resolve());
      seqs.push(r.seq);
      inHandler--;
    });
    await f.caughtUp;
    await f.stop();
    assert.equal(overlapped, false, 'one handler at a time');
    assert.equal(seqs.length, n);
    assert.ok(seqs.every((s, i) => s === start + i), 'in order, gap-free, each once');
    assert.equal(f.lastDelivered(), start + n - 1);
  });

  it('mixes sync and async handler results in order', async () => {
    const n = 3_000;
    const start = await bulk(nats, 'mixed', n);
    const log = createJetStreamEventLog({ nc: nats.nc });
    const seqs: number[] = [];
    const f = log.follow(start, (r) => {
      if (r.seq % 3 === 0) return Promise.resolve().then(() => void seqs.push(r.seq));
      seqs.push(r.seq);
      return undefined;
    });
    await f.caughtUp;
    await f.stop();
    assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => start + i));
  });

  it('a rejected handler promise stops the follower and reports through onError', async () => {
    const start = await bulk(nats, 'reject', 50);
    const log = createJetStreamEventLog({ nc: nats.nc });
    const seen: number[] = [];
    const errors: unknown[] = [];
    const f = log.follow(start, async (r) => {
      seen.push(r.seq);
      if (r.seq === start + 10) throw new Error('handler failed');
    }, { onError: (e) => errors.push(e) });
    await assert.rejects(f.caughtUp);
    assert.equal(errors.length, 1);
    assert.deepEqual(seen, Array.from({ length: 11 }, (_, i) => start + i), 'nothing after the failed record');
    assert.equal(f.lastDelivered(), start + 9);
  });

  it('stamps each record with the server receive time, ISO-8601 in UTC', async () => {
    const before = Date.now();
    const log = createJetStreamEventLog({ nc: nats.nc });
    const a = await log.append('job.time1.ev', [ev('A', 1)]);
    const [rec] = await log.readSubject('job.time1.ev');
    assert.equal(rec?.seq, a.seq);
    assert.match(rec!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(rec!.time) - before) < 60_000, rec!.time);
  });

  it('gives the server at most one filter: several are matched by the follower, which still delivers only what they match', async () => {
    // nats-server >= 2.11 walks a file block's subjects for every next message of a consumer with
    // several filters (docs/nats-notes.md, 2026-12-05): minutes for a worker-only process to start
    const start = await bulk(nats, 'multi', 700);
    const log = createJetStreamEventLog({ nc: nats.nc });
    await log.append('job.multiX.task', [ev('T', 1)]);
    const last = (await log.append('retention.removed', [ev('R', 1)])).seq;
    const got: string[] = [];
    const f = log.follow(start, (r) => void got.push(r.subject), { filterSubjects: ['job.multi0.ev', 'job.*.task'] });
    await f.caughtUp;
    const jsm = await jetstream(nats.nc).jetstreamManager();
    const filters: unknown[] = [];
    for await (const c of jsm.consumers.list('JOBS')) filters.push(c.config.filter_subjects ?? c.config.filter_subject ?? null);
    assert.ok(filters.length > 0, 'the follower has a consumer');
    for (const fs of filters) assert.ok(!Array.isArray(fs) || fs.length <= 1, `a consumer with filters ${JSON.stringify(fs)}`);
    await waitFor(() => f.lastDelivered() >= last, { what: 'the follower reached the last record' });
    await f.stop();
    assert.deepEqual(new Set(got), new Set(['job.multi0.ev', 'job.multiX.task']));
    assert.equal(got.filter((s) => s === 'job.multi0.ev').length, 100);
  });
});
