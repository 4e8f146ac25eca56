/**
 * An in-memory JobService for HTTP-layer tests only (integration tests use the real engine).
 * Honest where the API can tell: submit creates WAITING jobs, idempotency by key + body,
 * stop/pause/resume follow the job state rules, unknown ids are JOB_NOT_FOUND. Switches:
 * `unavailable` (every call throws UNAVAILABLE, as when NATS is down), `crash` (every call throws
 * that error, as a bug would), `ready`.
 */
import type { JobState } from '../../actors/events.ts';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { AppError } from '../../engine/errors.ts';
import type {
  ActorRef,
  HistoryEntry,
  JobService,
  JobView,
  ListQuery,
  ProgressView,
  ServiceInfo,
  SubmitRequest,
  WorkerView,
} from '../../engine/service.ts';

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
  /** The calls made, newest last (method name and the ActorRef / options passed). */
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
  { id: 'w-1', pool: 'default', state: 'ACTIVE', concurrency: 4, host: 'host-a', pid: 101, alive: true, registeredAt: '2025-01-01T00:00:00.000Z' },
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

    async submit(req: SubmitRequest, by: ActorRef & { idempotencyKey?: string }) {
      enter('submit', req, by);
      if (!FAKE_JOB_TYPES.some((t) => t.name === req.type)) {
        throw new AppError('UNKNOWN_JOB_TYPE', `Unknown job type "${req.type}"; known: ${FAKE_JOB_TYPES.map((t) => t.name).join(', ')}.`);
      }
      const requestHash = canonical(req);
      if (by.idempotencyKey !== undefined) {
        const earlier = byKey.get(by.idempotencyKey);
        if (earlier !== undefined) {
          if (earlier.requestHash !== requestHash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
          return { job: view(mustGet(earlier.id)), created: false };
        }
      }
      const id = uuidFor(jobs.size + 1);
      const job: JobView = {
        id,
        type: req.type,
        name: req.name ?? req.type,
        state: 'WAITING',
        priority: req.priority ?? 0,
        owner: by.actor,
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
      };
      jobs.set(id, job);
      if (by.idempotencyKey !== undefined) byKey.set(by.idempotencyKey, { requestHash, id });
      record(id, 'JobSubmitted', { type: req.type, name: job.name }, by);
      return { job: view(job), created: true };
    },

    async get(id) {
      enter('get', id);
      return view(mustGet(id));
    },

    async list(q: ListQuery) {
      enter('list', q);
      const offset = q.cursor === undefined ? 0 : decodeCursor(q.cursor);
      const matching = [...jobs.values()].filter(
        (j) =>
          (q.state === undefined || q.state.includes(j.state)) &&
          (q.type === undefined || j.type === q.type) &&
          (q.name === undefined || j.name === q.name),
      );
      const page = matching.slice(offset, offset + q.limit);
      const next = offset + page.length;
      return { jobs: page.map(view), nextCursor: next < matching.length ? Buffer.from(String(next)).toString('base64url') : null };
    },

    async stop(id, by) {
      enter('stop', id, by);
      return transition(id, by, 'stop', 'JobStopped', 'STOPPED', ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING']);
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

    async progress(id): Promise<ProgressView> {
      enter('progress', id);
      const job = mustGet(id);
      return { ...job.progress, jobId: id, state: job.state, throughputBytesPerSec: 0, elapsedMs: 0, failures: [] };
    },

    async failures(id) {
      enter('failures', id);
      const job = mustGet(id);
      return { jobId: id, state: job.state, itemsFailed: job.progress.itemsFailed, tasksFailed: job.progress.tasksFailed, items: [], truncated: false, tasks: [] };
    },

    async history(id) {
      enter('history', id);
      mustGet(id);
      return structuredClone(history.get(id) ?? []);
    },

    async workers() {
      enter('workers');
      return structuredClone(WORKERS);
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

  function mustGet(id: string): JobView {
    const job = jobs.get(id);
    if (job === undefined) throw new AppError('JOB_NOT_FOUND', `No job ${id}.`);
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

  function record(jobId: string, type: string, data: unknown, by: ActorRef): void {
    const list = history.get(jobId) ?? [];
    list.push({ seq: ++seq, time: now().toISOString(), subject: 'ev', type, data, meta: { jobId, actor: by.actor, ...(by.reason === undefined ? {} : { reason: by.reason }) } });
    history.set(jobId, list);
  }

  /** Applies a command: legal from `from`; a no-op when already in `to` (if idempotent); else 409. */
  function transition(id: string, by: ActorRef, command: string, event: string, to: JobState, from: JobState[], idempotent = true): JobView {
    const job = mustGet(id);
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
