/**
 * The writer both TaskLogs implementations hand out: coalesces a task's output into chunks (one
 * stream each, at most MAX_CHUNK_BYTES, sent at least every FLUSH_INTERVAL_MS), sends them in
 * order with a bounded number in flight, and drops (and counts) what does not fit in
 * MAX_QUEUED_BYTES. The store behind it is a {@link LogSink}.
 */
import type { Clock } from '../clock.ts';
import {
  END_FLUSH_WAIT_MS,
  FLUSH_INTERVAL_MS,
  MAX_CHUNK_BYTES,
  MAX_QUEUED_BYTES,
  MAX_REASON_CHARS,
  type ChunkFrame,
  type EndFrame,
} from './taskLogRecords.ts';
import type { LogStream, TaskLogWriter } from './taskLogs.ts';

/** Where a writer's records go. Calls come in the order the records were written. */
export interface LogSink {
  /** Stores a chunk; resolves with its seq, or null when it was not stored (never rejects). */
  sendChunk(frame: ChunkFrame): Promise<number | null>;
  /** Stores the end record; resolves false when it was not stored (never rejects). */
  sendEnd(frame: EndFrame): Promise<boolean>;
}

/** Options of {@link createCoalescingWriter}. */
export interface CoalescingWriterOptions {
  attempt: number;
  sink: LogSink;
  clock: Clock;
  /** Chunks sent and not yet answered. @defaultValue 8 */
  maxInFlight?: number;
  /** @defaultValue {@link FLUSH_INTERVAL_MS} */
  flushIntervalMs?: number;
  /** @defaultValue {@link MAX_QUEUED_BYTES} */
  maxQueuedBytes?: number;
  /** @defaultValue {@link END_FLUSH_WAIT_MS} */
  endWaitMs?: number;
}

const DEFAULT_MAX_IN_FLIGHT = 8;

interface Run {
  stream: LogStream;
  parts: Uint8Array[];
  bytes: number;
  atMs: number;
  /** Its start is a partial character held back by a flush: the next flush sends it whatever follows. */
  held?: boolean;
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const isContinuation = (b: number) => (b & 0xc0) === 0x80;

/** A cut at or before `max` that does not split a UTF-8 character (`max` itself if the bytes are not UTF-8 there). */
export function utf8CutBefore(bytes: Uint8Array, max: number): number {
  for (let p = max; p > max - 4 && p > 0; p--) if (!isContinuation(bytes[p]!)) return p;
  return max;
}

/** Length of `bytes` without a trailing incomplete UTF-8 character. */
export function utf8CompleteLength(bytes: Uint8Array): number {
  const n = bytes.byteLength;
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const b = bytes[i]!;
    if (isContinuation(b)) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return n - i < need ? i : n;
  }
  return n;
}

/** A writer for one attempt over `sink`. `write` and `end` never throw. */
export function createCoalescingWriter(o: CoalescingWriterOptions): TaskLogWriter {
  const { attempt, sink, clock } = o;
  const maxInFlight = o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const flushMs = o.flushIntervalMs ?? FLUSH_INTERVAL_MS;
  const maxQueued = o.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  const endWaitMs = o.endWaitMs ?? END_FLUSH_WAIT_MS;

  const sealed: Run[] = [];
  let open: Run | null = null;
  /** Bytes written and not yet answered: open, sealed and in flight. */
  let queued = 0;
  let inFlight = 0;
  let inFlightBytes = 0;
  let nextIndex = 0;
  let dropped = 0;
  /** end() stopped waiting: late answers no longer change the counts. */
  let gaveUp = false;
  let timer: unknown;
  let onIdle: (() => void) | undefined;
  let ending: Promise<void> | undefined;

  /** Moves the open run to `sealed`; unless `force`, holds back a trailing incomplete character. */
  function sealOpen(force: boolean): void {
    if (open === null) return;
    const all = concat(open.parts, open.bytes);
    let cut = force ? all.byteLength : utf8CompleteLength(all);
    if (cut === 0) {
      // nothing but a partial character: hold it for one flush, then send it as it is
      if (!open.held) {
        open.held = true;
        return;
      }
      cut = all.byteLength;
    }
    sealed.push({ stream: open.stream, parts: [all.subarray(0, cut)], bytes: cut, atMs: open.atMs });
    open = cut < all.byteLength ? { stream: open.stream, parts: [all.subarray(cut)], bytes: all.byteLength - cut, atMs: clock.now(), held: true } : null;
  }

  function splitFullRuns(): void {
    while (open !== null && open.bytes >= MAX_CHUNK_BYTES) {
      const all = concat(open.parts, open.bytes);
      const cut = utf8CutBefore(all, MAX_CHUNK_BYTES);
      sealed.push({ stream: open.stream, parts: [all.subarray(0, cut)], bytes: cut, atMs: open.atMs });
      open = cut < all.byteLength ? { stream: open.stream, parts: [all.subarray(cut)], bytes: all.byteLength - cut, atMs: clock.now() } : null;
    }
  }

  function settled(bytes: number, stored: boolean): void {
    inFlight--;
    inFlightBytes -= bytes;
    queued -= bytes;
    if (!stored && !gaveUp) dropped += bytes;
    pump();
    if (inFlight === 0 && sealed.length === 0) onIdle?.();
  }

  function pump(): void {
    while (inFlight < maxInFlight && sealed.length > 0) {
      const run = sealed.shift()!;
      const bytes = concat(run.parts, run.bytes);
      const frame: ChunkFrame = { attempt, stream: run.stream, index: nextIndex++, bytes, atMs: run.atMs, droppedBytes: dropped };
      inFlight++;
      inFlightBytes += run.bytes;
      sink.sendChunk(frame).then(
        (seq) => settled(run.bytes, seq !== null),
        () => settled(run.bytes, false),
      );
    }
  }

  function tick(): void {
    timer = undefined;
    sealOpen(false);
    pump();
    arm();
  }

  function arm(): void {
    if (timer === undefined && open !== null && ending === undefined) timer = clock.setTimeout(tick, flushMs);
  }

  return {
    write(stream, chunk) {
      try {
        if (ending !== undefined || (stream !== 'stdout' && stream !== 'stderr') || !(chunk instanceof Uint8Array) || chunk.byteLength === 0) return;
        if (queued + chunk.byteLength > maxQueued) {
          dropped += chunk.byteLength;
          return;
        }
        queued += chunk.byteLength;
        if (open !== null && open.stream !== stream) sealOpen(true); // a chunk holds one stream; order is kept
        open ??= { stream, parts: [], bytes: 0, atMs: clock.now() };
        open.parts.push(chunk.slice()); // the caller may reuse its buffer
        open.bytes += chunk.byteLength;
        splitFullRuns();
        pump();
        arm();
      } catch {
        // never into the task
      }
    },

    end(info) {
      ending ??= (async () => {
        try {
          if (timer !== undefined) clock.clearTimeout(timer);
          timer = undefined;
          sealOpen(true);
          pump();
          if (inFlight > 0 || sealed.length > 0) {
            await new Promise<void>((resolve) => {
              const t = clock.setTimeout(resolve, endWaitMs);
              onIdle = () => {
                clock.clearTimeout(t);
                resolve();
              };
            });
          }
          // what is still unsent or unanswered counts as dropped (an answer may yet come: at most)
          gaveUp = true;
          dropped += sealed.reduce((n, r) => n + r.bytes, 0) + inFlightBytes;
          sealed.length = 0;
          const reason = typeof info?.reason === 'string' && info.reason !== '' ? info.reason.slice(0, MAX_REASON_CHARS) : 'unknown';
          const exitCode = Number.isSafeInteger(info?.exitCode) ? info.exitCode : null;
          await sink.sendEnd({ attempt, reason, exitCode, droppedBytes: dropped, chunks: nextIndex, atMs: clock.now() }).catch(() => false);
        } catch {
          // never into the task
        }
      })();
      return ending;
    },
  };
}
