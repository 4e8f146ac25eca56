/**
 * Who an OpenPAI request is (docs/compat/openpai.md "Identity"): our bearer tokens, or nobody. A
 * route states what it accepts. Anonymous reads (the v1 reads the PAIV1 SDK sends without a token)
 * act as a read-only caller that sees every job, as the original's public v1 reads did, and only
 * while `openpaiAnonymousReads` is on; every write needs a token.
 */
import type { FastifyRequest } from 'fastify';
import { SYSTEM_CALLER, type Caller } from '../../../engine/index.ts';
import { applicationToken, forbidden, guest, nonAdmin } from './errors.ts';

/** The token's caller, or null for a request without an Authorization header. */
export function presentCaller(request: FastifyRequest): Caller | null {
  return request.callerOrNull;
}

/** Any valid token. */
export function tokenCaller(request: FastifyRequest): Caller {
  const caller = presentCaller(request);
  if (caller === null) throw guest();
  return caller;
}

/**
 * A public v1 read (the original's v1 reads needed no token): with anonymous reads on, the engine's
 * own caller, which sees every job, with or without a token (a token must not see less than none);
 * with them off, the token's caller. Never pass the result of this to a write.
 */
export function readerCaller(request: FastifyRequest, anonymousReads: boolean): Caller {
  if (anonymousReads) return SYSTEM_CALLER;
  return tokenCaller(request);
}

/** One who may submit and control jobs (operator or admin). */
export function submitterCaller(request: FastifyRequest): Caller {
  const caller = tokenCaller(request);
  if (caller.role === 'viewer') throw forbidden('viewers cannot submit or control jobs.');
  return caller;
}

/** A user's own session token, not an application's (user and token administration). */
export function sessionCaller(request: FastifyRequest): Caller {
  const caller = tokenCaller(request);
  if (caller.tokenKind === 'application') throw applicationToken();
  return caller;
}

/** An admin with a session token. */
export function adminCaller(request: FastifyRequest): Caller {
  const caller = tokenCaller(request);
  if (caller.role !== 'admin') throw nonAdmin();
  if (caller.tokenKind === 'application') throw applicationToken();
  return caller;
}

export function isAdmin(caller: Caller): boolean {
  return caller.role === 'admin';
}
