/**
 * Errors as the Alluxio Enterprise coordinator REST sends them (clients.md §4.3): the HTTP status
 * says what went wrong (400, 404, 409, 500, …) and the body is `{"status": "<message>"}`, unlike the
 * OSS job master's 500 for everything (errors.ts). Our statuses where the original documents none:
 * 401 with a challenge, 403, 429 and 503 (with `retry-after`), as on the native API.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type AppError } from '../../../engine/index.ts';

export function sendEeError(_request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  if ((err.code === 'UNAVAILABLE' || err.code === 'NOT_READY' || err.code === 'RATE_LIMITED' || err.code === 'QUEUE_FULL') && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  // an internal error's own text may name internals: the table's text instead, as on the native API
  const status = err.status >= 500 ? ERROR_CODES[err.code].text : err.message;
  return reply.code(err.status).type('application/json').send({ status });
}

export function eeNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).type('application/json').send({ status: `No resource ${request.method} ${request.url.slice(0, 128)}` });
}
