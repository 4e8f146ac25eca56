import path from 'node:path';
import { AppError, isAppError } from '../errors.ts';
import { TaskRunError, type FileRoots, type JobType } from './jobType.ts';
import { listFiles } from './listFiles.ts';
import { PATH_SCHEMA, canonicalPath, resolveInside, rootRelative } from './paths.ts';
import { removeTree } from './removeTree.ts';
import { lstatEntry, openRootIfExists } from './rootedDir.ts';
import { formatTaskId } from './taskId.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';

/** Spec of a `free` job: evict `cacheDir/path` (a file or a directory, recursively). */
export type FreeSpec = {
  /** Relative to `cacheDir`; must not resolve to `cacheDir` itself. */
  path: string;
};

/** Payload of the single free task: what to remove and what it held at planning time. */
interface FreePayload {
  path: string;
  files: number;
  bytes: number;
}

/** Resolves the eviction target and refuses the cache root itself (`''`, `.`, `a/..`, …). */
function freeTarget(spec: FreeSpec, roots: FileRoots): string {
  const target = resolveInside(roots.cacheDir, spec.path);
  if (canonicalPath(target) === canonicalPath(path.resolve(roots.cacheDir))) {
    throw new AppError('INVALID_SPEC', 'spec.path must name something inside the cache, not the cache itself');
  }
  return target;
}

function count(payload: unknown, key: keyof FreePayload): number {
  const v = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

/** Whether `userPath` exists below the cache (as an entry: a symlink counts, its target is not looked at). */
async function cached(cacheDir: string, userPath: string): Promise<boolean> {
  const root = await openRootIfExists(cacheDir);
  if (root === undefined) return false;
  try {
    await lstatEntry(root, rootRelative(cacheDir, userPath));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw e;
  } finally {
    await root.close();
  }
}

/** Removes `userPath` below the cache by name in checked directories (removeTree.ts). */
async function evict(cacheDir: string, userPath: string): Promise<void> {
  const root = await openRootIfExists(cacheDir);
  if (root === undefined) return; // no cache, nothing cached
  try {
    await removeTree(root, rootRelative(cacheDir, userPath));
  } finally {
    await root.close();
  }
}

/**
 * `free` (Alluxio `job free`): one task removes `cacheDir/path` recursively (like `rm -rf`,
 * without following symlinks, and by name inside checked directories: never outside the cache). A path that is not cached is freed trivially. Planning counts
 * the files and bytes so progress reports what was evicted.
 */
export const freeJobType: JobType<FreeSpec> = {
  name: 'free',
  specSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: { path: { ...PATH_SCHEMA, minLength: 1 } },
  },

  checkSpec(spec, roots) {
    freeTarget(spec, roots);
  },

  async plan(spec, ctx) {
    const target = freeTarget(spec, ctx.roots);
    const cacheDir = path.resolve(ctx.roots.cacheDir);
    const files = (await cached(cacheDir, spec.path)) ? await listFiles(cacheDir, target, cacheDir, ctx.signal) : [];
    const bytes = files.reduce((n, f) => n + f.size, 0);
    const payload: FreePayload = { path: spec.path, files: files.length, bytes };
    return [{ taskId: formatTaskId(0), payload, items: files.length, bytes }];
  },

  async run(spec, payload, ctx) {
    if (ctx.signal.aborted) throw new TaskRunError('ABORTED', 'task aborted', false);
    // The spec is the authority on what to delete; the payload only carries counts.
    try {
      freeTarget(spec, ctx.roots);
      await evict(ctx.roots.cacheDir, spec.path);
    } catch (e) {
      if (isAppError(e)) throw new TaskRunError(e.code, e.message, e.retryable);
      throw new TaskRunError('IO_ERROR', `free failed: ${(e as NodeJS.ErrnoException).code ?? 'unknown error'}`, true);
    }
    ctx.heartbeat();
    return { itemsDone: count(payload, 'files'), itemsFailed: 0, bytesDone: count(payload, 'bytes'), failures: [] };
  },

  async verify(spec, ctx) {
    if (await cached(ctx.roots.cacheDir, spec.path)) return { ok: false, code: 'VERIFY_MISMATCH' satisfies JobFailureCode, message: `${spec.path} is still in the cache` };
    const files = ctx.tasks.reduce((n, t) => n + t.items, 0);
    const bytes = ctx.tasks.reduce((n, t) => n + t.bytes, 0);
    return { ok: true, summary: { files, bytes } };
  },
};
