/** The environment of a sandboxed process: built from nothing, never from the worker's own. */
import path from 'node:path';
import { AppError } from '../errors.ts';

/** The only PATH a sandboxed process gets, and where a bare command name is looked up. */
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * PATH, HOME (the work dir), TMPDIR (`<workDir>/tmp`), LANG, then the caller's `extra` on top.
 * Nothing of `process.env` is copied, so the service's secrets (JETJOBS_*, NATS_*, tokens,
 * passwords) cannot reach the process however they are named.
 * @throws AppError INVALID_SPEC when an extra name is not a plain variable name or a value holds a NUL byte.
 */
export function buildSandboxEnv(workDir: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: SANDBOX_PATH,
    HOME: workDir,
    TMPDIR: path.join(workDir, 'tmp'),
    LANG: 'C.UTF-8',
  };
  for (const [name, value] of Object.entries(extra)) {
    if (!ENV_NAME.test(name)) throw new AppError('INVALID_SPEC', `sandbox: ${JSON.stringify(name)} is not a valid environment variable name`);
    if (typeof value !== 'string' || value.includes('\0')) throw new AppError('INVALID_SPEC', `sandbox: the value of ${name} must be a string without NUL bytes`);
    env[name] = value;
  }
  return env;
}
