/**
 * Who is calling, as written into event metadata. The single place to change when authentication
 * arrives (then: `user:<name>` from the verified token).
 */
import type { FastifyRequest } from 'fastify';
import type { ActorRef } from '../engine/service.ts';

/** The actor for a request. Until auth exists every request acts as `api`. */
export function actorOf(_request: FastifyRequest): string {
  return 'api';
}

/** An ActorRef for a request, with the optional client-given reason. */
export function actorRef(request: FastifyRequest, reason?: string): ActorRef {
  return reason === undefined ? { actor: actorOf(request) } : { actor: actorOf(request), reason };
}
