import { createHash } from 'node:crypto';
import type { JobEvent, JobSubmittedData, JobState } from '../actors/events.ts';

import { decide, type JobCommand } from '../actors/decide.ts';
import { statusAt, type JobContext } from '../actors/jobContext.ts';
import { foldJob, toJobView, type JobSnapshot } from '../actors/jobFold.ts';
import type { Clock, Random } from './clock.ts';
import type { Config } from './config.ts';
import { AppError, isAppError } from './errors.ts';
import type { EventLog, LogRecord } from './eventlog/eventLog.ts';
import type { FileRoots } from './jobtypes/jobType.ts';
import type { JobTypeRegistry } from './jobtypes/registry.ts';
import type { Liveness } from './liveness/liveness.ts';
import type { JobEntry, JobProjection } from './projections/jobProjection.ts';
import type { ActorRef, FailuresView, HistoryEntry, JobService, JobView, ProgressView, ServiceInfo, WorkerView } from './service.ts';
import { jobEvSubject, jobTaskSubject, parseSubject } from './subjects.ts';

export interface JobServiceDeps {
  config: Pick<Config, 'waitingJobCapacity' | 'failureDetectionTimeoutMs'>;
  eventLog: EventLog;
  projection: JobProjection;
  liveness: Liveness;
  registry: JobTypeRegistry;
  roots: FileRoots;
  clock: Clock;
  random: Random;
  info: () => ServiceInfo;
  checks: () => Record<string, boolean>;
}

/** How long a write waits for the local projection to show it (read-your-writes). */
const READ_YOUR_WRITES_MS = 2000;
const MAX_CAS_RETRIES = 8;

/** Same bytes for the same request, whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A UUID (version 8, RFC 9562) derived from the owner and the idempotency key. */
export function idempotentJobId(owner: string, key: string): string {
  const h = createHash('sha256').update(`${owner}\0${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The API's view of a job. */
export const toView = toJobView;

/** The engine behind the API: commands become CAS appends; reads come from the projection. */
export function createJobService(deps: JobServiceDeps): JobService {
  const { config, eventLog, projection, liveness, registry, roots, clock, random } = deps;

  /** A job's snapshot and the CAS expectation, from the projection or, if it lags, the log. */
  async function load(id: string, fresh = false): Promise<{ snapshot: JobSnapshot; lastEvSeq: number }> {
    const e: JobEntry | undefined = fresh ? undefined : projection.get(id);
    if (e) return { snapshot: e.snapshot, lastEvSeq: e.lastEvSeq };
    const [ev, tasks] = await readJob(id);
    if (ev.length === 0) throw new AppError('JOB_NOT_FOUND', `no job ${id}`);
    // Task outcomes gate transitions (VerificationStarted needs every task final): fold both subjects in stream order.
    const events = [...ev, ...tasks].sort((a, b) => a.seq - b.seq).flatMap((r) => r.events) as JobEvent[];
    return { snapshot: foldJob(events), lastEvSeq: ev[ev.length - 1]!.seq };
  }

  /**
   * Reads `.ev`, then `.task`: the later task read holds every outcome an ev record depends on
   * (VerificationStarted needs all tasks final). Two parallel reads could pair a newer ev list
   * with an older task list, which folds to IllegalEventError (found by test/sim).
   */
  async function readJob(id: string): Promise<[LogRecord[], LogRecord[]]> {
    const ev = await eventLog.readSubject(jobEvSubject(id));
    return [ev, await eventLog.readSubject(jobTaskSubject(id))];
  }

  async function viewAfter(id: string, seq: number): Promise<JobView> {
    await projection.waitFor(seq, READ_YOUR_WRITES_MS);
    const e = projection.get(id);
    if (e && e.lastEvSeq >= seq) return toView(e.snapshot);
    return toView((await load(id, true)).snapshot);
  }

  /** Decide and append with CAS, re-reading and re-deciding on a lost race. */
  async function command(id: string, cmd: JobCommand, by: ActorRef): Promise<JobView> {
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      const { snapshot, lastEvSeq } = await load(id, fresh);
      const d = decide(cmd, snapshot, { actor: by.actor, at: new Date(clock.now()).toISOString(), ...(by.reason ? { reason: by.reason } : {}) });
      if (!d.ok) {
        throw new AppError(d.code === 'JOB_NOT_FOUND' ? 'JOB_NOT_FOUND' : 'INVALID_TRANSITION', `${cmd.kind}: ${d.message}`);
      }
      if (d.events.length === 0) return toView(snapshot);
      try {
        const r = await eventLog.append(jobEvSubject(id), d.events, { expectedLastSubjectSeq: lastEvSeq });
        return await viewAfter(id, r.seq);
      } catch (err) {
        if (!isAppError(err, 'CONFLICT') || attempt >= MAX_CAS_RETRIES) throw err;
        fresh = true;
      }
    }
  }

  function progressOf(s: JobSnapshot): ProgressView {
    const v = toView(s);
    const c = s.context as JobContext;
    const start = v.startedAt ? Date.parse(v.startedAt) : NaN;
    const end = v.finishedAt ? Date.parse(v.finishedAt) : clock.now();
    const elapsedMs = Number.isFinite(start) ? Math.max(0, end - start) : 0;
    return {
      jobId: v.id,
      state: v.state,
      ...v.progress,
      elapsedMs,
      throughputBytesPerSec: elapsedMs > 0 ? Math.round((v.progress.bytesDone * 1000) / elapsedMs) : 0,
      failures: c.failures.map((f) => ({ taskId: f.taskId, item: f.item, error: f.error })),
    };
  }

  return {
    async submit(req, opts) {
      const spec = registry.validateSpec(req.type, req.spec, roots);
      if (projection.countByState('WAITING') >= config.waitingJobCapacity) {
        throw new AppError('QUEUE_FULL', `${config.waitingJobCapacity} jobs are waiting already; retry later`);
      }
      const owner = opts.actor;
      const body = { type: req.type, name: req.name ?? req.type, spec, priority: req.priority ?? 0, maxTaskAttempts: req.maxTaskAttempts ?? 3, maxFailedRatio: req.maxFailedRatio ?? 0 };
      const requestHash = createHash('sha256').update(canonical(body)).digest('hex');
      const jobId = opts.idempotencyKey !== undefined ? idempotentJobId(owner, opts.idempotencyKey) : random.uuid();
      const data: JobSubmittedData = { jobId, ...body, requestHash, owner, ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}) };
      const d = decide({ kind: 'submit', data }, undefined, { actor: opts.actor, at: new Date(clock.now()).toISOString() });
      if (!d.ok) throw new AppError('INVALID_TRANSITION', d.message);
      try {
        const r = await eventLog.append(jobEvSubject(jobId), d.events, { expectedLastSubjectSeq: 0, msgId: `submit:${jobId}:${requestHash}` });
        return { job: await viewAfter(jobId, r.seq), created: !r.duplicate };
      } catch (err) {
        if (!isAppError(err, 'CONFLICT') || opts.idempotencyKey === undefined) throw err;
        const existing = await load(jobId, true);
        if ((existing.snapshot.context as JobContext).requestHash !== requestHash) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request');
        }
        return { job: toView(existing.snapshot), created: false };
      }
    },

    async get(id) {
      return toView((await load(id)).snapshot);
    },

    async list(q) {
      const states = q.state ? new Set<JobState>(q.state) : undefined;
      const before = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      const jobs: JobView[] = [];
      let last: JobEntry | undefined;
      let more = false;
      for (const e of projection.newestFirst(before)) {
        if (states && !states.has(e.state)) continue;
        const c = e.snapshot.context as JobContext;
        if (q.type !== undefined && c.type !== q.type) continue;
        if (q.name !== undefined && c.name !== q.name) continue;
        if (jobs.length === q.limit) {
          more = true;
          break;
        }
        jobs.push(toView(e.snapshot));
        last = e;
      }
      return { jobs, nextCursor: more && last ? encodeCursor(last.submitSeq) : null };
    },

    stop: (id, by) => command(id, { kind: 'stop' }, by),
    pause: (id, by) => command(id, { kind: 'pause' }, by),
    resume: (id, by) => command(id, { kind: 'resume' }, by),

    async progress(id) {
      return progressOf((await load(id)).snapshot);
    },

    async failures(id) {
      const s = (await load(id)).snapshot;
      const c = s.context as JobContext;
      const tasks: FailuresView['tasks'] = [];
      for (let i = 0; i < (c.tasks?.length ?? 0); i++) {
        const st = statusAt(c, i);
        if (st.state === 'failed') tasks.push({ taskId: c.tasks![i]!.taskId, attempts: [...st.failedAttempts], error: st.error ? { ...st.error } : null });
      }
      const items = c.failures.map((f) => ({ taskId: f.taskId, item: f.item, error: f.error }));
      return {
        jobId: c.jobId, state: s.value, itemsFailed: c.progress.itemsFailed, tasksFailed: c.progress.tasksFailed,
        items, truncated: c.progress.itemsFailed > items.length, tasks,
      };
    },

    async history(id) {
      const [ev, tasks] = await readJob(id);
      if (ev.length === 0) throw new AppError('JOB_NOT_FOUND', `no job ${id}`);
      const records: LogRecord[] = [...ev, ...tasks].sort((a, b) => a.seq - b.seq);
      const out: HistoryEntry[] = [];
      for (const r of records) {
        const kind = parseSubject(r.subject)?.kind === 'job-task' ? 'task' : 'ev';
        for (const e of r.events) out.push({ seq: r.seq, time: r.time, subject: kind, type: e.type, data: e.data, meta: { ...e.meta } });
      }
      return out;
    },

    async workers() {
      const alive = new Set(liveness.alive('worker', config.failureDetectionTimeoutMs).map((x) => x.id));
      const out: WorkerView[] = [];
      for (const w of projection.workers()) {
        out.push({
          id: w.info.workerId, pool: w.info.pool, state: w.state, concurrency: w.info.concurrency,
          host: w.info.host, pid: w.info.pid, alive: alive.has(w.info.workerId), registeredAt: w.registeredAt,
        });
      }
      return out;
    },

    jobTypes: () => registry.names().map((name) => ({ name, specSchema: registry.get(name)!.specSchema })),
    info: deps.info,
    async readiness() {
      const checks = deps.checks();
      return { ready: Object.values(checks).every(Boolean), checks };
    },
  };
}

function encodeCursor(submitSeq: number): string {
  return Buffer.from(`s:${submitSeq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^s:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new AppError('VALIDATION_FAILED', 'cursor is not one this service issued');
  return Number(m[1]);
}

