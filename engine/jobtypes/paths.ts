import { closeSync, lstatSync, openSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
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
 *
 * Synchronous (checkSpec and plan run it on the event loop), so it must cost about one lookup of
 * the path, whatever its depth: the deepest existing ancestor comes from a binary search of lstat
 * calls, its realpath from one kernel lookup. A walk up one component at a time with a realpath
 * each is cubic in the depth: 2,000 components of which the first 500 existed took ~35 s, in which
 * the process answered nothing.
 */
export function canonicalPath(abs: string): string {
  for (let attempt = 1; ; attempt++) {
    const found = canonicalOnce(abs);
    if (found !== undefined) return found;
    if (attempt >= RACE_RETRIES) throw outsideRoot(abs, 'keeps changing while it is resolved');
  }
}

/**
 * One try of `canonicalPath`; undefined when the tree changed under it in a way it cannot follow
 * (something appeared where it had seen nothing and could not resolve it). It follows the two
 * common changes without starting over, since under a busy tree a try that starts over on any
 * change may never finish: an ancestor created while it looks moves the search deeper, and one
 * deleted moves it up to the parent (as the walk up one component at a time did).
 */
function canonicalOnce(abs: string): string | undefined {
  const parts = abs.split(path.sep).filter((p) => p !== '');
  const prefix = (n: number) => path.sep + parts.slice(0, n).join(path.sep);
  // the deepest n whose prefix exists (lstat: a symlink in the last place counts as there, as it is)
  let deepest = 0;
  if (statOrUndefined(lstatSync, abs) !== undefined) deepest = parts.length;
  else {
    for (;;) {
      for (let hi = parts.length - 1; deepest < hi; ) {
        const mid = Math.ceil((deepest + hi) / 2);
        if (statOrUndefined(lstatSync, prefix(mid)) !== undefined) deepest = mid;
        else hi = mid - 1;
      }
      // why the next component is not there: missing is fine, anything else (a symlink loop, a
      // name too long, no permission) is the answer; there after all means it was created
      // meanwhile: search on below it (each round goes deeper, so this ends)
      try {
        lstatSync(prefix(deepest + 1));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ELOOP') throw outsideRoot(abs, 'goes through a symlink loop');
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
        break;
      }
      deepest++;
      if (deepest === parts.length) break;
    }
  }
  // the real path of the deepest existing prefix; one deleted meanwhile hands over to its parent,
  // whose child is then known to be missing (each step goes up, so this ends)
  for (;;) {
    const existing = prefix(deepest);
    let real: string | undefined;
    try {
      real = realpathOf(existing);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw outsideRoot(abs, 'goes through a symlink loop');
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    if (real !== undefined) return path.join(real, ...parts.slice(deepest));
    const st = statOrUndefined(lstatSync, existing);
    if (st?.isSymbolicLink() === true && statOrUndefined(statSync, existing) === undefined) throw outsideRoot(abs, 'goes through a dangling symlink');
    if (st !== undefined) return undefined; // there again, or a link whose target appeared, since the lookup failed
    if (deepest === 0) return abs; // nothing exists at all; keep it lexical
    deepest--;
  }
}

/**
 * Linux `O_PATH` (the same value on every architecture Node supports): a descriptor that names a
 * file without opening it for I/O, so looking at something that turns out to be outside a root has
 * no side effect (no FIFO or device is opened, nothing is read).
 */
export const O_PATH = 0o10000000;

/**
 * `realpath(p)` in one kernel lookup: `p` opened as an `O_PATH` descriptor (following symlinks) and
 * its path read back from `/proc/self/fd`. Node's `realpathSync` lstats every prefix of `p` (and
 * glibc's readlinks every one): quadratic in the depth. Elsewhere than Linux, or without `/proc`,
 * Node's. Throws what the lookup throws; undefined when `p` was deleted while it was open.
 */
function realpathOf(p: string): string | undefined {
  if (process.platform !== 'linux') return realpathSync(p);
  const fd = openSync(p, O_PATH);
  let text: string;
  try {
    text = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return realpathSync(p); // no /proc
  } finally {
    closeSync(fd);
  }
  // the kernel's mark of a file deleted while we held it (unless that is its real name)
  if (text.endsWith(' (deleted)') && statOrUndefined(lstatSync, text) === undefined) return undefined;
  return text;
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
