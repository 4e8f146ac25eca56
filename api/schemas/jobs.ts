/**
 * Schemas of the job routes (`/jobs...`). Request schemas reject unknown fields and wrong types
 * (Ajv runs without coercion); response schemas list every field so nothing extra is serialized.
 */
import { JOB_STATES } from '../../actors/events.ts';
import {
  JOB_TYPE_PATTERN,
  VISIBLE_ASCII_PATTERN,
  errorResponses,
  jobIdParams,
  jobNameSchema,
  nullableTime,
} from './common.ts';

/** Page size when `limit` is not given. */
export const DEFAULT_LIST_LIMIT = 100;

const stateAlternatives = `(?:${JOB_STATES.join('|')})`;

// ---------- requests ----------

/** `POST /jobs` body (SubmitRequest). Defaults (name = type, priority 0, ...) live in the engine. */
export const submitBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'spec'],
  properties: {
    type: { type: 'string', pattern: JOB_TYPE_PATTERN },
    name: jobNameSchema,
    // Free-form here; the engine validates it against the job type's spec schema.
    spec: { type: 'object' },
    priority: { type: 'integer', minimum: -1000, maximum: 1000 },
    maxTaskAttempts: { type: 'integer', minimum: 1, maximum: 100 },
    maxFailedRatio: { type: 'number', minimum: 0, maximum: 1 },
  },
} as const;

/** `POST /jobs` headers. Not `additionalProperties: false`: every request carries other headers. */
export const submitHeaders = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', pattern: VISIBLE_ASCII_PATTERN } },
} as const;

/**
 * `POST /jobs/:id/{stop,pause,resume}` body. `null` stands for "no body" (Fastify validates a
 * missing body as null), so `curl -X POST` without data works.
 */
export const actionBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: 500 } },
} as const;

/**
 * `GET /jobs` querystring. Querystring values are strings and Ajv does not coerce, so numbers and
 * lists are strings whose pattern admits exactly the valid values; the handler converts them.
 */
export const listQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: {
      type: 'string',
      maxLength: 200,
      pattern: `^${stateAlternatives}(?:,${stateAlternatives})*$`,
      description: `Comma-separated list of ${JOB_STATES.join(', ')}.`,
    },
    type: { type: 'string', pattern: JOB_TYPE_PATTERN },
    name: { ...jobNameSchema, description: 'Exact match.' },
    limit: {
      type: 'string',
      pattern: '^(?:[1-9][0-9]{0,2}|1000)$',
      default: String(DEFAULT_LIST_LIMIT),
      description: 'Integer 1..1000.',
    },
    cursor: { type: 'string', pattern: VISIBLE_ASCII_PATTERN, description: 'Opaque; from nextCursor.' },
  },
} as const;

// ---------- responses ----------

const count = { type: 'integer' } as const;
const progressProperties = {
  tasksTotal: count,
  tasksSucceeded: count,
  tasksFailed: count,
  itemsTotal: count,
  itemsDone: count,
  itemsFailed: count,
  bytesTotal: count,
  bytesDone: count,
} as const;
const progressSchema = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(progressProperties),
  properties: progressProperties,
} as const;
const jobState = { type: 'string', enum: JOB_STATES } as const;

const jobViewProperties = {
  id: { type: 'string' },
  type: { type: 'string' },
  name: { type: 'string' },
  state: jobState,
  priority: { type: 'integer' },
  owner: { type: 'string' },
  spec: { type: 'object', additionalProperties: true },
  epoch: { type: 'integer' },
  coordinatorId: { type: ['string', 'null'] },
  submittedAt: { type: 'string' },
  startedAt: nullableTime,
  finishedAt: nullableTime,
  progress: progressSchema,
  error: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['code', 'message'],
    properties: { code: { type: 'string' }, message: { type: 'string' } },
  },
  summary: { description: 'Type-specific result; any JSON.' },
  reclaims: { type: 'integer' },
} as const;

/** `GET /jobs/:id/failures`. */
export const failuresSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['jobId', 'state', 'itemsFailed', 'tasksFailed', 'items', 'truncated', 'tasks'],
  properties: {
    jobId: { type: 'string' },
    state: { type: 'string', enum: [...JOB_STATES] },
    itemsFailed: { type: 'integer' },
    tasksFailed: { type: 'integer' },
    items: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['taskId', 'item', 'error'],
        properties: { taskId: { type: 'string' }, item: { type: 'string' }, error: { type: 'string' } },
      },
    },
    truncated: { type: 'boolean' },
    tasks: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['taskId', 'attempts', 'error'],
        properties: {
          taskId: { type: 'string' },
          attempts: { type: 'array', items: { type: 'integer' } },
          error: {
            type: ['object', 'null'], additionalProperties: false, required: ['code', 'message', 'retryable'],
            properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } },
          },
        },
      },
    },
  },
} as const;

/** A JobView. */
export const jobViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(jobViewProperties),
  properties: jobViewProperties,
} as const;

/** A ProgressView. */
export const progressViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: [...Object.keys(progressProperties), 'jobId', 'state', 'throughputBytesPerSec', 'elapsedMs', 'failures'],
  properties: {
    ...progressProperties,
    jobId: { type: 'string' },
    state: jobState,
    throughputBytesPerSec: { type: 'number' },
    elapsedMs: { type: 'number' },
    failures: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['taskId', 'item', 'error'],
        properties: { taskId: { type: 'string' }, item: { type: 'string' }, error: { type: 'string' } },
      },
    },
  },
} as const;

/** `{ events: HistoryEntry[] }`. */
export const historySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['events'],
  properties: {
    events: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['seq', 'time', 'subject', 'type', 'data', 'meta'],
        properties: {
          seq: { type: 'integer' },
          time: { type: 'string' },
          subject: { type: 'string', enum: ['ev', 'task'] },
          type: { type: 'string' },
          data: { description: 'Event payload; any JSON.' },
          meta: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
} as const;

/** `{ jobs, nextCursor }`. */
export const listResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['jobs', 'nextCursor'],
  properties: { jobs: { type: 'array', items: jobViewSchema }, nextCursor: { type: ['string', 'null'] } },
} as const;

// ---------- route schemas ----------

/** Route schemas, keyed by route. */
export const jobRouteSchemas = {
  submit: {
    body: submitBody,
    headers: submitHeaders,
    response: { 200: jobViewSchema, 201: jobViewSchema, ...errorResponses },
  },
  list: { querystring: listQuerystring, response: { 200: listResponseSchema, ...errorResponses } },
  get: { params: jobIdParams, response: { 200: jobViewSchema, ...errorResponses } },
  progress: { params: jobIdParams, response: { 200: progressViewSchema, ...errorResponses } },
  history: { params: jobIdParams, response: { 200: historySchema, ...errorResponses } },
  failures: { params: jobIdParams, response: { 200: failuresSchema, ...errorResponses } },
  action: { params: jobIdParams, body: actionBody, response: { 200: jobViewSchema, ...errorResponses } },
} as const;
