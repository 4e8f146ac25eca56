/** Schemas of the webhook routes (global webhooks, the callback secret, per-job delivery log). */
import { errorResponses, jobIdParams } from './common.ts';
import { reasonSchema } from './jobs.ts';

const EVENTS = ['job.succeeded', 'job.failed', 'job.stopped'] as const;
/** Global webhook ids are generated (`wh_<hex>`); anything else is simply not found. */
const WEBHOOK_ID = { type: 'string', minLength: 1, maxLength: 64 } as const;
const TARGET_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

const webhookSummary = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'events', 'createdAt', 'createdBy'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string', enum: EVENTS } },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
  },
} as const;

const webhookCreated = {
  ...webhookSummary,
  required: [...webhookSummary.required, 'secret'],
  properties: {
    ...webhookSummary.properties,
    secret: { type: 'string', description: 'HMAC-SHA256 key of x-jetjobs-signature. Shown only in this response.' },
  },
} as const;

const deliveryEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['seq', 'time', 'type', 'data', 'meta'],
  properties: {
    seq: { type: 'integer' },
    time: { type: 'string' },
    type: { type: 'string', enum: ['WebhookDelivered', 'WebhookFailed', 'WebhookRedeliveryRequested'] },
    data: { type: 'object', additionalProperties: true },
    meta: { type: 'object', additionalProperties: true },
  },
} as const;

export const webhookRouteSchemas = {
  list: {
    summary: 'List global webhooks (secrets are never listed)',
    tags: ['webhooks'],
    response: { 200: { type: 'object', additionalProperties: false, required: ['webhooks'], properties: { webhooks: { type: 'array', items: webhookSummary } } }, ...errorResponses },
  },
  create: {
    summary: 'Create a global webhook, notified on terminal job states (admin)',
    tags: ['webhooks'],
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', minLength: 1, maxLength: 2048, description: 'http(s), no credentials, no fragment.' },
        events: { type: 'array', minItems: 1, maxItems: EVENTS.length, uniqueItems: true, items: { type: 'string', enum: EVENTS } },
        secret: { type: 'string', pattern: '^[\\x21-\\x7e]{16,256}$', description: 'Your own signing key; generated when absent.' },
      },
    },
    response: { 201: webhookCreated, ...errorResponses },
  },
  remove: {
    summary: 'Delete a global webhook (admin)',
    tags: ['webhooks'],
    params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: WEBHOOK_ID } },
    response: { 204: { type: 'null', description: 'Deleted.' }, ...errorResponses },
  },
  callbackSecret: {
    summary: 'The key that signs per-job callbackUrl notifications (admin)',
    tags: ['webhooks'],
    response: { 200: { type: 'object', additionalProperties: false, required: ['secret'], properties: { secret: { type: 'string' } } }, ...errorResponses },
  },
  deliveries: {
    summary: "A job's webhook delivery log (attempts, failures, redelivery requests), oldest first",
    tags: ['webhooks'],
    params: jobIdParams,
    response: { 200: { type: 'object', additionalProperties: false, required: ['deliveries'], properties: { deliveries: { type: 'array', items: deliveryEntry } } }, ...errorResponses },
  },
  redeliver: {
    summary: 'Send the terminal notification of a finished job again (all targets, or one)',
    tags: ['webhooks'],
    params: jobIdParams,
    body: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        target: { type: 'string', pattern: TARGET_PATTERN, description: '`callback` or a global webhook id; all targets when absent.' },
        reason: reasonSchema,
      },
    },
    response: { 202: { type: 'null', description: 'Accepted: the deliverer sends it shortly; see GET /jobs/{id}/deliveries.' }, ...errorResponses },
  },
} as const;
