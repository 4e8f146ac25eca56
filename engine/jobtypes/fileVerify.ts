/** Coordinator side of the file job types: check that what the plan promised has landed. */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { TaskPlan, TaskResult } from '../../actors/events.ts';
import { isAppError } from '../errors.ts';
import { plannedFiles, type PlannedFile } from './fileBatches.ts';
import { itemName } from './fileCopy.ts';
import { rootRelative } from './paths.ts';
import { createDirCache, openRootIfExists, splitRel, type DirCache } from './rootedDir.ts';

/** How many mismatches a VERIFY_MISMATCH message lists. */
const MISMATCHES_SHOWN = 5;

/** Outcome of `checkLanded`. */
export interface LandedCheck {
  /** Files that landed with their planned size, and their bytes. */
  files: number;
  bytes: number;
  /** Those files themselves, sorted. */
  landed: PlannedFile[];
  /** Files reported as failed items by the tasks (already counted in progress; not checked). */
  failed: number;
  /** `rel: what is wrong` for every planned file that should have landed and did not. */
  mismatches: string[];
}

/**
 * Stats every planned file under `dstRoot/dstBase` and compares its size with the plan. The
 * directories on the way are opened and checked to lie inside `dstRoot` (rootedDir.ts), so a
 * swapped symlink cannot make it report on a file outside.
 * A whole file that a task reported as a failed item is skipped (the job's failure ratio already
 * counts it). A partitioned file with any failed part is a mismatch even if its size is right,
 * because its target was pre-sized and the missing range would read as zeros.
 * `srcBase` maps planned entries to the item names the tasks used in `failures`.
 */
export async function checkLanded(
  tasks: readonly TaskPlan[],
  results: readonly TaskResult[],
  where: { srcBase: string; dstRoot: string; dstBase: string },
  signal: AbortSignal,
): Promise<LandedCheck> {
  const failedItems = new Set(results.flatMap((r) => r.failures.map((f) => f.item)));
  const check: LandedCheck = { files: 0, bytes: 0, landed: [], failed: 0, mismatches: [] };
  const root = await openRootIfExists(where.dstRoot);
  const dirs = root && createDirCache(root);
  try {
    for (const file of plannedFiles(tasks)) {
      signal.throwIfAborted();
      const failed = failedItems.has(itemName(where.srcBase, file.rel));
      if (failed && !file.partitioned) {
        check.failed += 1;
        continue;
      }
      const dst = path.posix.join(where.dstBase, file.rel);
      const problem = failed ? 'a part failed to load' : await sizeProblem(dirs, where.dstRoot, dst, file.size);
      if (problem === undefined) {
        check.files += 1;
        check.bytes += file.size;
        check.landed.push(file);
      } else check.mismatches.push(`${file.rel || '.'}: ${problem}`);
    }
  } finally {
    await dirs?.close();
    await root?.close();
  }
  return check;
}

/** What is wrong with the landed file at `userPath` (lstat through checked directories), if anything. */
async function sizeProblem(dirs: DirCache | undefined, rootPath: string, userPath: string, size: number): Promise<string | undefined> {
  if (dirs === undefined) return 'missing'; // no destination root at all
  try {
    const { dir, name } = splitRel(rootRelative(rootPath, userPath));
    if (name === '') return 'not a regular file'; // the root itself
    const st = await lstat((await dirs.get(dir)).at(name));
    if (!st.isFile()) return 'not a regular file';
    return st.size === size ? undefined : `expected ${size} bytes, found ${st.size}`;
  } catch (e) {
    if (isAppError(e)) return e.message; // PATH_OUTSIDE_ROOT: names only the user's path
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : `cannot stat: ${code ?? 'unknown error'}`;
  }
}

/** The VERIFY_MISMATCH message for a failed check: a count and the first few problems. */
export function mismatchMessage(check: LandedCheck): string {
  const total = check.files + check.mismatches.length;
  const shown = check.mismatches.slice(0, MISMATCHES_SHOWN).join('; ');
  const more = check.mismatches.length > MISMATCHES_SHOWN ? `; and ${check.mismatches.length - MISMATCHES_SHOWN} more` : '';
  return `${check.mismatches.length} of ${total} files did not land as planned: ${shown}${more}`;
}
