/**
 * Tokens beyond login: issued to a user who is already authenticated (no password; also
 * application tokens), listed by id, and revoked by their owner or an admin. Also what login and
 * authenticate share with them: storing a new token and telling a live record from a dead one.
 */
import { controlKey } from '../controlstore/controlStore.ts';
import { AppError } from '../errors.ts';
import type { IdentityContext } from './context.ts';
import { looksLikeToken, newToken, TOKEN_ID_RE, tokenId, type TokenRecord } from './tokens.ts';
import type { Identity, LoginResult, TokenInfo, UserRecord } from './types.ts';
import { toView, type UserRecords } from './userRecords.ts';

export type TokenAdmin = Pick<Identity, 'issueToken' | 'listTokens' | 'revokeToken'>;

const TOKEN_PREFIX_KEY = 'token.';

/** True while the record authenticates: unexpired, and its user exists with the same generation. */
export function isLive(rec: TokenRecord, user: UserRecord | undefined, nowMs: number): boolean {
  return Date.parse(rec.expiresAt) > nowMs && user !== undefined && user.generation === rec.generation;
}

/** A token's lifetime: `requested` or `defaultMs`, at most `maxMs`, at least 1 ms. */
export function tokenTtl(requested: number | undefined, defaultMs: number, maxMs: number): number {
  if (requested !== undefined && (typeof requested !== 'number' || Number.isNaN(requested))) {
    throw new AppError('VALIDATION_FAILED', 'ttlMs must be a number of milliseconds');
  }
  return Math.max(1, Math.min(requested ?? defaultMs, maxMs));
}

/** Stores a new token of `user` (its current generation) and returns it: the only time it is seen. */
export async function storeNewToken(cx: IdentityContext, user: UserRecord, ttlMs: number, application: boolean): Promise<LoginResult> {
  const now = cx.clock.now();
  const token = newToken(cx.random);
  const rec: TokenRecord = { user: user.name, generation: user.generation, createdAt: cx.iso(now), expiresAt: cx.iso(now + ttlMs) };
  if (application) rec.application = true;
  await cx.store.create(controlKey('token', tokenId(token)), rec);
  return { token, expiresAt: rec.expiresAt, user: toView(user) };
}

export function createTokenAdmin(cx: IdentityContext, users: UserRecords): TokenAdmin {
  const { store, config, clock } = cx;
  const notFound = () => new AppError('NOT_FOUND', 'No such token (unknown, expired or revoked).');

  return {
    async issueToken(name, opts = {}) {
      const user = users.mustGet(name).value;
      const application = opts.application === true;
      const ttl = tokenTtl(opts.ttlMs, application ? config.tokenMaxTtlMs : config.tokenTtlMs, config.tokenMaxTtlMs);
      return storeNewToken(cx, user, ttl, application);
    },

    listTokens(name) {
      const user = users.record(name)?.value;
      if (user === undefined) return [];
      const now = clock.now();
      const out: TokenInfo[] = [];
      for (const { key, value } of store.list<TokenRecord>(TOKEN_PREFIX_KEY)) {
        if (value.user !== name || !isLive(value, user, now)) continue;
        out.push({ id: key.slice(TOKEN_PREFIX_KEY.length), application: value.application === true, createdAt: value.createdAt, expiresAt: value.expiresAt });
      }
      // newest first; ties (the same millisecond) in id order, so the order is stable
      return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
    },

    async revokeToken(by, tokenOrId) {
      const id = looksLikeToken(tokenOrId) ? tokenId(tokenOrId) : TOKEN_ID_RE.test(tokenOrId) ? tokenOrId : undefined;
      if (id === undefined) throw notFound();
      const key = controlKey('token', id);
      const rec = store.get<TokenRecord>(key)?.value;
      if (rec === undefined || !isLive(rec, users.record(rec.user)?.value, clock.now())) throw notFound();
      if (rec.user !== by.user && by.role !== 'admin') throw new AppError('FORBIDDEN', 'You may revoke only your own tokens.');
      await store.delete(key);
    },
  };
}
