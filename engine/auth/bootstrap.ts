/**
 * The first admin: created when no user exists, with the configured password or a generated one
 * (returned once). Race-safe across processes: the record is created only if absent.
 */
import { isAppError } from '../errors.ts';
import type { IdentityContext } from './context.ts';
import type { Identity } from './types.ts';
import { userKey, type UserRecords } from './userRecords.ts';

/** The name of the first admin, and of the caller behind `config.adminToken`. */
export const ADMIN_USER = 'admin';
/** Length of a generated first-admin password. */
export const GENERATED_PASSWORD_LENGTH = 24;
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

function generatePassword(random: (n: number) => Buffer): string {
  // rejection sampling: uniform over the alphabet
  const limit = 256 - (256 % PASSWORD_ALPHABET.length);
  let out = '';
  while (out.length < GENERATED_PASSWORD_LENGTH) {
    for (const b of random(GENERATED_PASSWORD_LENGTH * 2)) {
      if (b < limit && out.length < GENERATED_PASSWORD_LENGTH) out += PASSWORD_ALPHABET[b % PASSWORD_ALPHABET.length];
    }
  }
  return out;
}

export function createBootstrap(cx: IdentityContext, users: UserRecords): Identity['bootstrap'] {
  const { store, config, logger, random } = cx;
  return async function bootstrap() {
    await store.ready;
    if (store.list('user.').length > 0) return { adminCreated: false };
    const generated = config.adminPassword === null ? generatePassword(random) : undefined;
    const password = config.adminPassword ?? generated!;
    try {
      await store.create(userKey(ADMIN_USER), await users.newUserRecord({ name: ADMIN_USER, password, role: 'admin' }));
    } catch (err) {
      if (isAppError(err, 'CONFLICT')) return { adminCreated: false }; // another process did it first
      throw err;
    }
    logger.info({ user: ADMIN_USER, passwordFrom: generated === undefined ? 'config' : 'generated' }, 'first admin user created');
    return generated === undefined ? { adminCreated: true } : { adminCreated: true, generatedPassword: generated };
  };
}
