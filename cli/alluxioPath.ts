/**
 * Alluxio paths (absolute, `/` = the files root) and the native API's (relative to the root).
 * The same mapping as the Alluxio facade's (docs/compat/alluxio.md), redone here because the CLI
 * shares no code with the server.
 */

import { CliError, EXIT } from './exitCodes.ts';

/** `/a/b` or `alluxio://host:port/a/b` → `a/b`; `/` → `.`. A relative path is refused. */
export function toNativePath(alluxio: string): string {
  const withoutScheme = alluxio.replace(/^alluxio:\/\/[^/]*/, '');
  if (!withoutScheme.startsWith('/')) throw new CliError(EXIT.INVALID_INPUT, `a path must be an absolute Alluxio path (/…), got '${alluxio}'`);
  return normalizeNative(withoutScheme);
}

/**
 * One spelling per native path, for comparing a spec's path with the one asked for: no leading
 * `/` or `./`, no empty or `.` segments, no trailing `/`; the root is `.`.
 */
export function normalizeNative(native: string): string {
  const segments = native.split('/').filter((s) => s !== '' && s !== '.');
  return segments.length === 0 ? '.' : segments.join('/');
}

/** `a/b` → `/a/b`; `.` → `/`. */
export function toAlluxioPath(native: string): string {
  const n = normalizeNative(native);
  return n === '.' ? '/' : `/${n}`;
}
