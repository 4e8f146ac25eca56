/**
 * Spark Jobserver's answers (clients.md §3): every body is JSON with a `status` (python-sjsclient
 * reads `resp.json()['status']` on any status ≥ 400 and crashes without it): success
 * `{"status":"SUCCESS"[, "result": …]}`, errors `{"status":"ERROR","result":"<message>"}` or, for an
 * exception, `{"status":"<what>","result":{"message","errorClass","stack"}}`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode, type SparkErrorData } from '../../../engine/index.ts';

/** An error with the status and body the original sends for it. */
export class SparkError extends AppError {
  readonly httpStatus: number;
  readonly sparkStatus: string;
  readonly result: string | SparkErrorData;
  constructor(httpStatus: number, result: string | SparkErrorData, sparkStatus = 'ERROR', code: ErrorCode = codeFor(httpStatus)) {
    super(code, typeof result === 'string' ? result : result.message);
    this.httpStatus = httpStatus;
    this.sparkStatus = sparkStatus;
    this.result = result;
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 403) return 'FORBIDDEN';
  if (status === 409) return 'INVALID_TRANSITION';
  if (status === 413) return 'BODY_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 503) return 'UNAVAILABLE';
  if (status >= 500) return 'INTERNAL';
  return 'VALIDATION_FAILED';
}

/** `{"status":"SUCCESS"[, "result": msg]}`, the original's completeWithSuccess. */
export function sendSuccess(reply: FastifyReply, status: number, msg?: string): FastifyReply {
  return reply.code(status).type('application/json').send(msg === undefined ? { status: 'SUCCESS' } : { status: 'SUCCESS', result: msg });
}

/** An exception the way Spark formats one (formatException). */
export function exceptionData(message: string, errorClass: string, stack = ''): SparkErrorData {
  return { message, errorClass, stack };
}

export function sendSparkError(_request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  if (err instanceof SparkError) {
    if (err.httpStatus === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
    return reply.code(err.httpStatus).type('application/json').send({ status: err.sparkStatus, result: err.result });
  }
  const status = ERROR_CODES[err.code].status;
  if ((err.code === 'UNAVAILABLE' || err.code === 'NOT_READY' || err.code === 'RATE_LIMITED' || err.code === 'QUEUE_FULL') && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  // an internal error's own text may name internals: the table's text instead, as on the native API
  const message = status >= 500 ? ERROR_CODES[err.code].text : err.message;
  return reply.code(status).type('application/json').send({ status: 'ERROR', result: message });
}

/** akka-http's answer to a path no route takes, in the JSON shape the python client can read. */
export function sparkNotFound(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).type('application/json').send({ status: 'ERROR', result: 'The requested resource could not be found.' });
}
