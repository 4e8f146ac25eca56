/**
 * An in-memory JobService for HTTP-layer tests only (integration tests use the real engine).
 * Honest where the API can tell: submit creates WAITING jobs owned by the caller, idempotency by
 * key + body, commands follow the job state rules, unknown ids and other users' jobs (for
 * non-admins) are JOB_NOT_FOUND; a job's `submitSeq` is the seq of its JobSubmitted in the fake
 * history (one counter for all jobs); a job has no tasks unless `setTasks` gives it some. Switches:
 * `unavailable` (every call throws UNAVAILABLE, as when NATS is down), `crash` (every call throws
 * that error, as a bug would), `ready`.
 */
import type { JobState } from '../../actors/events.ts';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { AppError } from '../../engine/errors.ts';
import type {
  AsOf,
  AsOfInfo,
  By,
  Caller,
  HistoryEntry,
  JobService,
  JobView,
  ListQuery,
  ProgressView,
  ServiceInfo,
  SubmitRequest,
  TaskView,
  WorkerView,
} from '../../engine/serviceTypes.ts';

/** The double plus its switches and a back door into job state. */
export interface FakeJobService extends JobService {
  /** Every call throws AppError('UNAVAILABLE'). */
  unavailable: boolean;
  /** Every call throws this error (an engine bug); `null` for normal behaviour. */
  crash: Error | null;
  /** What readiness() reports. */
  ready: boolean;
  /** Moves a job to `state` without rules (e.g. to SUCCEEDED, which only the engine can do). */
  setState(id: string, state: JobState): void;
  /** Gives a job the tasks `tasks()` answers (as a planned job's would be). */
  setTasks(id: string, tasks: TaskView[]): void;
  /** The calls made, newest last (method name and the By / Caller / options passed). */
  readonly calls: { method: string; args: unknown[] }[];
}

/** Options of {@link createFakeJobService}. */
export interface FakeJobServiceOptions {
  /** @defaultValue a fixed clock at 2025-01-01T00:00:00Z that advances 1 s per call */
  now?: () => Date;
}

/** Job types the double knows. */
export const FAKE_JOB_TYPES = [
  { name: 'sleep', specSchema: { type: 'object', properties: { ms: { type: 'integer', minimum: 0 } } } },
  { name: 'noop', specSchema: { type: 'object' } },
];

const WORKERS: WorkerView[] = [
  { id: 'w-1', pool: 'default', state: 'ACTIVE', concurrency: 4, host: 'host-a', pid: 101, alive: true, registeredAt: '2025-01-01T00:00:00.000Z', tasks: [] },
];

const VIRTUAL_CLUSTERS = [
  { name: 'default', capacity: 70, maxCapacity: 100 },
  { name: 'gpu', capacity: 30, maxCapacity: 50 },
];

const INFO: ServiceInfo = {
  name: 'jetjobs',
  version: '0.0.0-test',
  roles: ['api'],
  nats: { url: '(external)', embedded: false, syncInterval: null },
  dataDir: '/tmp/fake',
  limits: { runningJobCapacity: 10, waitingJobCapacity: 100 },
  jobTypes: FAKE_JOB_TYPES.map((t) => t.name),
};

/** Canonical JSON (sorted keys), so key order does not change a request's identity. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The fake's time travel: the history entries up to `asOf` (the fake's jobs themselves do not change back). */
function fakeAsOf(entries: readonly HistoryEntry[], asOf: AsOf): { events: HistoryEntry[]; info: AsOfInfo } {
  const events = structuredClone(entries.filter((e) => (asOf.kind === 'seq' ? e.seq <= asOf.seq : Date.parse(e.time) <= asOf.ms)));
  const last = events[events.length - 1];
  return { events, info: { requested: asOf.text, seq: last?.seq ?? 0, time: last?.time ?? '', exact: true, compactedAt: null, note: null } };
}

/** Deterministic UUIDs: 00000000-0000-4000-8000-000000000001, ...2, ... */
function uuidFor(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Creates an empty double. */
export function createFakeJobService(opts: FakeJobServiceOptions = {}): FakeJobService {
  let tick = 0;
  const now = opts.now ?? (() => new Date(Date.UTC(2025, 0, 1) + 1000 * tick++));
  const jobs = new Map<string, JobView>();
  const history = new Map<string, HistoryEntry[]>();
  const tasks = new Map<string, TaskView[]>();
  const byKey = new Map<string, { requestHash: string; id: string }>();
  const calls: { method: string; args: unknown[] }[] = [];
  let seq = 0;

  const fake: FakeJobService = {
    unavailable: false,
    crash: null,
    ready: true,
    calls,

    setState(id, state) {
      const job = mustGet(id);
      job.state = state;
      if (TERMINAL_STATES.has(state)) job.finishedAt = now().toISOString();
    },

    setTasks(id, list) {
      mustGet(id);
      tasks.set(id, structuredClone(list));
    },

    async submit(req: SubmitRequest, by: By & { idempotencyKey?: string }) {
      enter('submit', req, by);
      const vc = req.virtualCluster ?? 'default';
      if (!VIRTUAL_CLUSTERS.some((v) => v.name === vc)) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `No virtual cluster ${vc}.`);
      if (by.caller.role !== 'admin' && vc !== 'default' && !by.caller.virtualClusters.includes(vc)) {
        throw new AppError('VIRTUAL_CLUSTER_FORBIDDEN', `No access to virtual cluster ${vc}.`);
      }
      if (!FAKE_JOB_TYPES.some((t) => t.name === req.type)) {
        throw new AppError('UNKNOWN_JOB_TYPE', `Unknown job type "${req.type}"; known: ${FAKE_JOB_TYPES.map((t) => t.name).join(', ')}.`);
      }
      const requestHash = canonical(req);
      const key = by.idempotencyKey === undefined ? undefined : `${by.caller.user}\0${by.idempotencyKey}`;
      if (key !== undefined) {
        const earlier = byKey.get(key);
        if (earlier !== undefined) {
          if (earlier.requestHash !== requestHash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
          return { job: view(mustGet(earlier.id)), created: false };
        }
      }
      const id = uuidFor(jobs.size + 1);
      const job: JobView = {
        id,
        submitSeq: 0, // set by record() below
        type: req.type,
        name: req.name ?? req.type,
        state: 'WAITING',
        priority: req.priority ?? 0,
        owner: by.caller.user,
        spec: structuredClone(req.spec),
        epoch: 0,
        coordinatorId: null,
        submittedAt: now().toISOString(),
        startedAt: null,
        finishedAt: null,
        progress: { tasksTotal: 0, tasksSucceeded: 0, tasksFailed: 0, itemsTotal: 0, itemsDone: 0, itemsFailed: 0, bytesTotal: 0, bytesDone: 0 },
        error: null,
        summary: null,
        reclaims: 0,
        virtualCluster: vc,
        active: true,
        stopRequested: null,
        rerunOf: null,
        callbackUrl: req.callbackUrl ?? null,
        callbackFormat: req.callbackFormat ?? 'job',
        labels: { ...req.labels },
        parallelism: req.parallelism ?? null,
        planOpen: false,
        recoveries: 0,
        retries: 0,
        compacted: false,
        origin: by.origin ?? null,
        pauseRequested: false,
      };
      jobs.set(id, job);
      if (key !== undefined) byKey.set(key, { requestHash, id });
      job.submitSeq = record(id, 'JobSubmitted', { type: req.type, name: job.name }, by);
      return { job: view(job), created: true };
    },

    checkSubmission(req: SubmitRequest, caller: Caller) {
      const vc = req.virtualCluster ?? 'default';
      if (!VIRTUAL_CLUSTERS.some((v) => v.name === vc)) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `No virtual cluster ${vc}.`);
      if (caller.role !== 'admin' && vc !== 'default' && !caller.virtualClusters.includes(vc)) throw new AppError('VIRTUAL_CLUSTER_FORBIDDEN', `No access to virtual cluster ${vc}.`);
      if (!FAKE_JOB_TYPES.some((t) => t.name === req.type)) throw new AppError('UNKNOWN_JOB_TYPE', `Unknown job type "${req.type}".`);
    },

    async planSubmission(req: SubmitRequest, caller: Caller) {
      this.checkSubmission(req, caller);
      return { request: { ...req, owner: caller.user }, planOpen: false, tasksTotal: 1, itemsTotal: 0, bytesTotal: 0, tasks: [{ taskId: 't00000', items: 0, bytes: 0 }], truncated: false };
    },

    // Each item as submit alone (a key used earlier in the batch finds that item's job); AppErrors are items' results.
    async submitMany(items, by) {
      const results = [];
      for (const item of items) {
        try {
          const r = await fake.submit(item.req, { ...by, ...(item.idempotencyKey === undefined ? {} : { idempotencyKey: item.idempotencyKey }) });
          results.push({ ok: true as const, ...r });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          results.push({ ok: false as const, error: err });
        }
      }
      return results;
    },

    async get(id, caller) {
      enter('get', id, caller);
      return view(mustGet(id, caller));
    },

    async getBySubmitSeq(submitSeq, caller) {
      enter('getBySubmitSeq', submitSeq, caller);
      const job = [...jobs.values()].find((j) => j.submitSeq === submitSeq);
      return view(mustGet(job?.id ?? String(submitSeq), caller));
    },

    async list(q: ListQuery, caller: Caller) {
      enter('list', q, caller);
      const offset = q.cursor === undefined ? 0 : decodeCursor(q.cursor);
      const active = q.active ?? true;
      const matching = [...jobs.values()].filter(
        (j) =>
          visible(j, caller) &&
          (q.state === undefined || q.state.includes(j.state)) &&
          (q.type === undefined || j.type === q.type) &&
          (q.name === undefined || j.name === q.name) &&
          (q.labels === undefined || Object.entries(q.labels).every(([k, v]) => j.labels[k] === v)) &&
          (q.owner === undefined || j.owner === q.owner) &&
          (q.virtualCluster === undefined || j.virtualCluster === q.virtualCluster) &&
          (active === 'all' || j.active === active),
      );
      const page = matching.slice(offset, offset + q.limit);
      const next = offset + page.length;
      return { jobs: page.map(view), nextCursor: next < matching.length ? Buffer.from(String(next)).toString('base64url') : null };
    },

    async stop(id, by) {
      enter('stop', id, by);
      return transition(id, by, 'stop', 'JobStopped', 'STOPPED', ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING']);
    },

    async recover(id, by) {
      enter('recover', id, by);
      const job = mustGet(id, by.caller);
      if (!job.active) throw new AppError('INVALID_TRANSITION', 'Cannot recover an inactive job.');
      const v = transition(id, by, 'recover', 'JobRecovered', 'WAITING', ['FAILED', 'STOPPED'], false);
      job.finishedAt = null;
      job.recoveries++;
      return { ...v, finishedAt: null, recoveries: job.recoveries };
    },

    async rerun(id, by) {
      enter('rerun', id, by);
      const job = mustGet(id, by.caller);
      if (!TERMINAL_STATES.has(job.state) || !job.active) throw new AppError('INVALID_TRANSITION', `Cannot rerun a job in state ${job.state}.`);
      const n = uuidFor(jobs.size + 1);
      const copy: JobView = { ...structuredClone(job), id: n, state: 'WAITING', submittedAt: now().toISOString(), finishedAt: null, rerunOf: id, recoveries: 0 };
      jobs.set(n, copy);
      copy.submitSeq = record(n, 'JobSubmitted', { type: copy.type, name: copy.name, rerunOf: id }, by);
      return view(copy);
    },

    async setActive(id, active, by) {
      enter('setActive', id, active, by);
      const job = mustGet(id, by.caller);
      if (!TERMINAL_STATES.has(job.state)) throw new AppError('INVALID_TRANSITION', `Cannot (de)activate a job in state ${job.state}.`);
      if (job.active !== active) {
        job.active = active;
        record(id, 'JobActiveSet', { active }, by);
      }
      return view(job);
    },

    async setParallelism(id, parallelism, by) {
      enter('setParallelism', id, parallelism, by);
      const job = mustGet(id, by.caller);
      if (TERMINAL_STATES.has(job.state)) throw new AppError('INVALID_TRANSITION', `Cannot change the parallelism of a job in state ${job.state}.`);
      if (job.parallelism !== parallelism) {
        job.parallelism = parallelism;
        record(id, 'ParallelismSet', { parallelism }, by);
      }
      return view(job);
    },

    async pause(id, by) {
      enter('pause', id, by);
      return transition(id, by, 'pause', 'JobPaused', 'PAUSED', ['WAITING', 'RUNNING']);
    },

    async resume(id, by) {
      enter('resume', id, by);
      // Resume puts the job back in the queue; a coordinator claims it again.
      return transition(id, by, 'resume', 'JobResumed', 'WAITING', ['PAUSED'], false);
    },

    async progress(id, caller): Promise<ProgressView> {
      enter('progress', id, caller);
      const job = mustGet(id, caller);
      return { ...job.progress, jobId: id, state: job.state, throughputBytesPerSec: 0, elapsedMs: 0, failures: [] };
    },

    async failures(id, caller) {
      enter('failures', id, caller);
      const job = mustGet(id, caller);
      return { jobId: id, state: job.state, itemsFailed: job.progress.itemsFailed, tasksFailed: job.progress.tasksFailed, items: [], truncated: false, tasks: [] };
    },

    async tasks(id, caller) {
      enter('tasks', id, caller);
      const job = mustGet(id, caller);
      return job.compacted ? [] : structuredClone(tasks.get(id) ?? []);
    },

    async plan(id, caller) {
      enter('plan', id, caller);
      const job = mustGet(id, caller);
      const planned = job.compacted ? [] : structuredClone(tasks.get(id) ?? []);
      return { open: job.planOpen, cursor: null, tasks: planned.map((t) => ({ ...t, payload: null })) };
    },

    async history(id, caller) {
      enter('history', id, caller);
      mustGet(id, caller);
      return structuredClone(history.get(id) ?? []);
    },

    async getAsOf(id, caller, asOf) {
      enter('getAsOf', id, caller, asOf);
      const job = mustGet(id, caller);
      const at = fakeAsOf(history.get(id) ?? [], asOf);
      return { ...view(job), asOf: at.info };
    },

    async historyAsOf(id, caller, asOf) {
      enter('historyAsOf', id, caller, asOf);
      mustGet(id, caller);
      const at = fakeAsOf(history.get(id) ?? [], asOf);
      return { events: at.events, asOf: at.info };
    },

    async explain(id, caller) {
      enter('explain', id, caller);
      const job = mustGet(id, caller);
      const message = `The fake service holds ${job.state} jobs as they are.`;
      return {
        jobId: id, state: job.state, at: now().toISOString(), summary: message, reasons: [{ code: 'CLAIM_DUE', message }],
        virtualCluster: job.virtualCluster, queue: null, quota: null, capacity: null,
        coordinators: { live: 1, owner: job.coordinatorId, ownerAlive: null }, workers: { live: 1 },
        paused: null, tasks: null, window: null, stop: null, lastReason: null,
      };
    },

    async deliveries(id, caller) {
      enter('deliveries', id, caller);
      mustGet(id, caller);
      return [];
    },

    async redeliver(id, by) {
      enter('redeliver', id, by);
      const job = mustGet(id, by.caller);
      if (!TERMINAL_STATES.has(job.state)) throw new AppError('INVALID_TRANSITION', `Cannot redeliver for a job in state ${job.state}.`);
    },

    live(opts) {
      enter('live', opts);
      if (opts.jobId !== undefined) mustGet(opts.jobId, opts.caller);
      const snapshot = [...jobs.values()].filter((j) => visible(j, opts.caller)).map(view);
      return (async function* () {
        yield { kind: 'snapshot' as const, seq, jobs: snapshot, truncated: false };
      })();
    },

    async virtualClusters(caller) {
      enter('virtualClusters', caller);
      return VIRTUAL_CLUSTERS.filter((v) => caller.role === 'admin' || v.name === 'default' || caller.virtualClusters.includes(v.name)).map((v) => {
        const mine = [...jobs.values()].filter((j) => j.virtualCluster === v.name);
        const activeJobs = mine.filter((j) => ['RUNNING', 'PAUSED', 'VERIFYING'].includes(j.state)).length;
        return {
          ...v, usedCapacity: activeJobs * 10, numJobs: mine.length, numActiveJobs: activeJobs,
          numPendingJobs: mine.filter((j) => j.state === 'WAITING').length,
          slots: { guaranteed: Math.floor(v.capacity / 10), max: Math.floor(v.maxCapacity / 10), used: activeJobs, total: 10 },
        };
      });
    },

    async workers() {
      enter('workers');
      return structuredClone(WORKERS);
    },

    async overview() {
      enter('overview');
      const counts = { WAITING: 0, RUNNING: 0, PAUSED: 0, VERIFYING: 0, SUCCEEDED: 0, FAILED: 0, STOPPED: 0 };
      for (const j of jobs.values()) counts[j.state]++;
      return {
        at: now().toISOString(), bucketMs: 10_000, windowMs: 900_000, counts, series: [], waits: null, oldestWaitingMs: 0,
        coordinators: [{ id: 'c-fake', alive: true, lastSeenMs: 0 }], workers: { registered: WORKERS.length, alive: WORKERS.length },
      };
    },

    jobTypes() {
      enter('jobTypes');
      return structuredClone(FAKE_JOB_TYPES);
    },

    info() {
      enter('info');
      return structuredClone(INFO);
    },

    async readiness() {
      enter('readiness');
      return { ready: fake.ready, checks: { nats: fake.ready, projection: true } };
    },
  };

  function enter(method: string, ...args: unknown[]): void {
    calls.push({ method, args });
    if (fake.unavailable) throw new AppError('UNAVAILABLE');
    if (fake.crash !== null) throw fake.crash;
  }

  function visible(job: JobView, caller: Caller): boolean {
    return caller.role === 'admin' || job.owner === caller.user;
  }

  /** The job, or JOB_NOT_FOUND when it does not exist or the caller may not see it. */
  function mustGet(id: string, caller?: Caller): JobView {
    const job = jobs.get(id);
    if (job === undefined || (caller !== undefined && !visible(job, caller))) throw new AppError('JOB_NOT_FOUND', `No job ${id}.`);
    return job;
  }

  function view(job: JobView): JobView {
    return structuredClone(job);
  }

  function decodeCursor(cursor: string): number {
    const n = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Number.isSafeInteger(n) || n < 0) throw new AppError('VALIDATION_FAILED', 'querystring/cursor is not a cursor from this service');
    return n;
  }

  /** Appends to the job's fake history; the entry's seq. */
  function record(jobId: string, type: string, data: unknown, by: By): number {
    const list = history.get(jobId) ?? [];
    const actor = `user:${by.caller.user}`;
    list.push({ seq: ++seq, time: now().toISOString(), subject: 'ev', type, data, meta: { jobId, actor, ...(by.reason === undefined ? {} : { reason: by.reason }) } });
    history.set(jobId, list);
    return seq;
  }

  /** Applies a command: legal from `from`; a no-op when already in `to` (if idempotent); else 409. */
  function transition(id: string, by: By, command: string, event: string, to: JobState, from: JobState[], idempotent = true): JobView {
    const job = mustGet(id, by.caller);
    if (idempotent && job.state === to) return view(job);
    if (!from.includes(job.state)) {
      throw new AppError('INVALID_TRANSITION', `Cannot ${command} a job in state ${job.state}.`);
    }
    job.state = to;
    if (TERMINAL_STATES.has(to)) job.finishedAt = now().toISOString();
    record(id, event, {}, by);
    return view(job);
  }

  return fake;
}
