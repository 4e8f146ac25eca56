/**
 * Schemas of the job routes (`/jobs...`). Request schemas reject unknown fields and wrong types
 * (Ajv runs without coercion); response schemas list every field so nothing extra is serialized.
 */
import { JOB_STATES } from '../../actors/events.ts';
import { EXPLAIN_REASONS, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, MAX_AS_OF_CHARS, MAX_LABELS, MAX_PARALLELISM, USER_NAME_RE } from '../../engine/index.ts';
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

/** Virtual cluster names (the control store's NAME_RE). */
export const NAME_PATTERN = '^[a-z][a-z0-9_-]{0,31}$';

/** A virtual cluster name. */
export const nameSchema = { type: 'string', pattern: NAME_PATTERN } as const;

/** A user name (the control store's USER_NAME_RE: upper-case letters too). */
export const userNameSchema = { type: 'string', pattern: USER_NAME_RE.source } as const;

/**
 * Free text written to the history (`meta.reason`): any Unicode except C0/C1 control characters,
 * line/paragraph separators, zero-width and bidi controls (which could make a log line lie).
 */
export const REASON_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ufeff]{1,500}$';

/** A reason, 1..500 characters. */
export const reasonSchema = { type: 'string', minLength: 1, maxLength: 500, pattern: REASON_PATTERN } as const;

/** Longest stop grace period a client may ask for (1 h). */
export const MAX_STOP_GRACE_MS = 3_600_000;

const stateAlternatives = `(?:${JOB_STATES.join('|')})`;

// ---------- requests ----------

const parallelismSchema = {
  type: 'integer', minimum: 1, maximum: MAX_PARALLELISM,
  description: 'Most tasks of the job in flight at once; absent: only the dispatch window limits it. Changed later with POST /jobs/:id/parallelism.',
} as const;

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
    virtualCluster: { ...nameSchema, description: 'Virtual cluster (quota pool); default `default`.' },
    // Checked further by the engine (http/https, no credentials, no fragment).
    callbackUrl: { type: 'string', minLength: 1, maxLength: 2048, description: 'Notified (signed POST) on every terminal state.' },
    callbackFormat: { enum: ['job', 'spark'], description: "The callback's body: `job` (default) `{deliveryId, event, seq, job}`; `spark` Spark Jobserver's `{jobId, result}` (docs/compat/spark.md)." },
    labels: {
      type: 'object',
      maxProperties: MAX_LABELS,
      propertyNames: { pattern: LABEL_KEY_PATTERN },
      additionalProperties: { type: 'string', pattern: LABEL_VALUE_PATTERN },
      description: `Up to ${MAX_LABELS} labels (key → value) to select the job by: \`GET /jobs?label=key=value\`.`,
    },
    parallelism: parallelismSchema,
  },
} as const;

/** `POST /jobs` headers. Not `additionalProperties: false`: every request carries other headers. */
export const submitHeaders = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', pattern: VISIBLE_ASCII_PATTERN } },
} as const;

/** A command body that is `null` (no body: `curl -X POST` works) or an object with these properties. */
function commandBody<P extends Record<string, unknown>>(properties: P) {
  return { type: ['object', 'null'], additionalProperties: false, properties: { reason: reasonSchema, ...properties } } as const;
}

/** `POST /jobs/:id/{pause,resume,rerun,activate,deactivate}` body. */
export const actionBody = commandBody({});

/** `POST /jobs/:id/stop` body. */
export const stopBody = commandBody({
  graceMs: { type: 'integer', minimum: 0, maximum: MAX_STOP_GRACE_MS, description: 'Time tasks in flight get before the stop is forced; default from the server config.' },
  force: { type: 'boolean', description: 'Stop at once, abandoning tasks in flight.' },
});

/** `POST /jobs/:id/parallelism` body. */
export const parallelismBody = {
  type: 'object', additionalProperties: false, required: ['parallelism'],
  properties: { reason: reasonSchema, parallelism: { anyOf: [parallelismSchema, { type: 'null' }], description: 'null: no limit of the job\'s own.' } },
} as const;

/** `POST /jobs/:id/recover` body. */
export const recoverBody = commandBody({
  mode: { type: 'string', enum: ['failed', 'notSucceeded'], description: '`failed` (default): re-run failed tasks; `notSucceeded`: also tasks with failed items.' },
});

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
    q: {
      type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x20-\\x7e]{1,200}$',
      description: 'Search: only jobs whose id, name, type or owner contains this text (case-insensitive; printable ASCII).',
    },
    label: {
      type: 'string', minLength: 2, maxLength: 4500, pattern: VISIBLE_ASCII_PATTERN,
      description: 'Comma-separated `key=value` pairs: only jobs carrying all of them.',
    },
    limit: {
      type: 'string',
      pattern: '^(?:[1-9][0-9]{0,2}|1000)$',
      default: String(DEFAULT_LIST_LIMIT),
      description: 'Integer 1..1000.',
    },
    cursor: { type: 'string', pattern: VISIBLE_ASCII_PATTERN, description: 'Opaque; from nextCursor.' },
    owner: { ...userNameSchema, description: 'Only jobs of this user (admins; others only ever see their own).' },
    virtualCluster: nameSchema,
    active: { type: 'string', enum: ['true', 'false', 'all'], default: 'true', description: 'Active flag; `true` (default) hides inactive jobs.' },
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
  submitSeq: {
    type: 'integer', minimum: 1,
    description: "Stream sequence of the job's JobSubmitted: unique, never reused, kept through compaction; the job's number where a facade needs one.",
  },
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
    properties: { code: { type: 'string' }, message: { type: 'string' }, details: { description: 'Structured detail from the job type (a `script` job: `message`, `errorClass`, `stack`).' } },
  },
  summary: { description: 'Type-specific result; any JSON.' },
  reclaims: { type: 'integer' },
  virtualCluster: { type: 'string' },
  active: { type: 'boolean' },
  stopRequested: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['graceMs', 'deadline'],
    properties: { graceMs: { type: 'integer' }, deadline: { type: 'string' } },
    description: 'Set when a cooperative stop was requested: tasks in flight got until `deadline`. Stays set on the STOPPED job; cleared by recover.',
  },
  rerunOf: { type: ['string', 'null'] },
  callbackUrl: { type: ['string', 'null'] },
  callbackFormat: { enum: ['job', 'spark'] },
  labels: { type: 'object', additionalProperties: { type: 'string' } },
  parallelism: { type: ['integer', 'null'] },
  planOpen: { type: 'boolean', description: 'The job type makes more tasks as they are needed; such a job does not finish by itself while it is open.' },
  recoveries: { type: 'integer' },
  retries: { type: 'integer', description: 'Times the job ran again as a whole (every task a new attempt) because its type allows it: an `exec` job\'s `jobRetryCount`.' },
  compacted: { type: 'boolean', description: 'Retention compacted the history: no task detail is left.' },
  pauseRequested: { type: 'boolean', description: 'A WAITING job (a paused job requeued after its owner was lost) that is PAUSED once claimed; `POST /jobs/:id/resume` clears it. False in every other state.' },
  origin: {
    type: ['string', 'null'],
    description: 'The API the job was submitted through: `native` (this API, the CLI) or a facade (`alluxio`, `teraslice`, `spark`, `openpai`); null for jobs from before it was recorded and those the engine submits.',
  },
} as const;

/** A task's error (code, message, retryable), or null. */
const taskError = {
  type: ['object', 'null'], additionalProperties: false, required: ['code', 'message', 'retryable'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } },
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
          error: taskError,
        },
      },
    },
  },
} as const;

/** `GET /jobs/:id/tasks`: a TaskView per planned task, in plan order. */
export const tasksSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['jobId', 'tasks', 'truncated'],
  properties: {
    jobId: { type: 'string' },
    tasks: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['taskId', 'index', 'state', 'attempts', 'lastUpdated', 'worker', 'error', 'items', 'bytes'],
        properties: {
          taskId: { type: 'string' },
          index: { type: 'integer', description: 'Position in the plan, from 0.' },
          state: {
            type: 'string', enum: ['pending', 'running', 'succeeded', 'failed'],
            description: 'A task that is not final is `running` while the job is RUNNING (dispatched, queued or awaiting a retry), else `pending`.',
          },
          attempts: { type: 'integer', description: 'Attempts that reported an outcome.' },
          firstAttempt: { type: 'integer', description: "The first attempt number of the task's current run: 1, or after a recovery or a job retry the number its attempts start again from." },
          lastUpdated: { type: ['string', 'null'], description: 'Time of the last outcome (ISO-8601).' },
          worker: { type: ['string', 'null'], description: 'Worker that reported the last outcome.' },
          error: taskError,
          items: { type: 'integer' },
          bytes: { type: 'integer' },
          output: { description: "The job type's own account of a final task (an `exec` instance: `{role, index, exitCode, signal, end, durationMs, stderrTail?}`); null otherwise." },
        },
      },
    },
    truncated: { type: 'boolean', description: 'True when the job has more tasks than the 10,000 listed.' },
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

// ---------- time travel and explain ----------

/**
 * `GET /jobs/:id` and `/history` querystring: `asOf`. Other parameters stay allowed (as before asOf
 * existed: a cache-busting `_=` must not turn into a 400); the handler parses `asOf` strictly.
 */
export const asOfQuerystring = {
  type: 'object',
  properties: {
    asOf: {
      type: 'string', minLength: 1, maxLength: MAX_AS_OF_CHARS,
      description: 'The job as it was at this moment: a stream sequence (a positive integer, the `seq` of a history entry) or an ISO-8601 time with a zone (`2026-12-05T17:00:00Z`), compared with the records\' server times.',
    },
  },
} as const;

const asOfInfoSchema = {
  type: 'object', additionalProperties: false,
  required: ['requested', 'seq', 'time', 'exact', 'compactedAt', 'note'],
  properties: {
    requested: { type: 'string', description: 'The `asOf` as given.' },
    seq: { type: 'integer', description: "The job's last record at that moment: what the answer is folded to." },
    time: { type: 'string', description: "That record's server time." },
    exact: { type: 'boolean', description: 'False when the job was compacted after that moment: the answer is its compacted snapshot, not its state then.' },
    compactedAt: {
      type: ['object', 'null'], additionalProperties: false, required: ['seq', 'time'],
      properties: { seq: { type: 'integer' }, time: { type: 'string' } },
      description: "The compaction record: the job's history before it is gone. Null when not compacted.",
    },
    note: { type: ['string', 'null'], description: 'Plain words for a client to show when `exact` is false.' },
  },
  description: 'Present when `asOf` was given: what the answer holds to.',
} as const;

/** A JobView, with `asOf` when one was asked for. */
export const jobViewAsOfSchema = { ...jobViewSchema, properties: { ...jobViewProperties, asOf: asOfInfoSchema } } as const;

/** `{ events, asOf? }`. */
export const historyAsOfSchema = { ...historySchema, properties: { ...historySchema.properties, asOf: asOfInfoSchema } } as const;

const nullableInt = { type: ['integer', 'null'] } as const;
const shareViewSchema = {
  type: ['object', 'null'], additionalProperties: false, required: ['name', 'guaranteed', 'max', 'used'],
  properties: {
    name: { type: 'string', description: "The VC whose share counts: the job's own, or `default` for a VC that is not defined." },
    guaranteed: count, max: count, used: count,
  },
} as const;

/** `GET /jobs/:id/explain`: a JobExplanation. */
export const explainSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['jobId', 'state', 'at', 'summary', 'reasons', 'virtualCluster', 'queue', 'quota', 'capacity', 'coordinators', 'workers', 'paused', 'tasks', 'window', 'stop', 'lastReason'],
  properties: {
    jobId: { type: 'string' },
    state: jobState,
    at: { type: 'string', description: "When the answer was made (the server's clock)." },
    summary: { type: 'string', description: "The first reason's message." },
    reasons: {
      type: 'array',
      description: 'Everything that holds the job back, most decisive first.',
      items: {
        type: 'object', additionalProperties: false, required: ['code', 'message'],
        properties: { code: { type: 'string', enum: [...EXPLAIN_REASONS] }, message: { type: 'string' } },
      },
    },
    virtualCluster: { type: 'string' },
    queue: {
      type: ['object', 'null'], additionalProperties: false, required: ['position', 'waitingInVc', 'higherPriorityAhead', 'priority', 'claimRank'],
      description: 'A WAITING job: its place in its VC\'s queue, and how many jobs the cluster would claim before it.',
      properties: {
        position: count, waitingInVc: count, higherPriorityAhead: count, priority: count,
        claimRank: { ...nullableInt, description: 'Jobs claimed before it in the claim order over every VC\'s share; null: its VC\'s max share fills up first.' },
      },
    },
    quota: { ...shareViewSchema, description: "A WAITING job: its VC's running-job slots (guaranteed, max, used)." },
    capacity: {
      type: ['object', 'null'], additionalProperties: false, required: ['runningJobCapacity', 'liveCoordinators', 'totalSlots', 'activeJobs', 'freeSlots'],
      properties: { runningJobCapacity: count, liveCoordinators: count, totalSlots: count, activeJobs: count, freeSlots: count },
      description: "A WAITING job: the cluster's running-job slots.",
    },
    coordinators: {
      type: 'object', additionalProperties: false, required: ['live', 'owner', 'ownerAlive'],
      properties: { live: count, owner: { type: ['string', 'null'] }, ownerAlive: { type: ['boolean', 'null'] } },
    },
    workers: { type: 'object', additionalProperties: false, required: ['live'], properties: { live: count } },
    paused: {
      type: ['object', 'null'], additionalProperties: false, required: ['by', 'at', 'reason'],
      properties: { by: { type: 'string' }, at: { type: 'string' }, reason: { type: ['string', 'null'] } },
    },
    tasks: {
      type: ['object', 'null'], additionalProperties: false,
      required: ['total', 'succeeded', 'failed', 'notFinal', 'inFlight', 'runningOnWorkers', 'retrying', 'nextRetryAt', 'parallelism', 'planOpen'],
      description: 'An owned job (RUNNING, PAUSED, VERIFYING): its tasks, with what its owner reported at its last heartbeat (null: no report).',
      properties: {
        total: count, succeeded: count, failed: count, notFinal: count, inFlight: nullableInt, runningOnWorkers: count,
        retrying: nullableInt, nextRetryAt: nullableTime, parallelism: nullableInt, planOpen: { type: 'boolean' },
      },
    },
    window: {
      type: ['object', 'null'], additionalProperties: false, required: ['maxTasksPerWorker', 'liveWorkers', 'limit', 'inFlight', 'share'],
      description: "An owned job: its owner's dispatch window (maxTasksPerWorker × live workers) and the job's VC's share of it.",
      properties: { maxTasksPerWorker: count, liveWorkers: count, limit: count, inFlight: nullableInt, share: shareViewSchema },
    },
    stop: { type: ['object', 'null'], additionalProperties: false, required: ['deadline'], properties: { deadline: { type: 'string' } } },
    lastReason: { type: ['string', 'null'], description: "The reason of the job's latest lifecycle event that had one." },
  },
} as const;

// ---------- route schemas ----------

/** Route schemas, keyed by route. */
const countOf = (description: string) => ({ type: 'integer', description }) as const;

/** `POST /jobs:plan` answer (SubmissionPlan): what a submission would record and the tasks it would be planned into. */
export const submissionPlanSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['request', 'planOpen', 'tasksTotal', 'itemsTotal', 'bytesTotal', 'tasks', 'truncated'],
  properties: {
    request: { type: 'object', additionalProperties: true, description: 'The request as POST /jobs would record it: defaults filled in, with `virtualCluster` and `owner`.' },
    planOpen: { type: 'boolean', description: 'The type slices as it goes: these are its first tasks only.' },
    tasksTotal: countOf('Tasks planned.'),
    itemsTotal: countOf('Items (files) they cover.'),
    bytesTotal: countOf('Bytes they cover.'),
    tasks: {
      type: 'array',
      description: 'The first 1000 tasks in plan order.',
      items: {
        type: 'object', additionalProperties: false, required: ['taskId', 'items', 'bytes'],
        properties: { taskId: { type: 'string' }, items: count, bytes: count },
      },
    },
    truncated: { type: 'boolean', description: 'More tasks were planned than `tasks` lists.' },
  },
} as const;

export const jobRouteSchemas = {
  submit: {
    body: submitBody,
    headers: submitHeaders,
    response: { 200: jobViewSchema, 201: jobViewSchema, ...errorResponses },
  },
  plan: {
    description: 'A dry run of POST /jobs: validates the body as a submission (the same errors), plans it with its job type as a coordinator would, and writes nothing.',
    body: submitBody,
    response: { 200: submissionPlanSchema, ...errorResponses },
  },
  list: { querystring: listQuerystring, response: { 200: listResponseSchema, ...errorResponses } },
  get: { params: jobIdParams, querystring: asOfQuerystring, response: { 200: jobViewAsOfSchema, ...errorResponses } },
  explain: { params: jobIdParams, response: { 200: explainSchema, ...errorResponses } },
  progress: { params: jobIdParams, response: { 200: progressViewSchema, ...errorResponses } },
  history: { params: jobIdParams, querystring: asOfQuerystring, response: { 200: historyAsOfSchema, ...errorResponses } },
  failures: { params: jobIdParams, response: { 200: failuresSchema, ...errorResponses } },
  tasks: { params: jobIdParams, response: { 200: tasksSchema, ...errorResponses } },
  action: { params: jobIdParams, body: actionBody, response: { 200: jobViewSchema, ...errorResponses } },
  stop: { params: jobIdParams, body: stopBody, response: { 200: jobViewSchema, ...errorResponses } },
  recover: { params: jobIdParams, body: recoverBody, response: { 200: jobViewSchema, ...errorResponses } },
  parallelism: { params: jobIdParams, body: parallelismBody, response: { 200: jobViewSchema, ...errorResponses } },
  rerun: { params: jobIdParams, body: actionBody, response: { 201: jobViewSchema, ...errorResponses } },
} as const;
