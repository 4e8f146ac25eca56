/**
 * data_generator (standard-assets): its slicer and the records of one slice.
 *
 * Records follow Teraslice's default mocker schema `{ip, userAgent, url, uuid, created, ipv6,
 * location, bytes}` and come from a small seeded PRNG (mulberry32), seeded from the slice itself
 * (`processed`, `count`), so a retried or recovered slice makes the same records. The one exception
 * is a date "now" (`dateNow`, `utcDate`, the default, and the `*Between` formats without both
 * `start` and `end`): it is the time the slice runs, as in Teraslice.
 */
import type { TaskPlan } from '../../../actors/events.ts';
import type { GeneratorCursor, GeneratorSlice } from './payloads.ts';
import type { DataGeneratorConfig, OpConfig } from './opTypes.ts';
import { generatorSliceSize } from './sliceSize.ts';
import { sliceTaskId } from './taskIds.ts';

/** Records generated (and handed down the pipeline) at a time. */
export const CHUNK_RECORDS = 10_000;

/** Up to `want` more slices from `cursor`; the cursor is absent once a once job's total is covered. */
export function cutGeneratorSlices(spec: { lifecycle: 'once' | 'persistent'; operations: readonly OpConfig[] }, cursor: GeneratorCursor, want: number): { tasks: TaskPlan[]; cursor?: GeneratorCursor } {
  const gen = spec.operations[0] as DataGeneratorConfig;
  const sliceSize = generatorSliceSize(spec);
  const tasks: TaskPlan[] = [];
  let { slices, processed } = cursor;
  const once = spec.lifecycle === 'once';
  while (tasks.length < Math.max(1, want) && !(once && processed >= gen.size)) {
    const count = once ? Math.min(sliceSize, gen.size - processed) : sliceSize;
    processed += count;
    tasks.push({ taskId: sliceTaskId(slices++), payload: { count, processed } satisfies GeneratorSlice, items: count, bytes: 0 });
  }
  return once && processed >= gen.size ? { tasks } : { tasks, cursor: { slices, processed } };
}

/** mulberry32: a 32-bit PRNG, plenty for mock data (never for anything secret). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A seed from the slice's identity: `processed` (its running total, up to 2^53) and `count`. */
export function sliceSeed(slice: GeneratorSlice): number {
  let h = 0x811c9dc5;
  for (const word of [slice.processed >>> 0, Math.floor(slice.processed / 2 ** 32) >>> 0, slice.count >>> 0]) {
    h = Math.imul(h ^ word, 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  }
  return h;
}

interface Rng {
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(from: readonly T[]): T;
}

function rngOf(seed: number): Rng {
  const next = mulberry32(seed);
  const int = (n: number): number => Math.floor((next() / 2 ** 32) * n);
  return { int, pick: (from) => from[int(from.length)]! };
}

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
] as const;
const WORDS = ['alpha', 'bravo', 'delta', 'echo', 'kilo', 'lima', 'nova', 'orbit', 'pixel', 'quartz', 'river', 'sierra', 'tango', 'vector'] as const;
const TLDS = ['com', 'net', 'org', 'io', 'info', 'biz'] as const;
const HEX = '0123456789abcdef';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DAY_MS = 86_400_000;

function chars(rng: Rng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

function uuid(rng: Rng): string {
  const h = chars(rng, HEX, 32).split('');
  h[12] = '4';
  h[16] = HEX[8 + rng.int(4)]!;
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** moment's `YYYY-MM-DDTHH:mm:ss.SSSZ` in UTC (Teraslice's dateNow/isoBetween format). */
const isoWithOffset = (ms: number): string => new Date(ms).toISOString().replace('Z', '+00:00');

function dateOf(op: DataGeneratorConfig, rng: Rng, now: number): string {
  const format = op.format ?? (op.start !== null || op.end !== null ? 'isoBetween' : 'dateNow');
  if (format === 'dateNow') return isoWithOffset(now);
  if (format === 'utcDate') return new Date(now).toISOString();
  const end = op.end !== null ? Date.parse(op.end) : now;
  const start = op.start !== null ? Date.parse(op.start) : end - DAY_MS;
  const at = start + rng.int(Math.max(1, end - start));
  return format === 'isoBetween' ? isoWithOffset(at) : new Date(at).toISOString();
}

function setId(op: DataGeneratorConfig, rng: Rng): string | undefined {
  if (op.set_id === null) return undefined;
  const id = op.set_id === 'base64url' ? chars(rng, BASE64URL, 22) : chars(rng, op.set_id === 'HEXADECIMAL' ? HEX.toUpperCase() : HEX, 32);
  return op.id_start_key === null ? id : op.id_start_key + id.slice(op.id_start_key.length);
}

function record(op: DataGeneratorConfig, rng: Rng, now: number): Record<string, unknown> {
  const r: Record<string, unknown> = {
    ip: `${rng.int(256)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`,
    userAgent: rng.pick(USER_AGENTS),
    url: `https://${rng.pick(WORDS)}.${rng.pick(TLDS)}/${rng.pick(WORDS)}`,
    uuid: uuid(rng),
    created: undefined,
    ipv6: Array.from({ length: 8 }, () => chars(rng, HEX, 4)).join(':'),
    location: `${((rng.int(18_000_001) - 9_000_000) / 100_000).toFixed(5)}, ${((rng.int(36_000_001) - 18_000_000) / 100_000).toFixed(5)}`,
    bytes: 7 + rng.int(2_000_000),
  };
  const date = dateOf(op, rng, now);
  if (op.date_key === 'created') r.created = date;
  else {
    delete r.created;
    r[op.date_key] = date;
  }
  const id = setId(op, rng);
  if (id !== undefined) r.id = id;
  return r;
}

/**
 * The records of one slice, `CHUNK_RECORDS` at a time (never the whole slice in memory).
 * `stress_test` makes one record and repeats it.
 */
export function* generatorChunks(op: DataGeneratorConfig, slice: GeneratorSlice, now: () => number): Generator<Record<string, unknown>[]> {
  const rng = rngOf(sliceSeed(slice));
  const one = op.stress_test ? record(op, rng, now()) : undefined;
  for (let done = 0; done < slice.count; ) {
    const n = Math.min(CHUNK_RECORDS, slice.count - done);
    const t = now();
    const chunk = new Array<Record<string, unknown>>(n);
    for (let i = 0; i < n; i++) chunk[i] = one ?? record(op, rng, t);
    done += n;
    yield chunk;
  }
}
