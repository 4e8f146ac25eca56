/**
 * The writer both TaskLogs hand out, over a sink the test answers by hand and a fake clock:
 * coalescing by time and size, a stream switch, UTF-8 boundaries, the in-flight and queue bounds,
 * and an end() whose wait is bounded and whose record counts what was dropped.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCoalescingWriter, utf8CompleteLength, utf8CutBefore, type LogSink } from '../../../../engine/tasklogs/coalescingWriter.ts';
import { END_FLUSH_WAIT_MS, FLUSH_INTERVAL_MS, MAX_CHUNK_BYTES, MAX_QUEUED_BYTES, type ChunkFrame, type EndFrame } from '../../../../engine/tasklogs/taskLogRecords.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);

/** A sink whose sends stay open until the test answers them (or answers at once when `auto`). */
function manualSink(auto: boolean) {
  const sent: { frame: ChunkFrame; answer: (seq: number | null) => void }[] = [];
  const ends: EndFrame[] = [];
  let seq = 0;
  const sink: LogSink = {
    sendChunk: (frame) =>
      auto ? Promise.resolve(++seq) : new Promise<number | null>((resolve) => sent.push({ frame, answer: resolve })),
    sendEnd: async (frame) => {
      ends.push(frame);
      return true;
    },
  };
  const frames: ChunkFrame[] = [];
  const wrapped: LogSink = {
    sendChunk: (f) => {
      frames.push(f);
      return sink.sendChunk(f);
    },
    sendEnd: sink.sendEnd,
  };
  return { sink: wrapped, sent, ends, frames, texts: () => frames.map((f) => dec.decode(f.bytes)) };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('coalescingWriter', () => {
  it('coalesces writes of one stream until the flush interval, then sends them as one chunk', async () => {
    const clock = createFakeClock({ wallMs: 1_000 });
    const s = manualSink(true);
    const w = createCoalescingWriter({ attempt: 3, sink: s.sink, clock });
    w.write('stdout', bytes('a'));
    await clock.advance(50);
    w.write('stdout', bytes('b'));
    await clock.advance(FLUSH_INTERVAL_MS - 51);
    assert.deepEqual(s.texts(), []);
    await clock.advance(1);
    assert.deepEqual(s.texts(), ['ab']);
    assert.deepEqual({ ...s.frames[0]!, bytes: null }, { attempt: 3, stream: 'stdout', index: 0, bytes: null, atMs: 1_000, droppedBytes: 0 });
    assert.equal(clock.pending(), 0); // nothing held: no timer
    w.write('stdout', bytes('c'));
    await w.end({ reason: 'exited', exitCode: 0 });
    assert.deepEqual(s.texts(), ['ab', 'c']);
    assert.deepEqual(s.ends, [{ attempt: 3, reason: 'exited', exitCode: 0, droppedBytes: 0, chunks: 2, atMs: 1_000 + FLUSH_INTERVAL_MS }]);
  });

  it('a stream switch closes the chunk at once; a full chunk goes without waiting for the timer', async () => {
    const clock = createFakeClock();
    const s = manualSink(true);
    const w = createCoalescingWriter({ attempt: 1, sink: s.sink, clock });
    w.write('stdout', bytes('out'));
    w.write('stderr', bytes('err'));
    assert.deepEqual(s.texts(), ['out']);
    w.write('stderr', new Uint8Array(MAX_CHUNK_BYTES + 10).fill(0x41));
    assert.deepEqual(s.frames.map((f) => [f.stream, f.bytes.byteLength]), [['stdout', 3], ['stderr', MAX_CHUNK_BYTES]]);
    await clock.advance(FLUSH_INTERVAL_MS);
    assert.deepEqual(s.frames.map((f) => f.bytes.byteLength), [3, MAX_CHUNK_BYTES, 13]);
    assert.deepEqual(s.frames.map((f) => f.index), [0, 1, 2]);
  });

  it('holds back a character split across writes for one interval, and sends a lone partial one after that', async () => {
    const clock = createFakeClock();
    const s = manualSink(true);
    const w = createCoalescingWriter({ attempt: 1, sink: s.sink, clock });
    const e = bytes('é'); // c3 a9
    w.write('stdout', new Uint8Array([0x61, e[0]!]));
    await clock.advance(FLUSH_INTERVAL_MS);
    assert.deepEqual(s.texts(), ['a']);
    w.write('stdout', new Uint8Array([e[1]!, 0x62]));
    await clock.advance(FLUSH_INTERVAL_MS);
    assert.deepEqual(s.texts(), ['a', 'éb']);
    w.write('stdout', new Uint8Array([0xe2, 0x82])); // two of the three bytes of '€', never completed
    await clock.advance(FLUSH_INTERVAL_MS);
    assert.equal(s.frames.length, 2);
    await clock.advance(FLUSH_INTERVAL_MS);
    assert.equal(s.frames.length, 3);
    assert.deepEqual([...s.frames[2]!.bytes], [0xe2, 0x82]);
  });

  it('utf8 cuts: before a character that would be split; the complete prefix', () => {
    const b = bytes('ab€'); // 61 62 e2 82 ac
    assert.equal(utf8CutBefore(b, 3), 2);
    assert.equal(utf8CutBefore(b, 4), 2);
    assert.equal(utf8CutBefore(b, 2), 2);
    assert.equal(utf8CompleteLength(b), 5);
    assert.equal(utf8CompleteLength(b.subarray(0, 4)), 2);
    assert.equal(utf8CompleteLength(b.subarray(0, 3)), 2);
    assert.equal(utf8CompleteLength(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80])), 5); // not UTF-8: sent as is
    assert.equal(utf8CutBefore(new Uint8Array(10).fill(0x80), 8), 8);
  });

  it('keeps at most 8 chunks in flight, sends the rest in order as answers come', async () => {
    const clock = createFakeClock();
    const s = manualSink(false);
    const w = createCoalescingWriter({ attempt: 1, sink: s.sink, clock });
    for (let i = 0; i < 20; i++) w.write(i % 2 === 0 ? 'stdout' : 'stderr', bytes(`line ${i}\n`));
    assert.equal(s.sent.length, 8);
    s.sent[0]!.answer(1);
    s.sent[1]!.answer(2);
    await settle();
    assert.equal(s.sent.length, 10);
    for (let i = 2; i < 10; i++) s.sent[i]!.answer(i + 1);
    await settle();
    for (let i = 10; i < s.sent.length; i++) s.sent[i]!.answer(i + 1);
    const ending = w.end({ reason: 'exited', exitCode: 0 });
    for (let k = 0; k < 5; k++) {
      await settle();
      for (const x of s.sent) x.answer(1);
    }
    await ending;
    assert.deepEqual(s.texts(), Array.from({ length: 20 }, (_, i) => `line ${i}\n`));
    assert.equal(s.ends[0]!.chunks, 20);
    assert.equal(s.ends[0]!.droppedBytes, 0);
  });

  it('a store that does not keep up: output past the queue bound is dropped and counted; end() waits a bounded time', async () => {
    const clock = createFakeClock();
    const s = manualSink(false);
    const w = createCoalescingWriter({ attempt: 2, sink: s.sink, clock });
    const piece = new Uint8Array(64 * 1024).fill(0x78);
    const pieces = (2 * MAX_QUEUED_BYTES) / piece.byteLength;
    for (let i = 0; i < pieces; i++) w.write('stdout', piece);
    assert.equal(s.sent.length, 8); // the rest waits
    s.sent[0]!.answer(null); // not stored: counted too
    await settle();
    // a later chunk says what was dropped before it
    assert.ok(s.sent.at(-1)!.frame.droppedBytes >= MAX_QUEUED_BYTES);
    let ended = false;
    const ending = w.end({ reason: 'memoryLimit', exitCode: 137 }).then(() => (ended = true));
    await clock.advance(END_FLUSH_WAIT_MS - 1);
    assert.equal(ended, false);
    await clock.advance(1);
    await ending;
    // everything written but not stored (nothing was answered but the one refusal): all of it dropped
    assert.equal(s.ends[0]!.droppedBytes, 2 * MAX_QUEUED_BYTES);
    assert.equal(s.ends[0]!.reason, 'memoryLimit');
    assert.equal(s.ends[0]!.exitCode, 137);
    // late answers change nothing and throw nothing
    for (const x of s.sent) x.answer(5);
    await settle();
  });

  it('never throws: a rejecting sink, odd end info; end() twice writes one end record', async () => {
    const clock = createFakeClock();
    const ends: EndFrame[] = [];
    const w = createCoalescingWriter({
      attempt: 1,
      clock,
      sink: { sendChunk: () => Promise.reject(new Error('boom')), sendEnd: async (f) => { ends.push(f); return true; } },
    });
    w.write('stdout', bytes('lost'));
    await clock.advance(FLUSH_INTERVAL_MS);
    const info = { reason: 'x'.repeat(500), exitCode: 1.5 };
    await Promise.all([w.end(info), w.end(info)]);
    assert.equal(ends.length, 1);
    assert.equal(ends[0]!.reason.length, 64);
    assert.equal(ends[0]!.exitCode, null);
    assert.equal(ends[0]!.droppedBytes, 4);
    assert.equal(ends[0]!.chunks, 1);
  });
});
