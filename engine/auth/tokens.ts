/**
 * Bearer tokens: `jjt_` + 32 random bytes (base64url). Only the token's SHA-256 is stored (as the
 * key `token.<hex>`), so a copy of the control bucket grants nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.ts';

export const TOKEN_PREFIX = 'jjt_';
const TOKEN_BYTES = 32;
/** What a token we issued looks like (43 base64url chars for 32 bytes). */
const TOKEN_RE = /^jjt_[A-Za-z0-9_-]{43}$/;
/** `Bearer <credentials>`: visible ASCII only, bounded. */
const BEARER_RE = /^Bearer +([\x21-\x7e]{1,512})$/i;

/** What the control store keeps per token. */
export interface TokenRecord {
  user: string;
  /** The user's token generation when issued; a password change bumps it and so revokes the token. */
  generation: number;
  createdAt: string;
  expiresAt: string;
  /** An application token (issued without a password, for a program): no user or token administration. */
  application?: true;
}

/** A fresh token from `random` bytes. */
export function newToken(random: (n: number) => Buffer): string {
  return TOKEN_PREFIX + random(TOKEN_BYTES).toString('base64url');
}

/** True when `token` has the shape of a token we issue (cheap check before any lookup). */
export function looksLikeToken(token: string): boolean {
  return TOKEN_RE.test(token);
}

/** What a token id looks like: 64 lower-case hex digits. */
export const TOKEN_ID_RE = /^[0-9a-f]{64}$/;

/** Hex SHA-256 of the token: the id under which it is stored. */
export function tokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The credentials of an `Authorization: Bearer <token>` header; UNAUTHENTICATED when missing or malformed. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw new AppError('UNAUTHENTICATED', 'Send Authorization: Bearer <token> (POST /auth/login issues one).');
  }
  const m = BEARER_RE.exec(header);
  if (m === null) throw new AppError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>".');
  return m[1]!;
}

/** Constant-time string equality (both sides hashed first, so lengths do not leak either). */
export function secretEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
