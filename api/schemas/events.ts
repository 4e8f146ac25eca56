/**
 * Schemas of the live event routes (Server-Sent Events). The 200 body is a `text/event-stream`;
 * each message is `id: <stream seq>`, `event: snapshot | <event type>`, `data: <JSON>`.
 */
import { errorResponses, jobIdParams } from './common.ts';

/** A stream sequence in a querystring or the Last-Event-ID header: digits only. */
export const SEQ_PATTERN = '^[0-9]{1,15}$';

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'string', pattern: SEQ_PATTERN, description: 'Resume after this stream sequence (like Last-Event-ID; the header wins).' },
  },
} as const;

const stream = {
  description:
    'Server-Sent Events. Without Last-Event-ID / ?after: first `event: snapshot` (data {kind, seq, jobs, truncated}), then one message per event ' +
    '(`event: <type>`, data {kind, seq, jobId, subject, type, data, meta, job}). `id` is the stream sequence; `: keep-alive` comments every 15 s; ' +
    'an `event: error` message ends a stream that fell behind (reconnect with Last-Event-ID).',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
} as const;

export const eventRouteSchemas = {
  job: {
    summary: 'Live events of one job (SSE)',
    tags: ['events'],
    params: jobIdParams,
    querystring,
    response: { 200: stream, ...errorResponses },
  },
  all: {
    summary: 'Live events of every job the caller may see (SSE)',
    tags: ['events'],
    querystring,
    response: { 200: stream, ...errorResponses },
  },
} as const;
