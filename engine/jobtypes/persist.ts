import path from 'node:path';
import { BATCH_SIZE_SCHEMA, DEFAULT_BATCH_SIZE, parseFileBatchPayload, planFileBatches } from './fileBatches.ts';
import { runFileBatch } from './fileCopy.ts';
import { checkLanded, mismatchMessage } from './fileVerify.ts';
import type { FileRoots, JobType } from './jobType.ts';
import { listFiles } from './listFiles.ts';
import { PATH_SCHEMA, resolveInside } from './paths.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';

/** Spec of a `persist` job: write the cached files at `cacheDir/path` back to `dataDir/<same path>`. */
export type PersistSpec = {
  /** File or directory, relative to `cacheDir` (and, for the destination, to `dataDir`). */
  path: string;
  /**
   * Replace a file that already exists in `dataDir`; when false such a file is a failed item and
   * is left alone (Alluxio's PersistConfig: `overwrite` false, "already persisted").
   * @defaultValue false
   */
  overwrite?: boolean;
  /** Files per task. @defaultValue the planning coordinator's `defaultBatchSize` (DEFAULT_BATCH_SIZE, 200) */
  batchSize?: number;
};

/** The path must stay inside both roots: it is read in the cache and written in the files root. */
function checkPersistSpec(spec: PersistSpec, roots: FileRoots): void {
  resolveInside(roots.cacheDir, spec.path);
  resolveInside(roots.dataDir, spec.path);
}

/**
 * `persist` (Alluxio's PersistConfig): `load` the other way round. Files under `cacheDir/path`
 * are copied to `dataDir/<same path>` by the same task code as `load` (`fileCopy.ts`: rooted,
 * race-safe opens, temp file + rename or, without `overwrite`, an atomic no-clobber link) with the
 * roots swapped. Whole files only (no partitioning): a range written in place could not honour
 * `overwrite: false`. Task payload `rel`s are relative to `cacheDir`; verification checks every
 * file landed in `dataDir` with its planned size.
 */
export const persistJobType: JobType<PersistSpec> = {
  name: 'persist',
  specSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: PATH_SCHEMA,
      overwrite: { type: 'boolean', default: false },
      batchSize: BATCH_SIZE_SCHEMA,
    },
  },
  checkSpec: checkPersistSpec,

  async plan(spec, ctx) {
    checkPersistSpec(spec, ctx.roots); // again: the trees may have changed since submission
    const cacheDir = path.resolve(ctx.roots.cacheDir);
    const start = resolveInside(cacheDir, spec.path);
    const files = await listFiles(cacheDir, start, cacheDir, ctx.signal);
    return planFileBatches(files, { batchSize: spec.batchSize ?? ctx.defaults?.batchSize ?? DEFAULT_BATCH_SIZE, partitionSizeBytes: Number.POSITIVE_INFINITY });
  },

  async run(spec, payload, ctx) {
    const target = { srcRoot: ctx.roots.cacheDir, srcBase: '', dstRoot: ctx.roots.dataDir, dstBase: '', overwrite: spec.overwrite ?? false };
    return await runFileBatch(parseFileBatchPayload(payload), target, ctx);
  },

  async verify(_spec, ctx) {
    const check = await checkLanded(ctx.tasks, ctx.results, { srcBase: '', dstRoot: ctx.roots.dataDir, dstBase: '' }, ctx.signal);
    if (check.mismatches.length > 0) return { ok: false, code: 'VERIFY_MISMATCH' satisfies JobFailureCode, message: mismatchMessage(check) };
    return { ok: true, summary: { files: check.files, bytes: check.bytes } };
  },
};
