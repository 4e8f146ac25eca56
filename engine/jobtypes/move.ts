import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { COPY_SPEC_SCHEMA, checkCopied, checkCopySpec, copyJobType, type CopySpec } from './copy.ts';
import { mismatchMessage } from './fileVerify.ts';
import type { JobType } from './jobType.ts';
import { resolveInside } from './paths.ts';

/**
 * `move` (Alluxio `job move`): a `copy` whose verification, once every copied file has landed
 * with its planned size, deletes those source files and then the source directories left empty.
 * Until then nothing is deleted: a failed verification keeps every source file, and a file the
 * tasks reported as failed (e.g. destination exists with `overwrite: false`) is always kept.
 * Deleting is idempotent, so a verification re-run after a coordinator crash is safe.
 */
export const moveJobType: JobType<CopySpec> = {
  name: 'move',
  specSchema: COPY_SPEC_SCHEMA,
  checkSpec: checkCopySpec,
  plan: copyJobType.plan,
  run: copyJobType.run,

  async verify(spec, ctx) {
    const check = await checkCopied(spec, ctx);
    if (check.mismatches.length > 0) {
      return { ok: false, code: 'VERIFY_MISMATCH', message: `${mismatchMessage(check)}; no source file was deleted` };
    }
    const dataDir = ctx.roots.dataDir;
    for (const file of check.landed) {
      ctx.signal.throwIfAborted();
      // rm on a symlink removes the link, never its target.
      await rm(resolveInside(dataDir, path.posix.join(spec.src, file.rel)), { force: true });
    }
    await removeEmptyDirs(resolveInside(dataDir, spec.src));
    return { ok: true, summary: { files: check.files, bytes: check.bytes, sourcesDeleted: check.landed.length } };
  },
};

/** Removes `dir` and every directory below it that is (or becomes) empty; never follows symlinks. */
async function removeEmptyDirs(dir: string): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (st === undefined || !st.isDirectory()) return;
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    if (ent.isDirectory()) await removeEmptyDirs(path.join(dir, ent.name));
  }
  await rmdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST' && e.code !== 'ENOENT') throw e;
  });
}
