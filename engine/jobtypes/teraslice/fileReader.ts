/**
 * file_reader's fetcher: the records of one slice, `CHUNK_RECORDS` at a time.
 *
 * Line rule: a slice owns the lines that START inside [offset, offset + length) (the first slice
 * owns the line at 0; a later one skips the partial line it begins in) and reads past its end to
 * finish its last line. So every line is read exactly once, however the file is cut.
 *
 * Formats: ldjson (one JSON object per line), raw (each line → `{data: line}`), json (the whole
 * file is one JSON array of objects, or one object; whole-file slices only, at most
 * MAX_JSON_FILE_BYTES). gzip files are read whole (a gzip stream cannot be entered mid-way).
 * A bad record fails the slice with `_dead_letter_action: "throw"` (not retryable: the same bytes
 * fail again); with "log" or "none" it is skipped and counted as a failed item named
 * `path:line` (a slice starting at byte 0) or `path@byte` (a later slice cannot know its line
 * numbers without reading everything before it).
 */
import type { FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { TaskRunError } from '../jobType.ts';
import { openForReading, type RootedDir } from '../rootedDir.ts';
import { CHUNK_RECORDS } from './dataGenerator.ts';
import { readsWholeFiles } from './fileSlicer.ts';
import type { FileReaderConfig } from './opTypes.ts';
import type { FileSlice } from './payloads.ts';

/** Bytes read from a file at a time. */
const READ_BYTES = 1024 * 1024;
/** Longest line (and largest json file) a slice accepts: more fails the slice, not the worker. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
export const MAX_JSON_FILE_BYTES = MAX_LINE_BYTES;

export type DataRecord = Record<string, unknown>;

/** What a slice's read did besides its records. */
export interface ReadTally {
  /** Bytes of the lines the slice owned (a whole-file slice: the file's bytes). */
  bytes: number;
  failed: number;
  failures: { item: string; error: string }[];
}

export interface ReadIo {
  signal: AbortSignal;
  /** Called now and then while reading (heartbeats). */
  progress(): void;
  /** Records a skipped record (the caller caps the list). */
  skip(item: string, error: string): void;
}

function badRecord(item: string, why: string): TaskRunError {
  return new TaskRunError('BAD_RECORD', `file_reader: ${item}: ${why}`, false);
}

/** The records of `slice`; `tally.bytes` is set once the generator is done. */
export async function* fileChunks(op: FileReaderConfig, slice: FileSlice, root: RootedDir, io: ReadIo, tally: ReadTally): AsyncGenerator<DataRecord[]> {
  const fh = await openForReading(root, slice.path);
  try {
    const whole = readsWholeFiles(op);
    const chunks = whole ? streamChunks(fh, op.compression === 'gzip', io) : rangeChunks(fh, Math.max(0, slice.offset - Buffer.byteLength(op.line_delimiter)), io);
    if (op.format === 'json') {
      yield* jsonChunks(op, slice, await collect(chunks, slice.path));
      tally.bytes = slice.length;
      return;
    }
    const end = whole ? Number.POSITIVE_INFINITY : slice.offset + slice.length;
    const first = whole ? 0 : Math.max(0, slice.offset - Buffer.byteLength(op.line_delimiter));
    let batch: DataRecord[] = [];
    let lineNo = 0;
    let from: number | undefined;
    let to = 0;
    for await (const { line, start, next } of splitLines(chunks, { first, skipFirst: !whole && slice.offset > 0, end, delimiter: Buffer.from(op.line_delimiter) })) {
      from ??= start;
      to = next;
      lineNo++;
      const rec = lineRecord(op, line, () => (slice.offset === 0 ? `${slice.path}:${lineNo}` : `${slice.path}@${start}`), io);
      if (rec !== undefined) batch.push(rec);
      if (batch.length >= CHUNK_RECORDS) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
    tally.bytes = whole ? slice.length : to - (from ?? to);
  } finally {
    await fh.close();
  }
}

/** One line as a record, or undefined (an empty line ignored, or a bad one skipped). */
function lineRecord(op: FileReaderConfig, line: Buffer, item: () => string, io: ReadIo): DataRecord | undefined {
  const text = line.toString('utf8');
  if (op.format === 'raw') return text === '' && op.ignore_empty ? undefined : { data: text };
  if (text.trim() === '' && op.ignore_empty) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return deadLetter(op, item(), `invalid JSON (${(e as Error).message})`, io);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return deadLetter(op, item(), 'is not a JSON object', io);
  return value as DataRecord;
}

function deadLetter(op: FileReaderConfig, item: string, why: string, io: ReadIo): undefined {
  if (op._dead_letter_action === 'throw') throw badRecord(item, why);
  io.skip(item, why);
  return undefined;
}

function* jsonChunks(op: FileReaderConfig, slice: FileSlice, bytes: Buffer): Generator<DataRecord[]> {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (op._dead_letter_action === 'throw') throw badRecord(slice.path, `invalid JSON (${(e as Error).message})`);
    return;
  }
  const all = Array.isArray(value) ? value : [value];
  const records = all.filter((v): v is DataRecord => typeof v === 'object' && v !== null && !Array.isArray(v));
  if (records.length < all.length && op._dead_letter_action === 'throw') throw badRecord(slice.path, 'holds a value that is not a JSON object');
  for (let i = 0; i < records.length; i += CHUNK_RECORDS) yield records.slice(i, i + CHUNK_RECORDS);
}

/** A file's bytes from `position` to its end, READ_BYTES at a time. */
async function* rangeChunks(fh: FileHandle, position: number, io: ReadIo): AsyncGenerator<Buffer> {
  for (let at = position; ; ) {
    io.signal.throwIfAborted();
    const buf = Buffer.allocUnsafe(READ_BYTES);
    const { bytesRead } = await fh.read(buf, 0, READ_BYTES, at);
    if (bytesRead === 0) return;
    at += bytesRead;
    io.progress();
    yield buf.subarray(0, bytesRead);
  }
}

/** The whole file as a stream, decompressed when gzip. */
async function* streamChunks(fh: FileHandle, gzip: boolean, io: ReadIo): AsyncGenerator<Buffer> {
  const raw = fh.createReadStream({ start: 0, highWaterMark: READ_BYTES, autoClose: false });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  try {
    for await (const chunk of stream) {
      io.signal.throwIfAborted();
      io.progress();
      yield chunk as Buffer;
    }
  } catch (e) {
    if (gzip && (e as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new TaskRunError('BAD_RECORD', `file_reader: not a valid gzip file (${(e as Error).message})`, false);
    throw e;
  } finally {
    raw.destroy();
    stream.destroy();
  }
}

async function collect(chunks: AsyncIterable<Buffer>, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of chunks) {
    n += c.length;
    if (n > MAX_JSON_FILE_BYTES) throw new TaskRunError('FILE_TOO_LARGE', `file_reader: ${path} is larger than ${MAX_JSON_FILE_BYTES} bytes, too large for format json (use ldjson)`, false);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** A line: its bytes (without the delimiter), where it starts and where the next one starts. */
export interface Line {
  line: Buffer;
  start: number;
  next: number;
}

/**
 * Splits a byte stream into lines. `first` is the file position of the stream's first byte; with
 * `skipFirst` the bytes up to and including the first delimiter are skipped (they belong to a line
 * that starts before the slice). Lines that start at or after `end` are not produced. Exported for tests.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer>, opts: { first: number; skipFirst: boolean; end: number; delimiter: Buffer }): AsyncGenerator<Line> {
  const { end, delimiter: d } = opts;
  let buf: Buffer = Buffer.alloc(0);
  let bufPos = opts.first; // file position of buf[0]
  let lineStart: number | undefined = opts.skipFirst ? undefined : opts.first;
  let searchFrom = 0; // index in buf where the next delimiter search may start
  for await (const chunk of chunks) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (lineStart === undefined) {
        const i = buf.indexOf(d, searchFrom);
        if (i < 0) break;
        lineStart = bufPos + i + d.length;
        searchFrom = i + d.length;
      }
      if (lineStart >= end) return;
      const j = buf.indexOf(d, Math.max(searchFrom, lineStart - bufPos));
      if (j < 0) break;
      const next = bufPos + j + d.length;
      yield { line: buf.subarray(lineStart - bufPos, j), start: lineStart, next };
      lineStart = next;
      searchFrom = j + d.length;
    }
    // Keep only what is still needed: the current line, or the last d.length - 1 bytes while looking for a delimiter.
    const keepFrom = lineStart !== undefined ? lineStart - bufPos : Math.max(0, buf.length - d.length + 1);
    if (buf.length - keepFrom > MAX_LINE_BYTES) throw new TaskRunError('LINE_TOO_LONG', `file_reader: a line longer than ${MAX_LINE_BYTES} bytes`, false);
    searchFrom = Math.max(0, buf.length - d.length + 1 - keepFrom);
    buf = buf.subarray(keepFrom);
    bufPos += keepFrom;
  }
  if (lineStart !== undefined && lineStart < end && lineStart < bufPos + buf.length) {
    yield { line: buf.subarray(lineStart - bufPos), start: lineStart, next: bufPos + buf.length };
  }
}
