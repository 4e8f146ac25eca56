/**
 * The checkpoint written a slice per turn (writeCheckpointSliced): the same text as the synchronous
 * write (as UTF-8 pieces, never joined), it yields to the event loop, and it is the projection at the
 * call however the projection changes while it is written. Read back from chunks as a store streams
 * them (collectCheckpoint): the same header, body and digest wherever the chunks split.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope, JobEvent } from '../../../../actors/events.ts';
import type { LogRecord } from '../../../../engine/eventlog/eventLog.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createJobProjection, type JobProjection } from '../../../../engine/projections/jobProjection.ts';
import {
  collectCheckpoint, readCheckpoint, readCheckpointHeader, restoreProjection, splitCheckpoint, writeCheckpoint, writeCheckpointSliced, type CheckpointRead, type SlicedCheckpoint, type StreamNow,
} from '../../../../engine/projections/projectionCheckpoint.ts';
import { jobEvSubject, workerEvSubject } from '../../../../engine/subjects.ts';
import { jobEvents, taskPlans } from '../../actors/jobEvents.fixture.ts';

const STREAM: StreamNow = { created: '2026-12-05T10:00:00.000Z', firstSeq: 1, lastSeq: 1_000_000 };
const TIME = '2024-05-01T12:00:00.000Z';
const META = { jobId: '', epoch: 0, actor: 'test', at: TIME, v: 1 };

/** Records that make `n` jobs (every third running with a plan, the rest waiting) and two workers. */
function records(n: number): LogRecord[] {
  const out: LogRecord[] = [];
  const push = (subject: string, events: unknown[]) => out.push({ seq: out.length + 1, subject, time: TIME, events: events as JobEvent[] });
  for (const w of ['w1', 'w2']) push(workerEvSubject(w), [{ type: 'WorkerRegistered', data: { workerId: w, pool: 'p', concurrency: 2, host: 'h', pid: 1 }, meta: META } as Envelope]);
  for (let i = 0; i < n; i++) {
    const e = jobEvents(`j${i}`);
    push(jobEvSubject(`j${i}`), [e.submitted({ priority: i % 5 })]);
    if (i % 3 === 0) push(jobEvSubject(`j${i}`), [e.claimed(1), e.planned(taskPlans(3), 1)]);
  }
  return out;
}

/** Records after `base`: claims of waiting jobs, new jobs, a worker draining (entries changed in place). */
function laterRecords(base: number, n: number): LogRecord[] {
  const out: LogRecord[] = [];
  const push = (subject: string, events: unknown[]) => out.push({ seq: base + out.length + 1, subject, time: TIME, events: events as JobEvent[] });
  push(workerEvSubject('w1'), [{ type: 'WorkerDraining', data: {}, meta: META } as Envelope]);
  for (let i = 0; i < n; i++) {
    if (i % 3 !== 0) push(jobEvSubject(`j${i}`), [jobEvents(`j${i}`).claimed(1)]);
    push(jobEvSubject(`k${i}`), [jobEvents(`k${i}`).submitted()]);
  }
  return out;
}

/** The text of a sliced write: its pieces one after the other (as a store writes them). */
const textOf = (w: SlicedCheckpoint) => Buffer.concat(w.pieces).toString('utf8');

/** `bytes` in chunks that end at `cuts` (byte offsets), as a store streams them. */
async function* chunked(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    yield bytes.subarray(from, c);
    from = c;
  }
}

function projectionOf(rs: readonly LogRecord[]): JobProjection {
  const p = createJobProjection({ logger: silentLogger });
  for (const r of rs) p.apply(r);
  return p;
}

describe('projection checkpoint written a slice per turn', () => {
  it('makes the text the synchronous write makes, whatever the slice', async () => {
    for (const n of [0, 1, 7, 50]) {
      const p = projectionOf(records(n));
      const sync = writeCheckpoint(p, STREAM);
      for (const slice of [1, 2, 3, 1000]) {
        const w = await writeCheckpointSliced(p, STREAM, slice);
        assert.equal(textOf(w), sync, `${n} jobs, slice ${slice}`);
        assert.equal(w.bytes, Buffer.byteLength(sync));
        assert.equal(w.seq, p.lastSeq());
      }
    }
  });

  it('yields to the event loop while it writes a few thousand jobs', async () => {
    const p = projectionOf(records(5_000));
    let ranBefore = false;
    let done = false;
    const write = writeCheckpointSliced(p, STREAM).then((w) => {
      done = true;
      return w;
    });
    setImmediate(() => void (ranBefore = !done));
    const w = await write;
    assert.equal(ranBefore, true, 'an immediate queued after the write started ran before it finished');
    assert.ok(w.slices > 1, `${w.slices} slices`);
    assert.equal(textOf(w), writeCheckpoint(p, STREAM));
  });

  it('is the projection at the call while records are applied during the write', async () => {
    const base = records(5_000);
    const later = laterRecords(base.length, 5_000);
    const p = projectionOf(base);
    const atCut = writeCheckpoint(projectionOf(base), STREAM); // taken synchronously at the cut's seq
    const write = writeCheckpointSliced(p, STREAM, 500);
    // apply the later records a few per turn while the write runs
    let next = 0;
    let appliedDuring = 0;
    let writing = true;
    const feed = () => {
      for (let k = 0; k < 200 && next < later.length; k++) p.apply(later[next++]!);
      if (writing) appliedDuring = next;
      if (next < later.length) setImmediate(feed);
    };
    setImmediate(feed);
    const w = await write;
    writing = false;
    assert.ok(appliedDuring > 0, 'records were applied while the checkpoint was written');
    assert.equal(w.seq, base.length);
    assert.equal(textOf(w), atCut);
    // read back as the store streams it, restored, it is the projection at the cut, and follows the later records like the original
    const r = readCheckpoint(await collectCheckpoint(chunked(Buffer.concat(w.pieces), [1, 4_096, 70_000]), w.bytes), STREAM);
    assert.ok(r.ok);
    const q = restoreProjection(r.state, { logger: silentLogger });
    assert.equal(q.lastSeq(), base.length);
    assert.equal(writeCheckpoint(q, STREAM), atCut);
    while (next < later.length) p.apply(later[next++]!);
    for (const rec of later) q.apply(rec);
    assert.equal(q.rejected, 0);
    assert.equal(writeCheckpoint(q, STREAM), writeCheckpoint(p, STREAM));
  });

  it('reads back from chunks split anywhere (in the header, at the newline, inside a character) the header, body and digest of the text', async () => {
    const p = projectionOf(records(20));
    p.apply({ seq: p.lastSeq() + 1, subject: jobEvSubject('u1'), time: TIME, events: [jobEvents('u1').submitted({ name: 'größe ✓' })] as JobEvent[] });
    const text = writeCheckpoint(p, STREAM);
    const bytes = Buffer.from(text, 'utf8');
    const nl = bytes.indexOf(0x0a);
    const wide = bytes.indexOf(Buffer.from('✓', 'utf8'));
    assert.ok(wide > nl, 'a three-byte character in the body');
    const digest = readCheckpointHeader(text)?.digest;
    for (const cuts of [[], [5], [nl], [nl + 1], [nl - 1, nl + 2], [wide + 1, wide + 2], Array.from({ length: 40 }, (_, i) => Math.floor(((i + 1) * bytes.length) / 41))]) {
      const got = await collectCheckpoint(chunked(bytes, cuts), bytes.length);
      assert.deepEqual(got, { ...splitCheckpoint(text), bodyDigest: digest }, `cuts ${cuts.join(',')}`);
      assert.ok(readCheckpoint(got, STREAM).ok);
    }
  });

  it('read back from chunks, refuses as the text is refused: a changed body byte, no newline', async () => {
    const text = writeCheckpoint(projectionOf(records(5)), STREAM);
    const bytes = Buffer.from(text.replace('"WAITING"', '"RUNNING"'), 'utf8');
    const refused = (r: CheckpointRead, reason: string) => assert.equal(r.ok ? 'ok' : r.reason, reason);
    refused(readCheckpoint(await collectCheckpoint(chunked(bytes, [100]), bytes.length), STREAM), 'digest');
    const line = Buffer.from(text.slice(0, text.indexOf('\n')), 'utf8');
    refused(readCheckpoint(await collectCheckpoint(chunked(line, [10]), line.length), STREAM), 'json');
  });

  it('read back from chunks, rejects more or fewer bytes than the size recorded', async () => {
    const bytes = Buffer.from(writeCheckpoint(projectionOf(records(2)), STREAM), 'utf8');
    await assert.rejects(collectCheckpoint(chunked(bytes, [50]), bytes.length - 1), RangeError);
    await assert.rejects(collectCheckpoint(chunked(bytes, [50]), bytes.length + 1), RangeError);
  });
});
