import path from 'node:path';
import { AppError } from '../errors.ts';
import { BATCH_SIZE_SCHEMA, DEFAULT_BATCH_SIZE, parseFileBatchPayload, planFileBatches } from './fileBatches.ts';
import { runFileBatch, type CopyTarget } from './fileCopy.ts';
import { checkLanded, mismatchMessage, type LandedCheck } from './fileVerify.ts';
import type { FileRoots, JobType, RunContext, VerifyContext } from './jobType.ts';
import { listFiles } from './listFiles.ts';
import { PATH_SCHEMA, canonicalPath, isInside, resolveInside } from './paths.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';

/** Spec of `copy` and `move`: both paths relative to `dataDir`. */
export type CopySpec = {
  /** File or directory to copy. */
  src: string;
  /** Where `src` lands: `dst/<rel>` for every file `src/<rel>`; for a file `src`, the file `dst`. */
  dst: string;
  /** Files per task. @defaultValue the planning coordinator's `defaultBatchSize` (DEFAULT_BATCH_SIZE, 200) */
  batchSize?: number;
  /** Replace files that already exist at the destination. @defaultValue true */
  overwrite?: boolean;
};

/** JSON Schema shared by `copy` and `move`. */
export const COPY_SPEC_SCHEMA: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: ['src', 'dst'],
  properties: {
    src: PATH_SCHEMA,
    dst: PATH_SCHEMA,
    batchSize: BATCH_SIZE_SCHEMA,
    overwrite: { type: 'boolean', default: true },
  },
};

/**
 * Both paths inside `dataDir`, and neither inside the other (compared after resolving symlinks),
 * so a copy never reads what it writes and a move never deletes its own output.
 * @throws AppError PATH_OUTSIDE_ROOT or INVALID_SPEC.
 */
export function checkCopySpec(spec: CopySpec, roots: FileRoots): void {
  const src = canonicalPath(resolveInside(roots.dataDir, spec.src));
  const dst = canonicalPath(resolveInside(roots.dataDir, spec.dst));
  if (isInside(src, dst) || isInside(dst, src)) {
    throw new AppError('INVALID_SPEC', 'spec.dst must not be spec.src, lie inside it, or contain it');
  }
}

function copyTarget(spec: CopySpec, roots: FileRoots): CopyTarget {
  return { srcRoot: roots.dataDir, srcBase: spec.src, dstRoot: roots.dataDir, dstBase: spec.dst, overwrite: spec.overwrite ?? true };
}

/** Size check of every copied file (shared with `move`, which deletes sources only after it). */
export function checkCopied(spec: CopySpec, ctx: VerifyContext): Promise<LandedCheck> {
  return checkLanded(ctx.tasks, ctx.results, { srcBase: spec.src, dstRoot: ctx.roots.dataDir, dstBase: spec.dst }, ctx.signal);
}

/**
 * `copy` (Alluxio `job copy`): files under `dataDir/src` to `dataDir/dst`, in batches of
 * `batchSize` whole files (no partitioning), each published by temp file + rename. Task payload
 * `rel`s are relative to `src`.
 */
export const copyJobType: JobType<CopySpec> = {
  name: 'copy',
  specSchema: COPY_SPEC_SCHEMA,
  checkSpec: checkCopySpec,

  async plan(spec, ctx) {
    checkCopySpec(spec, ctx.roots); // again: the tree may have changed since submission
    const dataDir = path.resolve(ctx.roots.dataDir);
    const src = resolveInside(dataDir, spec.src);
    const files = await listFiles(dataDir, src, src, ctx.signal);
    return planFileBatches(files, { batchSize: spec.batchSize ?? ctx.defaults?.batchSize ?? DEFAULT_BATCH_SIZE, partitionSizeBytes: Number.POSITIVE_INFINITY });
  },

  async run(spec, payload, ctx: RunContext) {
    return await runFileBatch(parseFileBatchPayload(payload), copyTarget(spec, ctx.roots), ctx);
  },

  async verify(spec, ctx) {
    const check = await checkCopied(spec, ctx);
    if (check.mismatches.length > 0) return { ok: false, code: 'VERIFY_MISMATCH' satisfies JobFailureCode, message: mismatchMessage(check) };
    return { ok: true, summary: { files: check.files, bytes: check.bytes } };
  },
};
