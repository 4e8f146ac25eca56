/** Projection checkpoints: a round trip, and each reason a checkpoint is refused (the caller then replays from seq 1). */
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobEvent } from '../../../../actors/events.ts';
import type { LogRecord } from '../../../../engine/eventlog/eventLog.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createJobProjection, type JobProjection } from '../../../../engine/projections/jobProjection.ts';
import {
  CHECKPOINT_FORMAT_VERSION, FOLD_VERSION, readCheckpoint, readCheckpointHeader, restoreProjection, writeCheckpoint, type CheckpointRead, type StreamNow,
} from '../../../../engine/projections/projectionCheckpoint.ts';
import { jobEvSubject } from '../../../../engine/subjects.ts';
import { jobEvents, taskPlans } from '../../actors/jobEvents.fixture.ts';

const STREAM: StreamNow = { created: '2026-12-05T10:00:00.000Z', firstSeq: 1, lastSeq: 100 };

/** A projection with three jobs: one running, two waiting (the second first in the queue: higher priority). */
function sample(): JobProjection {
  const p = createJobProjection({ logger: silentLogger });
  let seq = 0;
  const ev = (id: string, ...events: JobEvent[]) => p.apply({ seq: ++seq, subject: jobEvSubject(id), time: '2024-05-01T12:00:00.000Z', events } satisfies LogRecord);
  const a = jobEvents('a');
  ev('a', a.submitted());
  ev('a', a.claimed(1), a.planned(taskPlans(2), 1));
  ev('b', jobEvents('b').submitted());
  ev('c', jobEvents('c').submitted({ priority: 3 }));
  return p;
}

/** The text with its header changed by `edit` (the body and digest untouched). */
function withHeader(text: string, edit: (h: Record<string, unknown>) => void): string {
  const nl = text.indexOf('\n');
  const h = JSON.parse(text.slice(0, nl)) as Record<string, unknown>;
  edit(h);
  return `${JSON.stringify(h)}${text.slice(nl)}`;
}

function refused(r: CheckpointRead, reason: string): void {
  assert.equal(r.ok, false, 'refused');
  if (!r.ok) assert.equal(r.reason, reason, r.detail);
}

describe('projection checkpoint', () => {
  it('restores a projection that shows and continues like the original', () => {
    const p = sample();
    const text = writeCheckpoint(p, STREAM);
    const header = readCheckpointHeader(text);
    assert.equal(header?.seq, 4);
    assert.equal(header?.jobs, 3);
    assert.equal(header?.formatVersion, CHECKPOINT_FORMAT_VERSION);
    assert.equal(header?.foldVersion, FOLD_VERSION);
    const r = readCheckpoint(text, STREAM);
    assert.ok(r.ok);
    const q = restoreProjection(r.state, { logger: silentLogger });
    assert.equal(q.lastSeq(), 4);
    assert.deepEqual([...q.waiting()].map((e) => e.id), ['c', 'b']);
    assert.deepEqual([...q.active()].map((e) => e.id), ['a']);
    assert.deepEqual([...q.newestFirst()].map((e) => e.id), ['c', 'b', 'a']);
    assert.equal(q.getBySubmitSeq(3)?.id, 'b');
    assert.equal(q.get('a')?.lastEvSeq, 2);
    // the next record folds onto the restored snapshot
    const b = jobEvents('b');
    q.apply({ seq: 5, subject: jobEvSubject('b'), time: '2024-05-01T12:00:00.000Z', events: [b.claimed(1)] });
    assert.equal(q.get('b')?.state, 'RUNNING');
    assert.equal(q.rejected, 0);
    assert.deepEqual([...q.active()].map((e) => e.id), ['a', 'b']);
  });

  it('takes a checkpoint of a stream whose oldest records were deleted since (its first seq grew)', () => {
    const text = writeCheckpoint(sample(), STREAM);
    assert.ok(readCheckpoint(text, { ...STREAM, firstSeq: 40 }).ok);
  });

  it('refuses another format version (written by another build)', () => {
    const text = withHeader(writeCheckpoint(sample(), STREAM), (h) => (h.formatVersion = CHECKPOINT_FORMAT_VERSION + 1));
    refused(readCheckpoint(text, STREAM), 'format');
  });

  it('refuses another fold version', () => {
    const text = withHeader(writeCheckpoint(sample(), STREAM), (h) => (h.foldVersion = FOLD_VERSION + 1));
    refused(readCheckpoint(text, STREAM), 'fold');
  });

  it('refuses a checkpoint of another stream (created again: seqs restarted) or of a first seq above the stream’s', () => {
    const text = writeCheckpoint(sample(), { created: STREAM.created, firstSeq: 10 });
    refused(readCheckpoint(text, { ...STREAM, created: '2026-12-05T11:00:00.000Z', firstSeq: 10 }), 'stream');
    refused(readCheckpoint(text, { ...STREAM, firstSeq: 1 }), 'stream');
  });

  it('refuses a checkpoint past the stream’s last seq (a reset store)', () => {
    const text = writeCheckpoint(sample(), STREAM);
    refused(readCheckpoint(text, { ...STREAM, lastSeq: 3 }), 'seq');
    assert.ok(readCheckpoint(text, { ...STREAM, lastSeq: 4 }).ok);
  });

  it('refuses a body that does not match its digest', () => {
    const text = writeCheckpoint(sample(), STREAM);
    refused(readCheckpoint(text.replace('"WAITING"', '"RUNNING"'), STREAM), 'digest');
    refused(readCheckpoint(text.slice(0, -10), STREAM), 'digest');
  });

  it('refuses what is not a checkpoint, or bad JSON', () => {
    refused(readCheckpoint('', STREAM), 'json');
    refused(readCheckpoint('{"format":"other"}\n{}', STREAM), 'json');
    refused(readCheckpoint('{not json\n{}', STREAM), 'json');
    const text = writeCheckpoint(sample(), STREAM);
    // a header that matches a body which is not JSON
    const bad = '{"lastSeq":4,';
    const digest = createHash('sha256').update(bad).digest('hex');
    refused(readCheckpoint(withHeader(`${text.slice(0, text.indexOf('\n'))}\n${bad}`, (h) => (h.digest = digest)), STREAM), 'json');
    // a header and body that disagree on the seq
    const other = writeCheckpoint(createJobProjection({ logger: silentLogger }), STREAM);
    refused(readCheckpoint(withHeader(other, (h) => (h.seq = 2)), STREAM), 'json');
  });
});
