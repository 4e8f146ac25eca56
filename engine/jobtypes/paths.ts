import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';

/** Longest path a spec may carry. */
export const MAX_PATH_LENGTH = 4096;

/**
 * How many times `canonicalPath` starts over when an ancestor appeared while it was looking
 * (another task creating the same directory). One retry almost always settles it.
 */
const RACE_RETRIES = 16;

/**
 * JSON Schema for a user path inside a root: bounded and free of control characters. Escapes
 * (`..`, absolute paths elsewhere, symlinks) are caught later by `resolveInside`.
 */
export const PATH_SCHEMA = Object.freeze({
  type: 'string',
  maxLength: MAX_PATH_LENGTH,
  pattern: '^[^\\u0000-\\u001F\\u007F]*$',
});

/**
 * The PATH_OUTSIDE_ROOT error for `userPath`. Messages name only the path the user gave, never
 * where a symlink leads (that may be a name outside the roots).
 */
export function outsideRoot(userPath: string, why: string): AppError {
  return new AppError('PATH_OUTSIDE_ROOT', `path ${JSON.stringify(userPath)} ${why}`);
}

/** True when `child` is `parent` itself or lies below it (both absolute and normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * The canonical form of `abs`: the realpath of its deepest existing ancestor joined with the
 * part that does not exist yet. Throws PATH_OUTSIDE_ROOT for a dangling or looping symlink,
 * because we cannot tell where a write through it would land. Correct while other tasks create
 * or delete directories on the way: an ancestor that appears mid-walk starts the walk over
 * instead of passing for a dangling symlink.
 */
export function canonicalPath(abs: string): string {
  for (let attempt = 1; ; attempt++) {
    const found = canonicalOnce(abs);
    if (found !== undefined) return found;
    if (attempt >= RACE_RETRIES) throw outsideRoot(abs, 'keeps changing while it is resolved');
  }
}

/** One walk of `canonicalPath`; undefined when the tree changed under it. */
function canonicalOnce(abs: string): string | undefined {
  let existing = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(existing), ...tail.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw outsideRoot(abs, 'goes through a symlink loop');
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    const st = statOrUndefined(lstatSync, existing);
    if (st?.isSymbolicLink() === true) {
      if (statOrUndefined(statSync, existing) === undefined) throw outsideRoot(abs, 'goes through a dangling symlink');
      return undefined; // its target appeared after realpath looked
    }
    if (st !== undefined) return undefined; // created after realpath looked
    const parent = path.dirname(existing);
    if (parent === existing) return abs; // nothing exists at all; keep it lexical
    tail.push(path.basename(existing));
    existing = parent;
  }
}

function statOrUndefined(stat: (p: string) => Stats, p: string): Stats | undefined {
  try {
    return stat(p);
  } catch {
    return undefined;
  }
}

/**
 * Checks a user-given path and resolves it against `root` by name only (no file system access):
 * a relative path is taken relative to `root`; an absolute path is accepted only if it lies inside
 * `root`. Rejects NUL and other control characters, backslashes (ambiguous separators) and `..`
 * that leave the root. Percent sequences such as `%2e%2e%2f` are ordinary name characters.
 * @returns the absolute, lexically normalised path (under `path.resolve(root)`).
 */
export function lexicalInside(root: string, userPath: string): string {
  if (typeof userPath !== 'string') throw new AppError('PATH_OUTSIDE_ROOT', 'path must be a string');
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(userPath)) throw outsideRoot(userPath, 'contains control characters');
  if (userPath.includes('\\')) throw outsideRoot(userPath, 'contains a backslash');
  if (userPath.length > MAX_PATH_LENGTH) throw outsideRoot(userPath.slice(0, 64), 'is too long');
  const rootAbs = path.resolve(root);
  const abs = path.isAbsolute(userPath) ? path.resolve(userPath) : path.resolve(rootAbs, userPath);
  if (!isInside(rootAbs, abs)) throw outsideRoot(userPath, 'leaves its root');
  return abs;
}

/**
 * Like `lexicalInside`, and also proves that symlinks on the way, as they are now, keep the path
 * inside the root (a dangling one is refused). `''` means `root` itself (callers that must not
 * touch the root check for that themselves).
 *
 * This is the check at submission and planning. It cannot guard a later file operation (the tree
 * may change in between): workers open files through `rootedDir.ts`, which checks what was opened.
 * @returns the absolute, lexically normalised path (under `path.resolve(root)`).
 */
export function resolveInside(root: string, userPath: string): string {
  const abs = lexicalInside(root, userPath);
  const realRoot = canonicalPath(path.resolve(root));
  if (!isInside(realRoot, canonicalPath(abs))) throw outsideRoot(userPath, 'leaves its root through a symlink');
  return abs;
}

/**
 * The path of `abs` relative to `root`, with `/` separators (`''` for the root itself).
 * Throws PATH_OUTSIDE_ROOT when `abs` is not inside `root` (a lexical check).
 */
export function relativeInside(root: string, abs: string): string {
  const rootAbs = path.resolve(root);
  const target = path.resolve(rootAbs, abs);
  if (!isInside(rootAbs, target)) throw outsideRoot(abs, 'is not inside its root');
  return path.relative(rootAbs, target).split(path.sep).join('/');
}

/**
 * A user path as a `/`-separated path below `root` (`''` for the root), checked by name only
 * (see `lexicalInside`): the form `rootedDir.ts` opens beneath a root handle.
 */
export function rootRelative(root: string, userPath: string): string {
  return relativeInside(root, lexicalInside(root, userPath));
}
