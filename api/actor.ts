/**
 * Who is calling, as the engine wants it: the authenticated caller (set by api/auth.ts) and the
 * client's reason. Events record it as meta.actor `user:<name>`.
 */
import type { FastifyRequest } from 'fastify';
import type { By } from '../engine/index.ts';
import type {} from './auth.ts';

/** The actor written into event metadata for a request: `user:<name>`. */
export function actorOf(request: FastifyRequest): string {
  return `user:${request.caller.user}`;
}

/** The caller and the optional client-given reason, for a JobService command. */
export function by(request: FastifyRequest, reason?: string): By {
  return reason === undefined ? { caller: request.caller } : { caller: request.caller, reason };
}
