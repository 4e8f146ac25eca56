/**
 * What the identity's parts share: the control store, the settings, and the resolved defaults of
 * {@link IdentityOptions}. Built once per identity by {@link createIdentityContext}.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_SCRYPT_PARAMS, verifyPassword, type ScryptParams } from './passwords.ts';
import type { IdentityOptions } from './types.ts';

export interface IdentityContext extends Pick<IdentityOptions, 'store' | 'config' | 'clock' | 'logger' | 'hasUnfinishedJobs'> {
  random: (n: number) => Buffer;
  /** scrypt cost of new hashes. */
  params: ScryptParams;
  /** Checks a password against a stored hash. */
  verify: (password: string, stored: string) => Promise<boolean>;
  /** ISO-8601 time of `ms`. */
  iso(ms: number): string;
}

export function createIdentityContext(opts: IdentityOptions): IdentityContext {
  return {
    store: opts.store,
    config: opts.config,
    clock: opts.clock,
    logger: opts.logger,
    hasUnfinishedJobs: opts.hasUnfinishedJobs,
    random: opts.random ?? randomBytes,
    params: opts.scryptParams ?? DEFAULT_SCRYPT_PARAMS,
    verify: opts.verifyPassword ?? verifyPassword,
    iso: (ms) => new Date(ms).toISOString(),
  };
}
