import path from 'node:path';
import {
  BATCH_SIZE_SCHEMA,
  DEFAULT_BATCH_SIZE,
  DEFAULT_PARTITION_SIZE_BYTES,
  MAX_PARTITION_SIZE_BYTES,
  MIN_PARTITION_SIZE_BYTES,
  parseFileBatchPayload,
  planFileBatches,
} from './fileBatches.ts';
import { runFileBatch } from './fileCopy.ts';
import { checkLanded, mismatchMessage } from './fileVerify.ts';
import type { JobType } from './jobType.ts';
import { listFiles } from './listFiles.ts';
import { PATH_SCHEMA, resolveInside } from './paths.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';

/** Spec of a `load` job: copy files from `dataDir/path` into the cache at the same relative path. */
export type LoadSpec = {
  /** File or directory, relative to `dataDir`. */
  path: string;
  /** Files per task. @defaultValue the planning coordinator's `defaultBatchSize` (DEFAULT_BATCH_SIZE, 200) */
  batchSize?: number;
  /** Files larger than this are loaded in ranges of this size, and a task of whole files carries at most this many bytes. @defaultValue the planning coordinator's `defaultPartitionSizeBytes` (DEFAULT_PARTITION_SIZE_BYTES, 256 MiB) */
  partitionSizeBytes?: number;
  /** Check sizes in the cache after the last task. @defaultValue true */
  verify?: boolean;
};

/**
 * `load` (Alluxio `job load`): files under `dataDir/path` are copied to `cacheDir/<same path>`.
 * Tasks carry `{ files: [{ rel, offset, length, size }] }` with `rel` relative to `dataDir`;
 * see `fileBatches.ts` for batching and the item rule, `fileCopy.ts` for how files land.
 */
export const loadJobType: JobType<LoadSpec> = {
  name: 'load',
  specSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: PATH_SCHEMA,
      batchSize: BATCH_SIZE_SCHEMA,
      partitionSizeBytes: {
        type: 'integer',
        minimum: MIN_PARTITION_SIZE_BYTES,
        maximum: MAX_PARTITION_SIZE_BYTES,
        description: `Files larger than this are loaded in ranges of this size, and a task of whole files carries at most this many bytes; when absent, the planning coordinator's defaultPartitionSizeBytes setting (${DEFAULT_PARTITION_SIZE_BYTES} unless configured).`,
      },
      verify: { type: 'boolean', default: true },
    },
  },

  checkSpec(spec, roots) {
    resolveInside(roots.dataDir, spec.path);
  },

  async plan(spec, ctx) {
    const dataDir = path.resolve(ctx.roots.dataDir);
    const start = resolveInside(dataDir, spec.path);
    const files = await listFiles(dataDir, start, dataDir, ctx.signal);
    return planFileBatches(files, {
      batchSize: spec.batchSize ?? ctx.defaults?.batchSize ?? DEFAULT_BATCH_SIZE,
      partitionSizeBytes: spec.partitionSizeBytes ?? ctx.defaults?.partitionSizeBytes ?? DEFAULT_PARTITION_SIZE_BYTES,
    });
  },

  async run(_spec, payload, ctx) {
    const target = { srcRoot: ctx.roots.dataDir, srcBase: '', dstRoot: ctx.roots.cacheDir, dstBase: '', overwrite: true };
    return await runFileBatch(parseFileBatchPayload(payload), target, ctx);
  },

  async verify(spec, ctx) {
    if (spec.verify === false) {
      const files = ctx.results.reduce((n, r) => n + r.itemsDone, 0);
      const bytes = ctx.results.reduce((n, r) => n + r.bytesDone, 0);
      return { ok: true, summary: { files, bytes, verified: false } };
    }
    const check = await checkLanded(ctx.tasks, ctx.results, { srcBase: '', dstRoot: ctx.roots.cacheDir, dstBase: '' }, ctx.signal);
    if (check.mismatches.length > 0) return { ok: false, code: 'VERIFY_MISMATCH' satisfies JobFailureCode, message: mismatchMessage(check) };
    return { ok: true, summary: { files: check.files, bytes: check.bytes, verified: true } };
  },
};
