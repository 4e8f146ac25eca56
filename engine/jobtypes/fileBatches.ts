/**
 * Planning shared by the file job types (`load`, `copy`, `move`): group the files `listFiles.ts`
 * found into tasks of `batchSize` files, splitting files larger than `partitionSizeBytes` into
 * byte ranges (Alluxio's `alluxio.job.batch.size` and `alluxio.worker.load.file.partition.size`).
 * A task of whole files also carries at most `partitionSizeBytes` bytes, so large files are
 * copied in parallel (a task copies its files one after another) and a retry redoes at most that.
 *
 * Item rule: an entry counts as one item when its `offset` is 0. Whole files always start at 0;
 * a partitioned file counts once, on its first part. So the sum of `items` over all tasks is the
 * number of files, and the sum of `bytes` is the number of bytes.
 */
import type { TaskPlan } from '../../actors/events.ts';
import { TaskRunError } from './jobType.ts';
import { formatTaskId } from './taskId.ts';

/** Default files per task (Alluxio `alluxio.job.batch.size`). */
export const DEFAULT_BATCH_SIZE = 200;
/** Largest `batchSize` a spec may ask for. */
export const MAX_BATCH_SIZE = 10_000;
/** One mebibyte in bytes. */
export const MIB = 1024 * 1024;
/** Default shard size for large files (Alluxio `alluxio.worker.load.file.partition.size`). */
export const DEFAULT_PARTITION_SIZE_BYTES = 256 * MIB;
/** Smallest `partitionSizeBytes` a spec may ask for (smaller shards cost more than they gain). */
export const MIN_PARTITION_SIZE_BYTES = MIB;
/** Largest accepted partition size (1 TiB): far above any sensible shard, well inside safe integers. */
export const MAX_PARTITION_SIZE_BYTES = 2 ** 40;

/** JSON Schema of the `batchSize` spec field. */
export const BATCH_SIZE_SCHEMA = Object.freeze({
  type: 'integer',
  minimum: 1,
  maximum: MAX_BATCH_SIZE,
  // no `default`: the planning coordinator's defaultBatchSize setting applies, which an operator may change
  description: `Files per task; when absent, the planning coordinator's defaultBatchSize setting (${DEFAULT_BATCH_SIZE} unless configured).`,
});

/** One file found by `listFiles` (listFiles.ts); `rel` is relative to the walk's base, `/`-separated. */
export interface SourceFile {
  rel: string;
  size: number;
}

/** One unit of copying inside a task: bytes `[offset, offset + length)` of a file of `size` bytes. */
export interface FileEntry {
  rel: string;
  offset: number;
  length: number;
  size: number;
}

/** The payload of every file task. */
export interface FileBatchPayload {
  files: FileEntry[];
}

/** Whether an entry is one range of a split file (as opposed to a whole file). */
export function isPartition(entry: FileEntry): boolean {
  return entry.offset !== 0 || entry.length !== entry.size;
}

/** Resolved sizing options of a file plan. */
export interface BatchOptions {
  batchSize: number;
  /** Files strictly larger than this are split; `Infinity` never splits. */
  partitionSizeBytes: number;
}

/**
 * Groups files (in the given order) into tasks: up to `batchSize` whole files and up to
 * `partitionSizeBytes` bytes per task (a file that would take a task past it starts the next
 * one), and every file larger than `partitionSizeBytes` as its own run of one-range tasks. Pure.
 */
export function planFileBatches(files: readonly SourceFile[], opts: BatchOptions): TaskPlan[] {
  const tasks: TaskPlan[] = [];
  let batch: FileEntry[] = [];
  let batchBytes = 0;
  const push = (entries: FileEntry[]): void => {
    tasks.push({
      taskId: formatTaskId(tasks.length),
      payload: { files: entries } satisfies FileBatchPayload,
      items: entries.filter((e) => e.offset === 0).length,
      bytes: entries.reduce((sum, e) => sum + e.length, 0),
    });
  };
  for (const { rel, size } of files) {
    if (size > opts.partitionSizeBytes) {
      if (batch.length > 0) push(batch);
      batch = [];
      batchBytes = 0;
      for (let offset = 0; offset < size; offset += opts.partitionSizeBytes) {
        push([{ rel, offset, length: Math.min(opts.partitionSizeBytes, size - offset), size }]);
      }
      continue;
    }
    if (batch.length > 0 && batchBytes + size > opts.partitionSizeBytes) {
      push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push({ rel, offset: 0, length: size, size });
    batchBytes += size;
    if (batch.length >= opts.batchSize) {
      push(batch);
      batch = [];
      batchBytes = 0;
    }
  }
  if (batch.length > 0) push(batch);
  return tasks;
}

function badPayload(why: string): TaskRunError {
  return new TaskRunError('BAD_PAYLOAD', `invalid file task payload: ${why}`, false);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Checks a payload that came over the wire. `rel` must be relative, `/`-separated and free of
 * `.`/`..` segments, so joining it under a base can never climb out of that base.
 * @throws TaskRunError BAD_PAYLOAD (not retryable).
 */
export function parseFileBatchPayload(payload: unknown): FileEntry[] {
  const files = typeof payload === 'object' && payload !== null ? (payload as { files?: unknown }).files : undefined;
  if (!Array.isArray(files)) throw badPayload('files must be an array');
  return files.map((f: unknown, i): FileEntry => {
    if (typeof f !== 'object' || f === null) throw badPayload(`files[${i}] is not an object`);
    const { rel, offset, length, size } = f as Record<string, unknown>;
    if (typeof rel !== 'string' || rel.startsWith('/') || (rel !== '' && rel.split('/').some((s) => s === '' || s === '.' || s === '..'))) {
      throw badPayload(`files[${i}].rel is not a plain relative path`);
    }
    if (!isCount(offset) || !isCount(length) || !isCount(size) || offset + length > size) {
      throw badPayload(`files[${i}] has an invalid byte range`);
    }
    return { rel, offset, length, size };
  });
}

/** A planned file as verification sees it. */
export interface PlannedFile {
  rel: string;
  size: number;
  partitioned: boolean;
}

/** The distinct files of a plan, sorted by `rel`, with their planned sizes. */
export function plannedFiles(tasks: readonly TaskPlan[]): PlannedFile[] {
  const byRel = new Map<string, PlannedFile>();
  for (const t of tasks) {
    for (const e of parseFileBatchPayload(t.payload)) {
      const seen = byRel.get(e.rel);
      if (seen === undefined) byRel.set(e.rel, { rel: e.rel, size: e.size, partitioned: isPartition(e) });
      else seen.partitioned ||= isPartition(e);
    }
  }
  return [...byRel.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
