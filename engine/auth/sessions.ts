/**
 * Logging in and out: a login checks the password and issues a bearer token (stored only as its
 * SHA-256 id, with the user's generation); a request is authenticated from the local mirror,
 * synchronously; expired and revoked token records are swept. Tokens issued without a password,
 * listed and revoked by id: tokenAdmin.ts.
 */
import { controlKey } from '../controlstore/controlStore.ts';
import { AppError } from '../errors.ts';
import { DEFAULT_VIRTUAL_CLUSTER } from '../quota/shares.ts';
import type { Caller, UserRole } from '../serviceTypes.ts';
import { ADMIN_USER } from './bootstrap.ts';
import type { IdentityContext } from './context.ts';
import { hashPassword, PASSWORD_MAX_LENGTH } from './passwords.ts';
import { isLive, storeNewToken, tokenTtl } from './tokenAdmin.ts';
import { bearerToken, looksLikeToken, secretEquals, tokenId, type TokenRecord } from './tokens.ts';
import type { Identity, LoginCheck, UserRecord } from './types.ts';
import type { UserRecords } from './userRecords.ts';

export type Sessions = Pick<Identity, 'login' | 'authenticate' | 'logout' | 'checkPassword' | 'checkLogin' | 'sweepExpiredTokens'>;

/** Deletes the token records `shouldDrop` picks (a user's, expired, revoked); returns how many. Best effort per record. */
export async function dropTokens(cx: IdentityContext, shouldDrop: (t: TokenRecord, key: string) => boolean): Promise<number> {
  let n = 0;
  for (const { key, value } of cx.store.list<TokenRecord>('token.')) {
    if (!shouldDrop(value, key)) continue;
    try {
      await cx.store.delete(key);
      n++;
    } catch (err) {
      cx.logger.warn({ err, user: value.user }, 'could not delete a token record');
    }
  }
  return n;
}

function callerOf(user: string, role: UserRole, grants: readonly string[], tokenKind: NonNullable<Caller['tokenKind']>): Caller {
  return { user, role, virtualClusters: [...new Set([...grants, DEFAULT_VIRTUAL_CLUSTER])], tokenKind };
}

const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'Unknown user or wrong password.');

export function createSessions(cx: IdentityContext, users: UserRecords): Sessions {
  const { store, config, clock, params, verify } = cx;
  const { record } = users;
  // Verified against when the user is unknown, so that case costs what a wrong password costs.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hashPassword('not-a-password-of-anyone', params));
  // computed now, so that the first unknown-user login does not cost two hashes
  dummy().catch(() => (dummyHash = undefined));

  /**
   * One password check, the same work for every outcome: an unknown user, or a password longer than
   * any we accept, is verified against the dummy hash.
   */
  async function check(name: string, password: string): Promise<{ outcome: LoginCheck; user?: { value: UserRecord } }> {
    const user = record(name);
    if (user === undefined || password.length > PASSWORD_MAX_LENGTH) {
      await verify(password, await dummy());
      return { outcome: user === undefined ? 'noUser' : 'badPassword' };
    }
    return (await verify(password, user.value.passwordHash)) ? { outcome: 'ok', user } : { outcome: 'badPassword' };
  }

  return {
    async login(name, password, ttlMs) {
      const ttl = tokenTtl(ttlMs, config.tokenTtlMs, config.tokenMaxTtlMs);
      const { user } = await check(name, password);
      if (user === undefined) throw invalidCredentials();
      return storeNewToken(cx, user.value, ttl, false);
    },

    authenticate(header) {
      const token = bearerToken(header);
      if (config.adminToken !== null && secretEquals(token, config.adminToken)) {
        return callerOf(ADMIN_USER, 'admin', record(ADMIN_USER)?.value.virtualClusters ?? [], 'session');
      }
      const rejected = () => new AppError('UNAUTHENTICATED', 'The token is unknown, expired or revoked; log in again.');
      if (!looksLikeToken(token)) throw rejected();
      const rec = store.get<TokenRecord>(`token.${tokenId(token)}`)?.value;
      if (rec === undefined) throw rejected();
      const user = record(rec.user)?.value;
      if (user === undefined || !isLive(rec, user, clock.now())) throw rejected();
      return callerOf(user.name, user.role, user.virtualClusters, rec.application === true ? 'application' : 'session');
    },

    async logout(token) {
      if (!looksLikeToken(token)) return;
      await store.delete(controlKey('token', tokenId(token)));
    },

    async checkPassword(name, password) {
      return (await check(name, password)).outcome === 'ok';
    },

    async checkLogin(name, password) {
      return (await check(name, password)).outcome;
    },

    async sweepExpiredTokens() {
      const now = clock.now();
      return dropTokens(cx, (t) => !isLive(t, record(t.user)?.value, now));
    },
  };
}
