/**
 * Alluxio paths (absolute, `/` = the files root) and the native API's (relative to the root).
 * The same mapping as the Alluxio facade's (docs/compat/alluxio.md), redone here because the CLI
 * shares no code with the server.
 */

import { posix } from 'node:path';
import { CliError, EXIT } from './exitCodes.ts';

/** `/a/b` or `alluxio://host:port/a/b` → `a/b`; `/` → `.`. A relative path is refused. */
export function toNativePath(alluxio: string): string {
  const withoutScheme = alluxio.replace(/^alluxio:\/\/[^/]*/, '');
  if (!withoutScheme.startsWith('/')) throw new CliError(EXIT.INVALID_INPUT, `a path must be an absolute Alluxio path (/…), got '${alluxio}'`);
  return normalizeNative(withoutScheme);
}

/**
 * One spelling per native path, for comparing a spec's path with the one asked for: no leading
 * `/` or `./`, no empty or `.` segments, `a/../b` resolved to `b`, no trailing `/`; the root is `.`.
 * The same rule as the facade's (api/compat/alluxio/jobIdentity.ts), so both name a job alike; a
 * path that leaves the root keeps its leading `..`, for the service to refuse.
 */
export function normalizeNative(native: string): string {
  const normal = posix.normalize(native.replace(/^\/+/, '')).replace(/\/+$/, '');
  return normal === '' || normal === '.' ? '.' : normal.replace(/^\.\//, '');
}

/** `a/b` → `/a/b`; `.` → `/`. */
export function toAlluxioPath(native: string): string {
  const n = normalizeNative(native);
  return n === '.' ? '/' : `/${n}`;
}
