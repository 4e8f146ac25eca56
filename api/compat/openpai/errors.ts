/**
 * OpenPAI's error answers, per generation of the path (clients.md §1; docs/compat/openpai.md
 * "Errors"): v1 paths answer `{error, message}` with the seed's names, v2 paths `{code, message}`
 * with the SDK's codes (its `paiError` switches on `data.code`). No error body is ever empty: the
 * SDK reads `error.response.data.code` and throws a TypeError of its own on a `null` body.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode } from '../../../engine/index.ts';

export type Generation = 'v1' | 'v2';

/** The path of a request below the facade's prefixes (`/compat/openpai`, `/rest-server`). */
export function facadePath(url: string): string {
  let path = url.split('?', 1)[0]!;
  if (path.startsWith('/compat/openpai')) path = path.slice('/compat/openpai'.length);
  if (path.startsWith('/rest-server')) path = path.slice('/rest-server'.length);
  return path;
}

/** v1 for `/api/v1/…`, v2 for everything else (v2's shape is also the unknown path's). */
export function generationOf(request: Pick<FastifyRequest, 'url'>): Generation {
  return /^\/api\/v1(\/|$)/.test(facadePath(request.url)) ? 'v1' : 'v2';
}

interface Shape {
  status: number;
  /** v1 `error` or v2 `code`. */
  name: string;
  message: string;
}

/** An error with the status, name and message the original sends, per generation. */
export class PaiError extends AppError {
  readonly v1: Shape;
  readonly v2: Shape;
  constructor(v1: Shape, v2: Shape = v1) {
    super(codeFor(v2.status), v2.message);
    this.v1 = v1;
    this.v2 = v2;
  }

  /** The same status and message on both generations, each with its own name. */
  static of(status: number, v1Name: string, v2Code: string, message: string): PaiError {
    return new PaiError({ status, name: v1Name, message }, { status, name: v2Code, message });
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'INVALID_TRANSITION';
  if (status === 413) return 'BODY_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 503) return 'UNAVAILABLE';
  if (status >= 500) return 'INTERNAL';
  return 'VALIDATION_FAILED';
}

// The answers every route shares. Messages are the originals' where a client or the SDK's suite compares them.

export const guest = (): PaiError => new PaiError({ status: 401, name: 'NotAuthorized', message: 'not authorized' }, { status: 401, name: 'UnauthorizedUserError', message: 'Guest is not allowed to do this operation.' });
export const nonAdmin = (): PaiError => new PaiError({ status: 403, name: 'NotAuthorized', message: 'not authorized: only an admin may do this' }, { status: 403, name: 'ForbiddenUserError', message: 'Non-admin is not allow to do this operation.' });
export const applicationToken = (): PaiError => new PaiError({ status: 403, name: 'NotAuthorized', message: 'not authorized: applications are not allowed to do this operation' }, { status: 403, name: 'ForbiddenUserError', message: 'Applications are not allowed to do this operation.' });
export const forbidden = (why: string): PaiError => new PaiError({ status: 403, name: 'NotAuthorized', message: `not authorized: ${why}` }, { status: 403, name: 'ForbiddenUserError', message: why });
export const badParameters = (why: string): PaiError => PaiError.of(400, 'InvalidParametersError', 'InvalidParametersError', why);
export const noJob = (user: string, name: string): PaiError =>
  new PaiError({ status: 404, name: 'JobNotFound', message: `could not find job ${name}` }, { status: 404, name: 'NoJobError', message: `Job ${user}~${name} is not found.` });
export const noUser = (user: string): PaiError => new PaiError({ status: 404, name: 'UserNotFound', message: `could not find user ${user}` }, { status: 404, name: 'NoUserError', message: `User ${user} is not found.` });
export const noVirtualCluster = (vc: string, status = 404): PaiError =>
  new PaiError({ status, name: 'VirtualClusterNotFound', message: `could not find virtual cluster ${vc}` }, { status, name: 'NoVirtualClusterError', message: `Virtual cluster ${vc} is not found.` });

/** How an engine error reads on each generation (PaiErrors carry their own). */
function shapeOf(err: AppError, gen: Generation): Shape {
  if (err instanceof PaiError) return err[gen];
  const status = ERROR_CODES[err.code].status;
  // an internal error's own text may name internals: the table's text instead, as on the native API
  const message = status >= 500 ? ERROR_CODES[err.code].text : err.message;
  const v1 = gen === 'v1';
  switch (err.code) {
    case 'UNAUTHENTICATED':
    case 'INVALID_CREDENTIALS':
      return v1 ? { status: 401, name: 'NotAuthorized', message: 'not authorized' } : { status: 401, name: 'UnauthorizedUserError', message: 'Your token is invalid.' };
    case 'FORBIDDEN':
    case 'VIRTUAL_CLUSTER_FORBIDDEN':
      return v1 ? { status: 403, name: 'NotAuthorized', message: `not authorized: ${message}` } : { status: 403, name: 'ForbiddenUserError', message };
    case 'JOB_NOT_FOUND':
      return { status: 404, name: v1 ? 'JobNotFound' : 'NoJobError', message };
    case 'USER_NOT_FOUND':
      return { status: 404, name: v1 ? 'UserNotFound' : 'NoUserError', message };
    case 'VIRTUAL_CLUSTER_NOT_FOUND':
      return { status: 404, name: v1 ? 'VirtualClusterNotFound' : 'NoVirtualClusterError', message };
    case 'USER_EXISTS':
      return { status: 409, name: v1 ? 'UpdateFailed' : 'ConflictUserError', message };
    case 'NOT_FOUND':
      return { status: 404, name: 'NoApiError', message };
    case 'RATE_LIMITED':
    case 'TOO_MANY_STREAMS':
    case 'QUEUE_FULL':
      return { status, name: v1 ? 'TooManyRequests' : 'UnknownError', message };
    default:
      if (status >= 500) return { status, name: v1 ? (status === 503 ? 'ServiceUnavailable' : 'InternalServerError') : 'UnknownError', message };
      return { status, name: 'InvalidParametersError', message };
  }
}

export function sendOpenPaiError(request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  const gen = generationOf(request);
  const s = shapeOf(err, gen);
  if ((s.status === 503 || s.status === 429) && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  const body = gen === 'v1' ? { error: s.name, message: s.message } : { code: s.name, message: s.message };
  return reply.code(s.status).type('application/json; charset=utf-8').send(body);
}

/** The original's answer to a path no route takes (express.js at the seed's commit), on either generation. */
export function openpaiNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const message = `API ${request.url.slice(0, 200)} is not found.`;
  const body = generationOf(request) === 'v1' ? { error: 'NoApiError', code: 'NoApiError', message } : { code: 'NoApiError', message };
  return reply.code(404).type('application/json; charset=utf-8').send(body);
}
