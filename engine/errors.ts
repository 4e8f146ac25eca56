/**
 * One error type with a stable code, an HTTP status and a retryable flag. The table below is the
 * single source for codes; docs/api.md lists them (scripts/errorTable.ts). Why a job or task failed
 * is data in events, not an error: those codes are in actors/failureCodes.ts (docs/events.md).
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, retryable: false, text: 'The request does not match the schema.' },
  INVALID_JSON: { status: 400, retryable: false, text: 'The body is not valid JSON.' },
  INVALID_ID: { status: 400, retryable: false, text: 'The id is not a valid job or worker id.' },
  UNKNOWN_JOB_TYPE: { status: 400, retryable: false, text: 'No job type of that name is registered.' },
  INVALID_SPEC: { status: 400, retryable: false, text: 'The job spec does not match the job type schema.' },
  PATH_OUTSIDE_ROOT: { status: 400, retryable: false, text: 'A path resolves outside the configured roots.' },
  INVALID_CALLBACK_URL: { status: 400, retryable: false, text: 'The callback URL is not an http(s) URL without credentials, or targets a private address (see `webhookAllowPrivate`).' },
  UNAUTHENTICATED: { status: 401, retryable: false, text: 'Send a valid, unexpired bearer token (POST /auth/login).' },
  INVALID_CREDENTIALS: { status: 401, retryable: false, text: 'Unknown user or wrong password.' },
  FORBIDDEN: { status: 403, retryable: false, text: 'Your role does not allow this.' },
  VIRTUAL_CLUSTER_FORBIDDEN: { status: 403, retryable: false, text: 'You have no access to that virtual cluster.' },
  NOT_FOUND: { status: 404, retryable: false, text: 'No such route.' },
  JOB_NOT_FOUND: { status: 404, retryable: false, text: 'No job with that id.' },
  USER_NOT_FOUND: { status: 404, retryable: false, text: 'No user with that name.' },
  VIRTUAL_CLUSTER_NOT_FOUND: { status: 404, retryable: false, text: 'No virtual cluster with that name.' },
  WEBHOOK_NOT_FOUND: { status: 404, retryable: false, text: 'No webhook with that id.' },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, text: 'Method not allowed on this route.' },
  INVALID_TRANSITION: { status: 409, retryable: false, text: 'The job is in a state that does not allow this.' },
  IDEMPOTENCY_KEY_REUSED: { status: 409, retryable: false, text: 'The idempotency key was used with another request.' },
  USER_EXISTS: { status: 409, retryable: false, text: 'A user with that name exists.' },
  VIRTUAL_CLUSTER_EXISTS: { status: 409, retryable: false, text: 'A virtual cluster with that name exists.' },
  VIRTUAL_CLUSTER_IN_USE: { status: 409, retryable: false, text: 'The virtual cluster still has unfinished jobs or the default cannot be removed.' },
  JOB_COMPACTED: { status: 409, retryable: false, text: 'The job history was compacted by retention; re-run it instead.' },
  CONFLICT: { status: 409, retryable: true, text: 'A concurrent writer changed the job; re-read and retry.' },
  BODY_TOO_LARGE: { status: 413, retryable: false, text: 'The body is larger than allowed.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, text: 'Send application/json.' },
  RATE_LIMITED: { status: 429, retryable: true, text: 'Too many requests; retry after the retry-after header.' },
  TOO_MANY_STREAMS: { status: 429, retryable: true, text: 'Too many live event streams open.' },
  QUEUE_FULL: { status: 429, retryable: true, text: 'The waiting queue is at capacity.' },
  UNAVAILABLE: { status: 503, retryable: true, text: 'The event store (NATS) is unavailable.' },
  NOT_READY: { status: 503, retryable: true, text: 'The service is starting or catching up.' },
  STATE_STORE_RESET: { status: 503, retryable: false, text: 'The event store was lost or replaced; an operator must re-bootstrap.' },
  INTERNAL: { status: 500, retryable: false, text: 'Internal error.' },
} as const satisfies Record<string, { status: number; retryable: boolean; text: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Extra, client-safe detail (e.g. the failing field path). */
  readonly details?: unknown;

  constructor(code: ErrorCode, message?: string, opts: { cause?: unknown; details?: unknown } = {}) {
    super(message ?? ERROR_CODES[code].text, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryable = ERROR_CODES[code].retryable;
    if (opts.details !== undefined) this.details = opts.details;
  }
}

export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}
