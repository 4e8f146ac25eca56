/** Schemas of the system routes: workers, job types, service info, liveness and readiness. */
import { errorResponses } from './common.ts';

const workerProperties = {
  id: { type: 'string' },
  pool: { type: 'string' },
  state: { type: 'string', enum: ['ACTIVE', 'DRAINING', 'LEFT'] },
  concurrency: { type: 'integer' },
  host: { type: 'string' },
  pid: { type: 'integer' },
  alive: { type: 'boolean' },
  registeredAt: { type: 'string' },
  tasks: {
    type: 'array',
    description: 'Tasks it ran at its last heartbeat (at most 256), of jobs you may see.',
    items: { type: 'object', additionalProperties: false, required: ['jobId', 'taskId'], properties: { jobId: { type: 'string' }, taskId: { type: 'string' } } },
  },
} as const;

/** `{ workers: WorkerView[] }`. */
export const workersResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['workers'],
  properties: {
    workers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: Object.keys(workerProperties),
        properties: workerProperties,
      },
    },
  },
} as const;

/** `{ jobTypes: [{ name, specSchema }] }`. */
export const jobTypesResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['jobTypes'],
  properties: {
    jobTypes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'specSchema'],
        properties: {
          name: { type: 'string' },
          specSchema: { type: 'object', additionalProperties: true, description: 'JSON Schema of the spec.' },
        },
      },
    },
  },
} as const;

/** ServiceInfo. */
export const infoResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version', 'roles', 'nats', 'dataDir', 'limits', 'jobTypes'],
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    nats: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'embedded', 'syncInterval'],
      properties: {
        url: { type: 'string' },
        embedded: { type: 'boolean' },
        syncInterval: { type: ['string', 'null'] },
      },
    },
    dataDir: { type: 'string' },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['runningJobCapacity', 'waitingJobCapacity'],
      properties: { runningJobCapacity: { type: 'integer' }, waitingJobCapacity: { type: 'integer' } },
    },
    jobTypes: { type: 'array', items: { type: 'string' } },
  },
} as const;

const readinessSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ready', 'checks'],
  properties: {
    ready: { type: 'boolean' },
    checks: { type: 'object', additionalProperties: { type: 'boolean' } },
  },
} as const;

/** Route schemas, keyed by route. */
export const systemRouteSchemas = {
  workers: { response: { 200: workersResponseSchema, ...errorResponses } },
  jobTypes: { response: { 200: jobTypesResponseSchema, ...errorResponses } },
  info: { response: { 200: infoResponseSchema, ...errorResponses } },
  healthz: {
    response: {
      200: {
        type: 'object',
        additionalProperties: false,
        required: ['status'],
        properties: { status: { type: 'string', enum: ['ok'] } },
      },
      ...errorResponses,
    },
  },
  // The explicit 503 wins over '5xx': a not-ready answer has the readiness shape, not an error's.
  readyz: { response: { 200: readinessSchema, 503: readinessSchema, ...errorResponses } },
} as const;
