/**
 * What a teraslice job's tasks carry and where its open plan stands, with their checks and schemas.
 * Payloads travel to workers and come back in `recovery` from the Teraslice facade, so both are
 * checked wherever they arrive.
 */
import { DATA_PATH_SCHEMA, normalizeDataPath } from './dataPath.ts';
import { FieldError } from './fields.ts';
import { MAX_GENERATOR_SIZE, MAX_SLICE_RECORDS } from './operations.ts';

/** A data_generator slice, as Teraslice's slicer makes it: `count` records; `processed` = running total including them. */
export type GeneratorSlice = { count: number; processed: number };
/** A file_reader slice: bytes [offset, offset + length) of the file `path` (relative to the files root) of `total` bytes. */
export type FileSlice = { path: string; offset: number; length: number; total: number };
export type SlicePayload = GeneratorSlice | FileSlice;

/** data_generator slicing so far: `slices` made, `processed` records covered. */
export type GeneratorCursor = { slices: number; processed: number };
/**
 * file_reader slicing so far: `slices` made; `at` the file being cut (`offset`: its next byte to
 * cut; at or past `total`, go on with the next file in walk order), null before the first file.
 */
export type FileCursor = { slices: number; at: { path: string; offset: number; total: number } | null };
export type ReaderCursor = GeneratorCursor | FileCursor;
/** Re-running `spec.recovery.slices` from index `rerun`; after them, the plan goes on as `recovery` says. */
export type RerunCursor = { rerun: number };
export type PlanCursor = ReaderCursor | RerunCursor;

const MAX_BYTES = Number.MAX_SAFE_INTEGER;
const int = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max });

export const GENERATOR_SLICE_SCHEMA = Object.freeze({
  type: 'object', additionalProperties: false, required: ['count', 'processed'],
  properties: { count: int(1, MAX_SLICE_RECORDS), processed: int(1, MAX_BYTES) },
});
export const FILE_SLICE_SCHEMA = Object.freeze({
  type: 'object', additionalProperties: false, required: ['path', 'offset', 'length', 'total'],
  properties: { path: DATA_PATH_SCHEMA, offset: int(0, MAX_BYTES), length: int(0, MAX_BYTES), total: int(0, MAX_BYTES) },
});
export const GENERATOR_CURSOR_SCHEMA = Object.freeze({
  type: 'object', additionalProperties: false, required: ['slices', 'processed'],
  properties: { slices: int(0, MAX_BYTES), processed: int(0, MAX_BYTES) },
});
export const FILE_CURSOR_SCHEMA = Object.freeze({
  type: 'object', additionalProperties: false, required: ['slices', 'at'],
  properties: {
    slices: int(0, MAX_BYTES),
    at: {
      type: 'object', nullable: true, additionalProperties: false, required: ['path', 'offset', 'total'],
      properties: { path: DATA_PATH_SCHEMA, offset: int(0, MAX_BYTES), total: int(0, MAX_BYTES) },
    },
  },
});

function isCount(v: unknown, min = 0, max = MAX_BYTES): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}

function exactKeys(v: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FieldError(`${what} must be an object`);
  const extra = Object.keys(v).find((k) => !keys.includes(k));
  if (extra !== undefined) throw new FieldError(`${what} has an unknown key ${JSON.stringify(extra.slice(0, 64))}`);
  return v as Record<string, unknown>;
}

/** Checks a data_generator slice payload; throws FieldError. */
export function parseGeneratorSlice(v: unknown): GeneratorSlice {
  const o = exactKeys(v, ['count', 'processed'], 'a data_generator slice');
  if (!isCount(o.count, 1, MAX_SLICE_RECORDS)) throw new FieldError(`a data_generator slice needs a count from 1 to ${MAX_SLICE_RECORDS}`);
  if (!isCount(o.processed, o.count, MAX_GENERATOR_SIZE * 1000)) throw new FieldError('a data_generator slice needs processed >= count');
  return { count: o.count, processed: o.processed };
}

/** Checks a file_reader slice payload (a plain relative path, a range inside the file); throws FieldError. */
export function parseFileSlice(v: unknown): FileSlice {
  const o = exactKeys(v, ['path', 'offset', 'length', 'total'], 'a file_reader slice');
  const path = normalizeDataPath(o.path);
  if (path !== o.path) throw new FieldError('a file_reader slice needs a normalised relative path');
  if (!isCount(o.offset) || !isCount(o.length) || !isCount(o.total) || o.offset + o.length > o.total) {
    throw new FieldError('a file_reader slice needs a byte range inside the file');
  }
  return { path, offset: o.offset, length: o.length, total: o.total };
}

export function parseGeneratorCursor(v: unknown): GeneratorCursor {
  const o = exactKeys(v, ['slices', 'processed'], 'a data_generator cursor');
  if (!isCount(o.slices) || !isCount(o.processed)) throw new FieldError('a data_generator cursor needs integer slices and processed');
  return { slices: o.slices, processed: o.processed };
}

export function parseFileCursor(v: unknown): FileCursor {
  const o = exactKeys(v, ['slices', 'at'], 'a file_reader cursor');
  if (!isCount(o.slices)) throw new FieldError('a file_reader cursor needs integer slices');
  if (o.at === null) return { slices: o.slices, at: null };
  const at = exactKeys(o.at, ['path', 'offset', 'total'], 'a file_reader cursor position');
  const path = normalizeDataPath(at.path);
  if (path !== at.path || !isCount(at.offset) || !isCount(at.total)) throw new FieldError('a file_reader cursor needs a normalised path and integer offset and total');
  return { slices: o.slices, at: { path, offset: at.offset, total: at.total } };
}

export function isRerunCursor(c: unknown): c is RerunCursor {
  return typeof c === 'object' && c !== null && 'rerun' in c;
}
