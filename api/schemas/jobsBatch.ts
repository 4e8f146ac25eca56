/**
 * Schemas of `POST /jobs:batch`. Only the envelope is checked for the whole request; each item is
 * checked on its own against {@link batchItemSchema} (api/routes/jobs.ts), so a bad item fails alone.
 */
import { errorResponses, VISIBLE_ASCII_PATTERN } from './common.ts';
import { jobViewSchema, submitBody } from './jobs.ts';

/** Most jobs one `POST /jobs:batch` may carry. */
export const MAX_BATCH_JOBS = 1000;

/**
 * The body limit of `POST /jobs:batch` (the other routes: `bodyLimitBytes`, 1 MiB by default):
 * 1000 items of up to 16 KiB each.
 */
export const BATCH_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** One item: exactly a `POST /jobs` body, plus its own idempotency key (the `Idempotency-Key` header's rules). */
export const batchItemSchema = {
  ...submitBody,
  properties: {
    ...submitBody.properties,
    idempotencyKey: {
      type: 'string', pattern: VISIBLE_ASCII_PATTERN,
      description: "As POST /jobs's `Idempotency-Key` header, for this item: 1-200 visible ASCII characters.",
    },
  },
} as const;

/** The envelope alone: what refuses the whole request (nothing written). */
export const batchEnvelope = {
  type: 'object',
  additionalProperties: false,
  required: ['jobs'],
  properties: { jobs: { type: 'array', minItems: 1, maxItems: MAX_BATCH_JOBS } },
} as const;

/** `POST /jobs:batch` body as documented: the envelope, each item a {@link batchItemSchema}. */
export const batchBody = {
  ...batchEnvelope,
  properties: {
    jobs: {
      ...batchEnvelope.properties.jobs,
      items: batchItemSchema,
      description: `1-${MAX_BATCH_JOBS} submissions. Each item is checked on its own: an invalid one fails alone (its result), the others are written.`,
    },
  },
} as const;

/** One item's result: its status as POST /jobs would have answered it alone, and the job or the error. */
export const batchResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: {
    status: { type: 'integer', description: '201 new job, 200 idempotent replay, else the error status POST /jobs would have answered for this item.' },
    job: jobViewSchema,
    error: {
      type: 'object', additionalProperties: false, required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** `POST /jobs:batch` route schema. */
export const jobsBatchSchema = {
  tags: ['jobs'],
  description: `Submits 1-${MAX_BATCH_JOBS} jobs in one request (one group commit); per-item results in item order.`,
  body: batchBody,
  response: {
    200: {
      type: 'object', additionalProperties: false, required: ['results'],
      properties: { results: { type: 'array', items: batchResultSchema } },
    },
    ...errorResponses,
  },
} as const;
