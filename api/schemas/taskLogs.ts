/**
 * Schema of `GET /jobs/:id/tasks/:taskId/logs`. Querystring values are strings (no coercion): the
 * patterns admit exactly the valid values and the handler converts them. The task id is checked by
 * the handler (its error names a task id, not a UUID).
 */
import { JOB_ID_PATTERN, errorResponses } from './common.ts';
import { SEQ_PATTERN } from './events.ts';

export const taskLogParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'taskId'],
  properties: {
    id: { type: 'string', pattern: JOB_ID_PATTERN },
    taskId: { type: 'string', description: 'A task id as `GET /jobs/:id/tasks` lists it: `t00000`…, or `s000000`… / `r000000`… (Teraslice slices).' },
  },
} as const;

export const taskLogQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    stream: { type: 'string', enum: ['stdout', 'stderr'], description: 'Only this stream; default both, in the order written.' },
    attempt: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'Attempt number (from 1); default the newest with output or an end.' },
    tail: { type: 'string', pattern: '^[0-9]{1,9}$', description: 'At most this many bytes of text, from the end.' },
    follow: { type: 'string', enum: ['true', 'false'], description: '`true`: keep the response open and send new output until the attempt ends.' },
    after: { type: 'string', pattern: SEQ_PATTERN, description: 'Only what was stored after this `seq` (resume a follow; `tail` is then ignored).' },
  },
} as const;

const body = { type: 'string' } as const;

export const taskLogRouteSchemas = {
  logs: {
    summary: "A task's output (stdout/stderr of script and exec tasks)",
    tags: ['jobs'],
    params: taskLogParams,
    querystring: taskLogQuerystring,
    response: {
      200: {
        description:
          'text/plain: the text of the chunks, concatenated. With `Accept: application/x-ndjson`: one JSON object a line, ' +
          '`{"type":"chunk","seq","attempt","stream","text","at"}` and last `{"type":"end","seq","attempt","reason","exitCode","droppedBytes","at"}`. ' +
          'Without follow the headers `x-log-attempt`, `x-log-truncated`, `x-log-last-seq` and, once the attempt ended, `x-log-end-reason` and `x-log-exit-code` describe the read.',
        content: { 'text/plain': { schema: body }, 'application/x-ndjson': { schema: body } },
      },
      ...errorResponses,
    },
  },
} as const;
