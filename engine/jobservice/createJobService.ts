/**
 * The engine behind the API: commands become CAS appends of decided events; reads come from the
 * projection (or the log when it lags). Every call is scoped to its Caller: a non-admin sees and
 * controls only the jobs it owns, and any other job is JOB_NOT_FOUND (404, never 403).
 */
import { createHash } from 'node:crypto';
import type { Envelope, EventMeta, JobEvent, JobState, JobSubmittedData, WebhookRedeliveryRequested } from '../../actors/events.ts';
import { EVENT_SCHEMA_VERSION, TERMINAL_STATES } from '../../actors/events.ts';
import { decideFolded, type CommandMeta, type JobCommand } from '../../actors/decide.ts';
import { statusAt, type JobContext } from '../../actors/jobContext.ts';
import { foldJob, IllegalEventError, toJobView, type JobSnapshot } from '../../actors/jobFold.ts';
import type { Clock, Random } from '../clock.ts';
import type { Config } from '../config.ts';
import { AppError, isAppError } from '../errors.ts';
import type { EventLog, LogRecord } from '../eventlog/eventLog.ts';
import { validateCallbackUrl } from '../hooks/callbackUrl.ts';
import type { FileRoots } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import { liveStream } from '../live/liveStream.ts';
import type { Liveness } from '../liveness/liveness.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { DEFAULT_VIRTUAL_CLUSTER, effectiveClusters, vcSlots, type VirtualClusterDef } from '../quota/shares.ts';
import {
  SYSTEM_CALLER,
  type By,
  type Caller,
  type DeliveryEntry,
  type FailuresView,
  type HistoryEntry,
  type JobService,
  type JobView,
  type ListQuery,
  type ProgressView,
  type ServiceInfo,
  type SubmitRequest,
  type VirtualClusterStatus,
  type WorkerView,
} from '../serviceTypes.ts';
import { jobEvSubject, jobHookSubject, jobTaskSubject, parseSubject } from '../subjects.ts';

export interface JobServiceDeps {
  config: Pick<Config, 'waitingJobCapacity' | 'failureDetectionTimeoutMs' | 'stopGraceMs' | 'runningJobCapacity' | 'webhookAllowPrivate'>;
  eventLog: EventLog;
  projection: JobProjection;
  liveness: Liveness;
  registry: JobTypeRegistry;
  roots: FileRoots;
  clock: Clock;
  random: Random;
  info: () => ServiceInfo;
  checks: () => Record<string, boolean>;
  /** The effective virtual clusters (`effectiveClusters(defined)`). @defaultValue only `default` */
  virtualClusters?: () => readonly VirtualClusterDef[];
}

/** How long a write waits for the local projection to show it (read-your-writes). */
const READ_YOUR_WRITES_MS = 2000;
const MAX_CAS_RETRIES = 8;
/** Fresh reads of one job that may race retention (see `load`). */
const READ_RETRIES = 4;

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

/** `meta.actor` of a caller's writes: `user:<name>`, or `system` for the engine itself. */
export function actorOf(caller: Caller): string {
  return caller === SYSTEM_CALLER ? 'system' : `user:${caller.user}`;
}

/** The job owner a caller's submissions get. */
function ownerOf(caller: Caller): string {
  return caller === SYSTEM_CALLER ? 'system' : caller.user;
}

/** Admins see every job; everyone else only their own. */
export function canSeeJob(caller: Caller, ctx: Pick<JobContext, 'owner'>): boolean {
  return caller.role === 'admin' || ctx.owner === ownerOf(caller);
}

/** Whether the caller may submit to a virtual cluster: admins anywhere, everyone to `default`. */
export function canUseVirtualCluster(caller: Caller, name: string): boolean {
  return caller.role === 'admin' || name === DEFAULT_VIRTUAL_CLUSTER || caller.virtualClusters.includes(name);
}

const DECISION_ERRORS = { JOB_NOT_FOUND: 'JOB_NOT_FOUND', JOB_COMPACTED: 'JOB_COMPACTED' } as const;

/** The engine behind the API: commands become CAS appends; reads come from the projection. */
export function createJobService(deps: JobServiceDeps): JobService {
  const { config, eventLog, projection, liveness, registry, roots, clock, random } = deps;
  const defaultClusters = effectiveClusters([]);
  const virtualClusters = deps.virtualClusters ?? (() => defaultClusters);
  const now = () => new Date(clock.now()).toISOString();

  /** A job's snapshot and the CAS expectation, from the projection or, if it lags, the log. */
  async function load(id: string, fresh = false): Promise<{ snapshot: JobSnapshot; lastEvSeq: number }> {
    const e: JobEntry | undefined = fresh ? undefined : projection.get(id);
    if (e) return { snapshot: e.snapshot, lastEvSeq: e.lastEvSeq };
    for (let attempt = 1; ; attempt++) {
      const [ev, tasks] = await readJob(id);
      if (ev.length === 0) throw notFound(id);
      // Task outcomes gate transitions (VerificationStarted needs every task final): fold both subjects in stream order.
      const events = [...ev, ...tasks].sort((a, b) => a.seq - b.seq).flatMap((r) => r.events) as JobEvent[];
      try {
        return { snapshot: foldJob(events), lastEvSeq: ev[ev.length - 1]!.seq };
      } catch (err) {
        // Retention rolled `.ev` up and purged `.task` between our two reads (found by test/sim):
        // the pair is from two moments. Read again; the next `.ev` read holds the JobCompacted.
        if (!(err instanceof IllegalEventError) || attempt >= READ_RETRIES) throw err;
      }
    }
  }

  /** `load`, refusing (as not found) a job the caller may not see. */
  async function loadVisible(id: string, caller: Caller, fresh = false): Promise<{ snapshot: JobSnapshot; lastEvSeq: number }> {
    const j = await load(id, fresh);
    if (!canSeeJob(caller, j.snapshot.context)) throw notFound(id);
    return j;
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

  function commandMeta(by: By, causationId?: string): CommandMeta {
    return {
      actor: actorOf(by.caller),
      at: now(),
      ...(by.reason !== undefined ? { reason: by.reason } : {}),
      ...(causationId !== undefined ? { causationId } : {}),
    };
  }

  /** Decide and append with CAS, re-reading and re-deciding on a lost race. */
  async function command(id: string, cmd: JobCommand, by: By): Promise<JobView> {
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      const { snapshot, lastEvSeq } = await loadVisible(id, by.caller, fresh);
      const d = decideFolded(cmd, snapshot, commandMeta(by));
      if (!d.ok) {
        const code = d.code === 'JOB_NOT_FOUND' || d.code === 'JOB_COMPACTED' ? DECISION_ERRORS[d.code] : 'INVALID_TRANSITION';
        throw new AppError(code, `${cmd.kind}: ${d.message}`);
      }
      if (d.events.length === 0) return toView(snapshot);
      try {
        const r = await eventLog.append(jobEvSubject(id), d.events, { expectedLastSubjectSeq: lastEvSeq });
        if (!r.duplicate) projection.prefolded(r.seq, id, snapshot, d.state);
        return await viewAfter(id, r.seq);
      } catch (err) {
        if (!isAppError(err, 'CONFLICT') || attempt >= MAX_CAS_RETRIES) throw err;
        fresh = true;
      }
    }
  }

  /** The virtual cluster a submission runs in, after checking it exists and the caller may use it. */
  function checkVirtualCluster(caller: Caller, requested: string | undefined): string {
    const name = requested ?? DEFAULT_VIRTUAL_CLUSTER;
    if (!virtualClusters().some((d) => d.name === name)) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `no virtual cluster ${name}`);
    if (!canUseVirtualCluster(caller, name)) throw new AppError('VIRTUAL_CLUSTER_FORBIDDEN', `you have no access to virtual cluster ${name}`);
    return name;
  }

  function checkQueueRoom(): void {
    if (projection.countByState('WAITING') >= config.waitingJobCapacity) {
      throw new AppError('QUEUE_FULL', `${config.waitingJobCapacity} jobs are waiting already; retry later`);
    }
  }

  /** Appends a new job's JobSubmitted (CAS on an empty subject). */
  async function create(data: JobSubmittedData, meta: CommandMeta, msgId: string): Promise<{ job: JobView; created: boolean }> {
    const d = decideFolded({ kind: 'submit', data }, undefined, meta);
    if (!d.ok) throw new AppError('INVALID_TRANSITION', d.message);
    const r = await eventLog.append(jobEvSubject(data.jobId), d.events, { expectedLastSubjectSeq: 0, msgId });
    if (!r.duplicate) projection.prefolded(r.seq, data.jobId, undefined, d.state);
    return { job: await viewAfter(data.jobId, r.seq), created: !r.duplicate };
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

  function matches(q: ListQuery, caller: Caller, states: Set<JobState> | undefined, e: JobEntry): boolean {
    if (states && !states.has(e.state)) return false;
    const c = e.snapshot.context as JobContext;
    if (!canSeeJob(caller, c)) return false;
    if (q.owner !== undefined && c.owner !== q.owner) return false;
    if (q.virtualCluster !== undefined && c.virtualCluster !== q.virtualCluster) return false;
    const active = q.active ?? true;
    if (active !== 'all' && c.active !== active) return false;
    if (q.type !== undefined && c.type !== q.type) return false;
    if (q.name !== undefined && c.name !== q.name) return false;
    return true;
  }

  return {
    async submit(req: SubmitRequest, opts) {
      const { caller } = opts;
      const spec = registry.validateSpec(req.type, req.spec, roots);
      const virtualCluster = checkVirtualCluster(caller, req.virtualCluster);
      const callbackUrl = req.callbackUrl === undefined ? undefined : validateCallbackUrl(req.callbackUrl, config.webhookAllowPrivate);
      checkQueueRoom();
      const owner = ownerOf(caller);
      const body: Record<string, unknown> = {
        type: req.type, name: req.name ?? req.type, spec, priority: req.priority ?? 0,
        maxTaskAttempts: req.maxTaskAttempts ?? 3, maxFailedRatio: req.maxFailedRatio ?? 0,
      };
      // Only non-default values join the hash, so a request hashes as it did before these fields existed.
      if (virtualCluster !== DEFAULT_VIRTUAL_CLUSTER) body['virtualCluster'] = virtualCluster;
      if (callbackUrl !== undefined) body['callbackUrl'] = callbackUrl;
      const requestHash = createHash('sha256').update(canonical(body)).digest('hex');
      const jobId = opts.idempotencyKey !== undefined ? idempotentJobId(owner, opts.idempotencyKey) : random.uuid();
      const data = { jobId, ...body, virtualCluster, requestHash, owner, ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}) } as JobSubmittedData;
      try {
        return await create(data, commandMeta(opts), `submit:${jobId}:${requestHash}`);
      } catch (err) {
        if (!isAppError(err, 'CONFLICT') || opts.idempotencyKey === undefined) throw err;
        const existing = await load(jobId, true);
        if ((existing.snapshot.context as JobContext).requestHash !== requestHash) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request');
        }
        return { job: toView(existing.snapshot), created: false };
      }
    },

    async get(id, caller) {
      return toView((await loadVisible(id, caller)).snapshot);
    },

    async list(q, caller) {
      const states = q.state ? new Set<JobState>(q.state) : undefined;
      const before = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      const jobs: JobView[] = [];
      let last: JobEntry | undefined;
      let more = false;
      // Non-admins read only their own jobs: walk that owner's index, not every job.
      const owner = caller.role === 'admin' ? q.owner : ownerOf(caller);
      for (const e of projection.newestFirst(before, owner)) {
        if (!matches(q, caller, states, e)) continue;
        if (jobs.length === q.limit) {
          more = true;
          break;
        }
        jobs.push(toView(e.snapshot));
        last = e;
      }
      return { jobs, nextCursor: more && last ? encodeCursor(last.submitSeq) : null };
    },

    stop: (id, by) => command(id, { kind: 'stop', graceMs: by.graceMs ?? config.stopGraceMs, ...(by.force ? { force: true } : {}) }, by),
    pause: (id, by) => command(id, { kind: 'pause' }, by),
    resume: (id, by) => command(id, { kind: 'resume' }, by),
    recover: (id, by) => command(id, { kind: 'recover', mode: by.mode ?? 'failed' }, by),
    setActive: (id, active, by) => command(id, { kind: 'setActive', active }, by),

    async rerun(id, by) {
      const { snapshot } = await loadVisible(id, by.caller);
      const c = snapshot.context as JobContext;
      const state = snapshot.value;
      if (!TERMINAL_STATES.has(state)) throw new AppError('INVALID_TRANSITION', `rerun: job ${id} is ${state}; only a finished job can be re-run`);
      if (!c.active) throw new AppError('INVALID_TRANSITION', `rerun: job ${id} is inactive; activate it first`);
      const spec = registry.validateSpec(c.type, c.spec, roots);
      const virtualCluster = checkVirtualCluster(by.caller, c.virtualCluster);
      checkQueueRoom();
      const body: Record<string, unknown> = {
        type: c.type, name: c.name, spec, priority: c.priority, maxTaskAttempts: c.maxTaskAttempts, maxFailedRatio: c.maxFailedRatio,
        ...(virtualCluster !== DEFAULT_VIRTUAL_CLUSTER ? { virtualCluster } : {}),
        ...(c.callbackUrl !== undefined ? { callbackUrl: c.callbackUrl } : {}),
        rerunOf: id,
      };
      const requestHash = createHash('sha256').update(canonical(body)).digest('hex');
      const jobId = random.uuid();
      const data = { jobId, ...body, virtualCluster, requestHash, owner: c.owner } as JobSubmittedData;
      return (await create(data, commandMeta(by, id), `submit:${jobId}:${requestHash}`)).job;
    },

    async progress(id, caller) {
      return progressOf((await loadVisible(id, caller)).snapshot);
    },

    async failures(id, caller) {
      const s = (await loadVisible(id, caller)).snapshot;
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

    async history(id, caller) {
      await loadVisible(id, caller);
      const [ev, tasks] = await readJob(id);
      if (ev.length === 0) throw notFound(id);
      const records: LogRecord[] = [...ev, ...tasks].sort((a, b) => a.seq - b.seq);
      const out: HistoryEntry[] = [];
      for (const r of records) {
        const kind = parseSubject(r.subject)?.kind === 'job-task' ? 'task' : 'ev';
        for (const e of r.events) out.push({ seq: r.seq, time: r.time, subject: kind, type: e.type, data: e.data, meta: { ...e.meta } });
      }
      return out;
    },

    async deliveries(id, caller) {
      await loadVisible(id, caller);
      const out: DeliveryEntry[] = [];
      for (const r of await eventLog.readSubject(jobHookSubject(id))) {
        for (const e of r.events) {
          out.push({ seq: r.seq, time: r.time, type: e.type as DeliveryEntry['type'], data: e.data, meta: { ...e.meta } });
        }
      }
      return out;
    },

    async redeliver(id, by) {
      const { snapshot } = await loadVisible(id, by.caller);
      if (!TERMINAL_STATES.has(snapshot.value)) {
        throw new AppError('INVALID_TRANSITION', `redeliver: job ${id} is ${snapshot.value}; notifications are sent once it finished`);
      }
      const cm = commandMeta(by);
      const meta: EventMeta = { jobId: id, epoch: snapshot.context.epoch, actor: cm.actor, at: cm.at, v: EVENT_SCHEMA_VERSION };
      if (cm.reason !== undefined) meta.reason = cm.reason;
      const ev: WebhookRedeliveryRequested = { type: 'WebhookRedeliveryRequested', data: by.target !== undefined ? { target: by.target } : {}, meta };
      await eventLog.append(jobHookSubject(id), [ev as Envelope]);
    },

    live({ caller, jobId, afterSeq, signal }) {
      const canSee = (e: JobEntry) => canSeeJob(caller, e.snapshot.context);
      const owner = caller.role === 'admin' ? undefined : ownerOf(caller);
      const stream = () => liveStream(
        { eventLog, projection, canSee, clock, ...(owner !== undefined ? { owner } : {}) },
        { signal, ...(jobId !== undefined ? { jobId } : {}), ...(afterSeq !== undefined ? { afterSeq } : {}) },
      );
      if (jobId === undefined) return stream();
      return (async function* visibleJob() {
        await loadVisible(jobId, caller);
        yield* stream();
      })();
    },

    async virtualClusters(caller) {
      const defs = virtualClusters();
      const coordinators = Math.max(1, liveness.alive('coord', config.failureDetectionTimeoutMs).length);
      const total = config.runningJobCapacity * coordinators;
      const slots = vcSlots(defs, total);
      const counts = projection.virtualClusterCounts();
      const out: VirtualClusterStatus[] = [];
      for (const d of defs) {
        if (!canUseVirtualCluster(caller, d.name)) continue;
        const n = counts.get(d.name) ?? { waiting: 0, active: 0, total: 0 };
        const sl = slots.get(d.name) ?? { guaranteed: 0, max: 0 };
        out.push({
          name: d.name, capacity: d.capacity, maxCapacity: d.maxCapacity,
          usedCapacity: total > 0 ? Math.round((n.active / total) * 10_000) / 100 : 0,
          numJobs: n.total, numActiveJobs: n.active, numPendingJobs: n.waiting,
          slots: { guaranteed: sl.guaranteed, max: sl.max, used: n.active, total },
        });
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

function notFound(id: string): AppError {
  return new AppError('JOB_NOT_FOUND', `no job ${id}`);
}

function encodeCursor(submitSeq: number): string {
  return Buffer.from(`s:${submitSeq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^s:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new AppError('VALIDATION_FAILED', 'cursor is not one this service issued');
  return Number(m[1]);
}
