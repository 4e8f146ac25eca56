/**
 * Coordinators, workers and a projection over the in-memory event log, task queue and liveness:
 * the scheduler without the job service, so its tests need only the decider to submit and stop.
 */
import { randomUUID } from 'node:crypto';
import { decide, type JobCommand } from '../../../../actors/decide.ts';
import type { JobSubmittedData } from '../../../../actors/events.ts';
import type { JobContext } from '../../../../actors/jobContext.ts';
import { systemClock } from '../../../../engine/clock.ts';
import { DEFAULTS } from '../../../../engine/config.ts';
import { createCoordinator, type Coordinator, type CoordinatorConfig } from '../../../../engine/coordinator/coordinator.ts';
import { isAppError } from '../../../../engine/errors.ts';
import type { Follower } from '../../../../engine/eventlog/eventLog.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import type { JobType } from '../../../../engine/jobtypes/jobType.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../../../../engine/jobtypes/registry.ts';
import { createMemoryLiveness, createMemoryLivenessStore } from '../../../../engine/liveness/memoryLiveness.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { jobFactsOf } from '../../../../engine/projections/jobFacts.ts';
import { createJobProjection, type JobEntry, type JobProjection } from '../../../../engine/projections/jobProjection.ts';
import { createSlimJobView, SLIM_VIEW_SUBJECTS } from '../../../../engine/projections/slimJobView.ts';
import { effectiveClusters, type VirtualClusterDef } from '../../../../engine/quota/shares.ts';
import { jobEvSubject } from '../../../../engine/subjects.ts';
import { createMemoryTaskQueue } from '../../../../engine/taskqueue/memoryTaskQueue.ts';
import type { TaskMessage, TaskQueue } from '../../../../engine/taskqueue/taskQueue.ts';
import { createWorker, type Worker } from '../../../../engine/worker/worker.ts';

export interface HarnessOptions {
  runningJobCapacity?: number;
  maxTasksPerWorker?: number;
  workerConcurrency?: number;
  /** Defined VCs (`default` is added unless defined). */
  virtualClusters?: VirtualClusterDef[];
  extraTypes?: JobType[];
}

export interface Harness {
  log: MemoryEventLog;
  projection: JobProjection;
  /** Every task dispatched, with the time (ms since epoch) it was dispatched. */
  dispatched: { task: TaskMessage; at: number }[];
  /** Calls of `working()` on deliveries (each is a publish on JetStream). */
  readonly workingCalls: number;
  startCoordinator(id: string): Promise<Coordinator>;
  /** A worker reading the harness's projection, or (`slim`) its own slim job view, as a worker-only process does. */
  startWorker(id: string, view?: 'projection' | 'slim'): Promise<Worker>;
  submit(data: Partial<JobSubmittedData> & { type: string; spec: Record<string, unknown> }): Promise<string>;
  /** Decides and appends a user command on the job (CAS, retried on a lost race). */
  command(jobId: string, cmd: JobCommand, reason?: string): Promise<void>;
  job(jobId: string): JobEntry;
  ctx(jobId: string): JobContext;
  /** Job-event types of the job, in order, with their actor and reason. */
  history(jobId: string): Promise<{ type: string; actor: string; reason?: string; at: number }[]>;
  close(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const config: CoordinatorConfig & Parameters<typeof createWorker>[0]['config'] = {
    ...DEFAULTS,
    runningJobCapacity: opts.runningJobCapacity ?? 10,
    maxTasksPerWorker: opts.maxTasksPerWorker ?? 64,
    workerConcurrency: opts.workerConcurrency ?? 64,
    heartbeatMs: 50,
    failureDetectionTimeoutMs: 500,
    retryBackoffMs: 10,
    drainTimeoutMs: 500,
  };
  const clock = systemClock;
  const log = createMemoryEventLog();
  const queue = createMemoryTaskQueue({ ackWaitMs: config.taskAckWaitMs, maxDeliver: config.taskMaxDeliver });
  const dispatched: Harness['dispatched'] = [];
  let workingCalls = 0;
  const taskQueue: TaskQueue = {
    dispatch: (pool, task) => {
      dispatched.push({ task, at: Date.now() });
      return queue.dispatch(pool, task);
    },
    consume: (pool, concurrency, handler, o) => queue.consume(pool, concurrency, (d) => handler({ ...d, working: () => {
      workingCalls++;
      d.working();
    } }), o),
    close: () => queue.close(),
  };
  const livenessStore = createMemoryLivenessStore();
  const projection = createJobProjection({ logger: silentLogger, clock });
  const follower: Follower = log.follow(1, (r) => projection.apply(r));
  const viewFollowers: Follower[] = [];
  await follower.caughtUp;
  const registry = createJobTypeRegistry([...builtinJobTypes(), ...(opts.extraTypes ?? [])]);
  const vcs = effectiveClusters(opts.virtualClusters ?? []);
  const coordinators: Coordinator[] = [];
  const workers: Worker[] = [];
  const roots = { dataDir: '/nonexistent', cacheDir: '/nonexistent' };
  const base = { eventLog: log, taskQueue, projection, registry, roots, clock, logger: silentLogger };

  async function command(jobId: string, cmd: JobCommand, reason?: string) {
    for (let i = 0; i < 50; i++) {
      const e = projection.get(jobId);
      const d = decide(cmd, e?.snapshot, { actor: 'user:test', at: new Date().toISOString(), ...(reason ? { reason } : {}) });
      if (!d.ok) throw new Error(`${cmd.kind} refused: ${d.message}`);
      if (d.events.length === 0) return;
      try {
        const res = await log.append(jobEvSubject(jobId), d.events, { expectedLastSubjectSeq: e?.lastEvSeq ?? 0 });
        await projection.waitFor(res.seq, 5000);
        return;
      } catch (err) {
        if (!isAppError(err, 'CONFLICT')) throw err;
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    throw new Error(`${cmd.kind} kept losing CAS races`);
  }

  function job(jobId: string): JobEntry {
    const e = projection.get(jobId);
    if (!e) throw new Error(`no job ${jobId}`);
    return e;
  }

  return {
    log,
    projection,
    dispatched,
    get workingCalls() {
      return workingCalls;
    },
    async startCoordinator(id) {
      const c = createCoordinator({ ...base, id, config, liveness: createMemoryLiveness({ clock, store: livenessStore }), virtualClusters: () => vcs });
      coordinators.push(c);
      await c.start();
      return c;
    },
    async startWorker(id, view = 'projection') {
      let jobs = jobFactsOf(projection);
      if (view === 'slim') {
        const slim = createSlimJobView();
        const f = log.follow(1, (r) => slim.apply(r), { filterSubjects: SLIM_VIEW_SUBJECTS });
        viewFollowers.push(f);
        await f.caughtUp;
        jobs = slim;
      }
      const w = createWorker({ ...base, jobs, id, config, liveness: createMemoryLiveness({ clock, store: livenessStore }) });
      workers.push(w);
      await w.start();
      return w;
    },
    async submit(data) {
      const jobId = randomUUID();
      const full: JobSubmittedData = {
        jobId, name: data.type, priority: 0, maxTaskAttempts: 3, maxFailedRatio: 0, requestHash: jobId, owner: 'test', ...data,
      };
      await command(jobId, { kind: 'submit', data: full });
      return jobId;
    },
    command,
    job,
    ctx: (jobId) => job(jobId).snapshot.context as JobContext,
    async history(jobId) {
      const records = await log.readSubject(jobEvSubject(jobId));
      return records.flatMap((r) =>
        r.events.map((ev) => ({
          type: ev.type, actor: ev.meta.actor, at: Date.parse(ev.meta.at), ...(ev.meta.reason !== undefined ? { reason: ev.meta.reason } : {}),
        })),
      );
    },
    async close() {
      for (const w of workers) await w.drain();
      for (const c of coordinators) await c.stop({ handoff: false });
      await follower.stop();
      for (const f of viewFollowers) await f.stop();
      await queue.close();
    },
  };
}

