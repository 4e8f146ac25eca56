/**
 * Every failure leaves the API as `{ statusCode, code, error, message }`: AppErrors keep their
 * code, Fastify's own errors are mapped onto the table in engine/errors.ts, anything else is a
 * 500 INTERNAL whose details stay in the log.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode, isAppError } from '../engine/index.ts';

/** Seconds a client should wait before retrying a 429 or 503. */
export const RETRY_AFTER_SECONDS = 1;

/** Longest piece of client input (a property name, a URL) echoed back in a message. */
const MAX_ECHO_CHARS = 64;

/** The error body. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
}

/** Fastify's own errors by their code; the message defaults to the table's text. */
const FASTIFY_ERRORS: Readonly<Record<string, { code: ErrorCode; message?: string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'VALIDATION_FAILED', message: 'The body length does not match Content-Length.' },
  FST_ERR_NOT_FOUND: { code: 'NOT_FOUND' },
  FST_ERR_BAD_URL: { code: 'VALIDATION_FAILED', message: 'The URL has an invalid percent-encoding.' },
  // Our only path parameters are ids, so an over-long one is an invalid id.
  FST_ERR_MAX_PARAM_LENGTH: { code: 'INVALID_ID', message: 'A path parameter is too long.' },
};

/** Other 4xx statuses with a code of their own; the rest become 400 VALIDATION_FAILED. */
const CODES_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'BODY_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as Partial<FastifyError>).code === 'string';
}

function echo(value: unknown): string {
  const s = String(value);
  return s.length > MAX_ECHO_CHARS ? `${s.slice(0, MAX_ECHO_CHARS)}...` : s;
}

/** "body/priority must be integer": names the failing field (Ajv stops at the first error). */
function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0];
  if (first === undefined) return ERROR_CODES.VALIDATION_FAILED.text;
  const path = `${err.validationContext ?? 'request'}${first.instancePath}`;
  const params = first.params as Record<string, unknown>;
  switch (first.keyword) {
    case 'required':
      return `${path}/${echo(params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${path}/${echo(params.additionalProperty)} is not allowed`;
    default:
      return `${path} ${first.message ?? 'is invalid'}`;
  }
}

/** Turns anything thrown into an AppError; the original stays as `cause` for the log. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (isFastifyError(err)) {
    if (err.validation !== undefined) {
      // Path parameters are ids; naming the pattern would only obscure that.
      return err.validationContext === 'params'
        ? new AppError('INVALID_ID', `params${err.validation[0]?.instancePath ?? ''} must be a lowercase UUID`, { cause: err })
        : new AppError('VALIDATION_FAILED', describeValidation(err), { cause: err });
    }
    const known = FASTIFY_ERRORS[err.code];
    if (known !== undefined) return new AppError(known.code, known.message, { cause: err });
  }
  // Other client errors (from Fastify or the request stream) keep their meaning, if not their status.
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(CODES_BY_STATUS[status] ?? 'VALIDATION_FAILED', undefined, { cause: err });
  }
  // Not an AppError but says "try again" (e.g. a NATS timeout the engine did not translate).
  if ((err as { retryable?: unknown } | null)?.retryable === true) return new AppError('UNAVAILABLE', undefined, { cause: err });
  return new AppError('INTERNAL', undefined, { cause: err });
}

/**
 * The body for an AppError. A 5xx message is the table's text whatever the thrower wrote: it may
 * name internals (subjects, hosts, stack details) that belong in the log only.
 */
export function errorBody(err: AppError): ErrorBody {
  return {
    statusCode: err.status,
    code: err.code,
    error: STATUS_CODES[err.status] ?? 'Error',
    message: err.status >= 500 ? ERROR_CODES[err.code].text : err.message,
  };
}

/** Sends `err` as an error body, with `retry-after` when waiting may help. */
export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const appError = toAppError(err);
  if (appError.status >= 500) request.log.error({ err: appError.cause ?? appError }, 'request failed');
  else request.log.info({ code: appError.code }, appError.message);
  // The rate limiter sets the exact wait; keep it.
  if ((appError.status === 503 || appError.status === 429) && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(appError.status).type('application/json; charset=utf-8').send(errorBody(appError));
}

/**
 * Installs the error and not-found handlers on the root instance, before routes are registered.
 * Router errors (bad percent-encoding, over-long ids) bypass both: server.ts routes them here
 * through Fastify's `frameworkErrors` option.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new AppError('NOT_FOUND', `No route ${request.method} ${echo(request.url)}.`)),
  );
}

/** An error body for a status the table has no code of its own for (408, 417, 431): the code says what kind of fault it is. */
export function statusErrorBody(status: number, code: ErrorCode, message: string): ErrorBody {
  return { statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message };
}

/** A facade port's own body for an error written straight to the socket (Spark's `{status, result}`); the status line stays. */
export type RawErrorShape = (body: ErrorBody) => unknown;

/**
 * A whole HTTP/1.1 response carrying `body` that closes the connection: for answers written
 * straight to a socket, where no request or reply object exists.
 */
export function rawErrorResponse(body: ErrorBody, headers: Readonly<Record<string, string>> = {}, shape?: RawErrorShape): string {
  const json = JSON.stringify(shape === undefined ? body : shape(body));
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return (
    `HTTP/1.1 ${body.statusCode} ${body.error}\r\nContent-Type: application/json; charset=utf-8\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`
  );
}

/** True when a response has started on the socket: writing another one into it would corrupt it. */
function responseStarted(socket: Socket): boolean {
  // Node keeps the in-flight response here; its own clientError fallback checks the same field.
  return (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
}

function clientErrorBody(err: Error & { code?: string }): ErrorBody {
  if (err.code === 'HPE_HEADER_OVERFLOW') return statusErrorBody(431, 'VALIDATION_FAILED', 'The request headers are too large.');
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return statusErrorBody(408, 'VALIDATION_FAILED', 'The request took too long to arrive.');
  return statusErrorBody(400, 'VALIDATION_FAILED', 'The request is not well-formed HTTP.');
}

/**
 * Errors Node's HTTP server raises before or outside a request (malformed request line, headers
 * over 16 KiB, headers or body not arriving within httpHeadersTimeoutMs / httpRequestTimeoutMs),
 * written in our shape straight to the socket, which is then closed.
 * The table has no 408/431 codes, so those keep their status under VALIDATION_FAILED.
 */
export function clientErrorHandlerFor(shape?: RawErrorShape): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // A reset or already-closed socket has nobody left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    if (socket.writable && !responseStarted(socket)) socket.write(rawErrorResponse(clientErrorBody(err), {}, shape));
    socket.destroy(err);
  };
}

/** {@link clientErrorHandlerFor} in our own shape. */
export const clientErrorHandler = clientErrorHandlerFor();
