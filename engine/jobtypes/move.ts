import path from 'node:path';
import { COPY_SPEC_SCHEMA, checkCopied, checkCopySpec, copyJobType, type CopySpec } from './copy.ts';
import { mismatchMessage } from './fileVerify.ts';
import type { JobType } from './jobType.ts';
import { rootRelative } from './paths.ts';
import { removeEmptyDirs, removeFile } from './removeTree.ts';
import { openRoot } from './rootedDir.ts';
import type { JobFailureCode } from '../../actors/failureCodes.ts';

/**
 * `move` (Alluxio `job move`): a `copy` whose verification, once every copied file has landed
 * with its planned size, deletes those source files and then the source directories left empty.
 * Until then nothing is deleted: a failed verification keeps every source file, and a file the
 * tasks reported as failed (e.g. destination exists with `overwrite: false`) is always kept.
 * Deleting is idempotent, so a verification re-run after a coordinator crash is safe. Deletes go
 * by name through checked directory handles (removeTree.ts): never outside `dataDir`, and a
 * symlink is removed itself, never its target.
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
      return { ok: false, code: 'VERIFY_MISMATCH' satisfies JobFailureCode, message: `${mismatchMessage(check)}; no source file was deleted` };
    }
    const dataDir = ctx.roots.dataDir;
    const root = await openRoot(dataDir);
    try {
      for (const file of check.landed) {
        ctx.signal.throwIfAborted();
        await removeFile(root, rootRelative(dataDir, path.posix.join(spec.src, file.rel)));
      }
      await removeEmptyDirs(root, rootRelative(dataDir, spec.src));
    } finally {
      await root.close();
    }
    return { ok: true, summary: { files: check.files, bytes: check.bytes, sourcesDeleted: check.landed.length } };
  },
};
