/**
 * Errors as the Alluxio job master sends them: every failure is HTTP 500 with
 * `{"status":"<gRPC-style code>","message":"…"}` (RestUtils.createErrorResponse; clients.md §4.1),
 * even an unknown job id. Ours where the original has nothing to say: 401 with a challenge when a
 * credential is missing or wrong (the original has no authentication), 404 for an unknown path (as
 * its JAX-RS container), and `retry-after` on UNAVAILABLE and RATE_LIMITED.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type AppError, type ErrorCode } from '../../../engine/index.ts';

/** Alluxio's `Status` names (alluxio.exception.status), by our error code. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, string>> = {
  JOB_NOT_FOUND: 'NOT_FOUND',
  NOT_FOUND: 'NOT_FOUND',
  VALIDATION_FAILED: 'INVALID_ARGUMENT',
  INVALID_ID: 'INVALID_ARGUMENT',
  INVALID_SPEC: 'INVALID_ARGUMENT',
  UNKNOWN_JOB_TYPE: 'INVALID_ARGUMENT',
  PATH_OUTSIDE_ROOT: 'INVALID_ARGUMENT',
  INVALID_TRANSITION: 'FAILED_PRECONDITION',
  JOB_COMPACTED: 'FAILED_PRECONDITION',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'PERMISSION_DENIED',
  VIRTUAL_CLUSTER_FORBIDDEN: 'PERMISSION_DENIED',
  QUEUE_FULL: 'RESOURCE_EXHAUSTED',
  RATE_LIMITED: 'RESOURCE_EXHAUSTED',
  UNAVAILABLE: 'UNAVAILABLE',
  STATE_STORE_RESET: 'UNAVAILABLE',
  NOT_READY: 'UNAVAILABLE',
};

/** The Alluxio status name of one of our errors (`UNKNOWN` when none fits, as Alluxio's own default). */
export function alluxioStatus(code: ErrorCode): string {
  const named = STATUS_BY_CODE[code];
  if (named !== undefined) return named;
  const status = ERROR_CODES[code].status;
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'FAILED_PRECONDITION';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 503) return 'UNAVAILABLE';
  if (status >= 500) return 'INTERNAL';
  // the rest of the 4xx: the request itself is wrong (bad JSON, too large, bad header, …)
  return 'INVALID_ARGUMENT';
}

export function sendAlluxioError(_request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  const status = err.code === 'UNAUTHENTICATED' ? 401 : 500;
  if ((err.code === 'UNAVAILABLE' || err.code === 'NOT_READY' || err.code === 'RATE_LIMITED' || err.code === 'QUEUE_FULL') && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  // an internal error's own text may name internals: the table's text instead, as on the native API
  const message = err.status >= 500 ? ERROR_CODES[err.code].text : err.message;
  return reply.code(status).type('application/json').send({ status: alluxioStatus(err.code), message });
}

export function alluxioNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).type('application/json').send({ status: 'NOT_FOUND', message: `No resource ${request.method} ${request.url.slice(0, 128)}` });
}
