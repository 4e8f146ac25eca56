import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';

/** Longest path a spec may carry. */
export const MAX_PATH_LENGTH = 4096;

/**
 * JSON Schema for a user path inside a root: bounded and free of control characters. Escapes
 * (`..`, absolute paths elsewhere, symlinks) are caught later by `resolveInside`.
 */
export const PATH_SCHEMA = Object.freeze({
  type: 'string',
  maxLength: MAX_PATH_LENGTH,
  pattern: '^[^\\u0000-\\u001F\\u007F]*$',
});

function outside(userPath: string, why: string): AppError {
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
 * because we cannot tell where a write through it would land.
 */
export function canonicalPath(abs: string): string {
  let existing = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(existing), ...tail.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw outside(abs, 'goes through a symlink loop');
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    if (lstatExists(existing)) throw outside(abs, 'goes through a dangling symlink');
    const parent = path.dirname(existing);
    if (parent === existing) return abs; // nothing exists at all; keep it lexical
    tail.push(path.basename(existing));
    existing = parent;
  }
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves a user-given path against `root` and proves it stays inside. A relative path is
 * taken relative to `root`; an absolute path is accepted only if it already lies inside `root`.
 * `''` means `root` itself (callers that must not touch the root check for that themselves).
 * Rejects NUL and other control characters, backslashes (ambiguous separators), `..` that leave
 * the root, and symlinks anywhere on the way whose target is outside the root. Percent
 * sequences such as `%2e%2e%2f` are ordinary name characters.
 *
 * Checks run against the file system now; a symlink swapped in later is caught again by the
 * workers, which resolve each file right before touching it.
 * @returns the absolute, lexically normalised path (under `path.resolve(root)`).
 */
export function resolveInside(root: string, userPath: string): string {
  if (typeof userPath !== 'string') throw new AppError('PATH_OUTSIDE_ROOT', 'path must be a string');
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(userPath)) throw outside(userPath, 'contains control characters');
  if (userPath.includes('\\')) throw outside(userPath, 'contains a backslash');
  if (userPath.length > MAX_PATH_LENGTH) throw outside(userPath.slice(0, 64), 'is too long');
  const rootAbs = path.resolve(root);
  const abs = path.isAbsolute(userPath) ? path.resolve(userPath) : path.resolve(rootAbs, userPath);
  if (!isInside(rootAbs, abs)) throw outside(userPath, 'leaves its root');
  const realRoot = canonicalPath(rootAbs);
  if (!isInside(realRoot, canonicalPath(abs))) throw outside(userPath, 'leaves its root through a symlink');
  return abs;
}

/**
 * The path of `abs` relative to `root`, with `/` separators (`''` for the root itself).
 * Throws PATH_OUTSIDE_ROOT when `abs` is not inside `root` (a lexical check).
 */
export function relativeInside(root: string, abs: string): string {
  const rootAbs = path.resolve(root);
  const target = path.resolve(rootAbs, abs);
  if (!isInside(rootAbs, target)) throw outside(abs, 'is not inside its root');
  return path.relative(rootAbs, target).split(path.sep).join('/');
}
