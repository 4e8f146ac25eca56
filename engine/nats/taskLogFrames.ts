/**
 * The bytes of a stream LOGS message (jetStreamTaskLogs.ts). A chunk (`….out`): one line of JSON
 * `{"a":attempt,"s":"o"|"e","i":index,"t":ms,"d":dropped}`, `\n`, then the output bytes as
 * written. An end record (`….end`): JSON `{"a","r":reason,"x":exitCode,"d":dropped,"c":chunks,"t":ms}`.
 * Anything else on those subjects is skipped by readers.
 */
import type { ChunkFrame, EndFrame, StoredRecord } from '../tasklogs/taskLogRecords.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NEWLINE = 0x0a;

export function encodeChunk(f: ChunkFrame): Uint8Array {
  const head = encoder.encode(JSON.stringify({ a: f.attempt, s: f.stream === 'stdout' ? 'o' : 'e', i: f.index, t: f.atMs, d: f.droppedBytes }));
  const out = new Uint8Array(head.byteLength + 1 + f.bytes.byteLength);
  out.set(head, 0);
  out[head.byteLength] = NEWLINE;
  out.set(f.bytes, head.byteLength + 1);
  return out;
}

export function encodeEnd(f: EndFrame): Uint8Array {
  return encoder.encode(JSON.stringify({ a: f.attempt, r: f.reason, x: f.exitCode, d: f.droppedBytes, c: f.chunks, t: f.atMs }));
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parseJson(bytes: Uint8Array): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(decoder.decode(bytes));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The record a message holds, or null when it is not one of ours. */
export function decodeLogRecord(subject: string, seq: number, data: Uint8Array): StoredRecord | null {
  if (subject.endsWith('.out')) {
    const nl = data.indexOf(NEWLINE);
    if (nl < 0) return null;
    const h = parseJson(data.subarray(0, nl));
    if (h === null || !isCount(h['a']) || h['a'] < 1 || (h['s'] !== 'o' && h['s'] !== 'e') || !isCount(h['i']) || !isCount(h['t']) || !isCount(h['d'])) return null;
    return { kind: 'chunk', seq, attempt: h['a'], stream: h['s'] === 'o' ? 'stdout' : 'stderr', index: h['i'], bytes: data.subarray(nl + 1), atMs: h['t'], droppedBytes: h['d'] };
  }
  if (subject.endsWith('.end')) {
    const h = parseJson(data);
    const x = h?.['x'];
    if (h === null || !isCount(h['a']) || h['a'] < 1 || typeof h['r'] !== 'string' || !(x === null || (typeof x === 'number' && Number.isSafeInteger(x))) || !isCount(h['d']) || !isCount(h['c']) || !isCount(h['t'])) return null;
    return { kind: 'end', seq, attempt: h['a'], reason: h['r'], exitCode: x, droppedBytes: h['d'], chunks: h['c'], atMs: h['t'] };
  }
  return null;
}
