/**
 * Teraslice's answers: JSON pretty-printed with 4 spaces, always 200 on success; errors
 * `{"error": <HTTP status as a number>, "message": "…"}` (clients.md §2.2; teraslice-client-js takes a
 * string `error` as the message, so it stays numeric). An unknown route is 405 `cannot <METHOD>
 * endpoint <url>`. Teraslice's own statuses (409, 410, 422, …) travel in a TerasliceError.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode } from '../../../engine/index.ts';

/** An error with the status and message the original sends for it. */
export class TerasliceError extends AppError {
  readonly httpStatus: number;
  constructor(httpStatus: number, message: string, code: ErrorCode = httpStatus === 404 ? 'NOT_FOUND' : httpStatus === 409 ? 'INVALID_TRANSITION' : 'VALIDATION_FAILED') {
    super(code, message);
    this.httpStatus = httpStatus;
  }
}

/** A 200 body as Teraslice sends it: JSON with 4-space indentation. */
export function tsSend(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body, null, 4));
}

/** Our error codes where Teraslice's status differs from ours. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  JOB_NOT_FOUND: 404,
  INVALID_ID: 404,
  INVALID_TRANSITION: 409,
};

export function sendTerasliceError(_request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  const status = err instanceof TerasliceError ? err.httpStatus : (STATUS_BY_CODE[err.code] ?? ERROR_CODES[err.code].status);
  if ((err.code === 'UNAVAILABLE' || err.code === 'NOT_READY' || err.code === 'RATE_LIMITED' || err.code === 'QUEUE_FULL') && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  // an internal error's own text may name internals: the table's text instead, as on the native API
  const message = status >= 500 && !(err instanceof TerasliceError) ? ERROR_CODES[err.code].text : err.message;
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify({ error: status, message }, null, 4));
}

/** Express's catch-all of the original: 405 for any path or method it has no route for. */
export function terasliceNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const url = request.url.replace(/^\/compat\/teraslice/, '').slice(0, 512);
  return reply.code(405).type('application/json; charset=utf-8').send(JSON.stringify({ error: 405, message: `cannot ${request.method} endpoint ${url}` }, null, 4));
}
