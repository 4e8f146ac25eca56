/** Schema of `GET /overview`: the dashboard's service-wide figures (engine/activity/activityRecorder.ts). */
import { JOB_STATES } from '../../actors/events.ts';
import { vcStatusSchema } from './auth.ts';
import { errorResponses } from './common.ts';

const int = { type: 'integer' } as const;
const nullableInt = { type: ['integer', 'null'] } as const;

const sampleProperties = {
  at: { type: 'string', description: 'Start of the interval.' },
  waiting: { ...nullableInt, description: 'WAITING jobs at the end of the interval; null before this API process followed the stream.' },
  active: { ...nullableInt, description: 'RUNNING, PAUSED and VERIFYING jobs at the end of the interval; null as `waiting`.' },
  succeeded: int, failed: int, stopped: int, tasksSucceeded: int, tasksFailed: int,
} as const;

const overviewProperties = {
  at: { type: 'string' },
  bucketMs: { ...int, description: 'Length of one interval of `series`.' },
  windowMs: { ...int, description: 'How far back `series` reaches.' },
  counts: {
    type: 'object', additionalProperties: false, required: [...JOB_STATES],
    properties: Object.fromEntries(JOB_STATES.map((s) => [s, int])),
    description: 'Jobs by state, service-wide.',
  },
  series: {
    type: 'array',
    description: 'One entry per interval, oldest first, the interval under way last: jobs finished and task outcomes in it (by their events\' times), queue depth and jobs holding a slot at its end. Kept in this API process\'s memory: empty after its restart, and it fills again from the records it replays.',
    items: { type: 'object', additionalProperties: false, required: Object.keys(sampleProperties), properties: sampleProperties },
  },
  waits: {
    type: ['object', 'null'], additionalProperties: false, required: ['count', 'meanMs', 'p50Ms', 'p95Ms', 'maxMs'],
    properties: { count: int, meanMs: int, p50Ms: int, p95Ms: int, maxMs: int },
    description: 'Queue waits (submission to first claim) of the jobs first claimed in the window; null when none was.',
  },
  oldestWaitingMs: { ...int, description: 'How long the longest-waiting WAITING job has waited; 0 when none waits.' },
  coordinators: {
    type: 'array',
    items: {
      type: 'object', additionalProperties: false, required: ['id', 'alive', 'lastSeenMs'],
      properties: { id: { type: 'string' }, alive: { type: 'boolean' }, lastSeenMs: { ...int, description: 'Since its heartbeat last changed, as this process saw it.' } },
    },
  },
  workers: {
    type: 'object', additionalProperties: false, required: ['registered', 'alive'],
    properties: { registered: { ...int, description: 'Workers that have not left.' }, alive: int },
  },
  virtualClusters: { type: 'array', items: vcStatusSchema, description: 'The virtual clusters you may use, as `GET /virtual-clusters`.' },
} as const;

export const overviewResponseSchema = {
  type: 'object', additionalProperties: false, required: Object.keys(overviewProperties), properties: overviewProperties,
} as const;

export const overviewRouteSchemas = {
  overview: {
    tags: ['system'],
    description: 'Service-wide figures for a dashboard: jobs by state, what happened over the last minutes, queue waits, coordinator and worker health, virtual-cluster usage. Aggregates only (no job ids, names or owners), like the virtual clusters\' counts.',
    response: { 200: overviewResponseSchema, ...errorResponses },
  },
} as const;
