import type { JobEvent, TaskPlan, TaskResult } from '../../actors/events.ts';
import { decide, decideFolded, type CommandMeta, type JobCommand } from '../../actors/decide.ts';
import { getTaskStatus, type JobContext } from '../../actors/jobContext.ts';
import { allTasksFinal, pendingTasks, shouldFail, failedRatio, type JobSnapshot } from '../../actors/jobFold.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { isAppError } from '../errors.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { FileRoots } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import type { Liveness } from '../liveness/liveness.ts';
import type { Logger } from '../log.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import { jobEvSubject } from '../subjects.ts';
import type { TaskQueue } from '../taskqueue/taskQueue.ts';

export type CoordinatorConfig = Pick<
  Config,
  'runningJobCapacity' | 'maxTasksPerWorker' | 'pool' | 'heartbeatMs' | 'failureDetectionTimeoutMs' | 'retryBackoffMs'
>;

export interface CoordinatorDeps {
  id: string;
  config: CoordinatorConfig;
  eventLog: EventLog;
  taskQueue: TaskQueue;
  liveness: Liveness;
  projection: JobProjection;
  registry: JobTypeRegistry;
  roots: FileRoots;
  clock: Clock;
  logger: Logger;
}

export interface Coordinator {
  readonly id: string;
  /** Start heartbeating, claiming and driving jobs. The projection must already be caught up. */
  start(): Promise<void>;
  /** Stop; with `handoff` (default) requeue owned jobs so a peer or restart resumes them at once. */
  stop(opts?: { handoff?: boolean }): Promise<void>;
  /** Jobs this coordinator currently owns. */
  owned(): string[];
}

/** Local, non-durable bookkeeping for a job this coordinator owns. */
interface Owned {
  epoch: number;
  /** taskId → attempt dispatched and not yet answered. */
  dispatched: Map<string, number>;
  /** taskId → pending retry: its backoff timer, and whether it is due. */
  retries: Map<string, { timer: unknown; due: boolean }>;
  verifying: boolean;
  abort: AbortController;
}

const IN_FLIGHT = Number.POSITIVE_INFINITY;

/**
 * Claims WAITING jobs, plans them, dispatches their tasks in a bounded window, verifies and
 * records the outcome. All state comes from the projection; local maps only track what is in
 * flight. Every write is a CAS on the job's subject, so a deposed owner cannot write.
 */
export function createCoordinator(deps: CoordinatorDeps): Coordinator {
  const { id, config, eventLog, taskQueue, liveness, projection, registry, roots, clock } = deps;
  const log = deps.logger.child({ coordinator: id });
  const actor = `coordinator:${id}`;
  const owned = new Map<string, Owned>();
  /** jobId → seq our append got (IN_FLIGHT while unacknowledged); cleared when the projection has it. */
  const writing = new Map<string, number>();
  /** Jobs being claimed (planning or appending). */
  const claiming = new Set<string>();
  const dirty = new Set<string>();
  const starved = new Set<string>();
  let inflightTasks = 0;
  let running = false;
  let flushQueued = false;
  let claimQueued = false;
  let heartbeatTimer: unknown;
  let startedAtMono = 0;
  let unsubscribe: (() => void) | undefined;
  /** Aborted on stop: cancels planning and verification in progress. */
  const lifetime = new AbortController();

  const meta = (reason?: string): CommandMeta => ({ actor, at: new Date(clock.now()).toISOString(), ...(reason ? { reason } : {}) });
  const ctxOf = (e: JobEntry) => e.snapshot.context as JobContext;

  function markDirty(jobId: string) {
    dirty.add(jobId);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  }

  function flush() {
    flushQueued = false;
    const ids = [...dirty];
    dirty.clear();
    for (const jobId of ids) drive(jobId);
  }

  function scheduleClaims() {
    if (claimQueued || !running) return;
    claimQueued = true;
    queueMicrotask(() => {
      claimQueued = false;
      claimPass();
    });
  }

  /** One pending backoff timer for claim retries, however many claims failed. */
  let claimRetry: unknown;
  function retryClaimsLater() {
    if (claimRetry !== undefined || !running) return;
    claimRetry = clock.setTimeout(() => {
      claimRetry = undefined;
      scheduleClaims();
    }, config.retryBackoffMs);
  }

  function window(): number {
    const workers = liveness.alive('worker', config.failureDetectionTimeoutMs).length;
    return config.maxTasksPerWorker * Math.max(1, workers);
  }

  /** Our write is in the projection: the job may be driven (or claimed) again. */
  function settle(jobId: string) {
    writing.delete(jobId);
    markDirty(jobId);
    scheduleClaims();
  }

  function release(jobId: string, why: string) {
    const o = owned.get(jobId);
    if (!o) return;
    owned.delete(jobId);
    inflightTasks -= o.dispatched.size;
    for (const r of o.retries.values()) clock.clearTimeout(r.timer);
    o.abort.abort('released'); // a string reason: no DOMException (and stack) per job
    starved.delete(jobId);
    log.debug({ jobId, why }, 'released job');
    for (const s of starved) markDirty(s);
    scheduleClaims();
  }

  function onChange(e: JobEntry, _before: unknown, r: { seq: number; subject: string }) {
    const w = writing.get(e.id);
    if (w !== undefined && w !== IN_FLIGHT && r.seq >= w) writing.delete(e.id);
    if (!running) return;
    const ctx = ctxOf(e);
    const mine = ctx.coordinatorId === id && (e.state === 'RUNNING' || e.state === 'PAUSED' || e.state === 'VERIFYING');
    if (mine) {
      claiming.delete(e.id);
      const o = owned.get(e.id);
      if (!o || o.epoch !== ctx.epoch) {
        if (o) release(e.id, 'epoch changed');
        owned.set(e.id, { epoch: ctx.epoch, dispatched: new Map(), retries: new Map(), verifying: false, abort: new AbortController() });
      }
      markDirty(e.id);
    } else {
      if (owned.has(e.id)) {
        if (e.state === 'WAITING' || (ctx.coordinatorId !== null && ctx.coordinatorId !== id)) {
          // Fenced: a peer requeued or claimed it (we were presumed dead); our next CAS would fail anyway.
          log.warn({ jobId: e.id, state: e.state, owner: ctx.coordinatorId, epoch: ctx.epoch }, 'dropped job: deposed by a peer');
        }
        release(e.id, `now ${e.state} owned by ${ctx.coordinatorId ?? 'nobody'}`);
      }
      if (e.state !== 'WAITING' || ctx.epoch > 0) claiming.delete(e.id);
    }
    if (e.state === 'WAITING') scheduleClaims();
  }

  /** Decide `cmds` in order on the current snapshot and append all resulting events in one CAS write. */
  async function write(e: JobEntry, cmds: JobCommand[], reason?: string): Promise<boolean> {
    let s: JobSnapshot = e.snapshot;
    const events: JobEvent[] = [];
    for (const cmd of cmds) {
      const d = decideFolded(cmd, s, meta(reason));
      if (!d.ok) {
        log.warn({ jobId: e.id, cmd: cmd.kind, code: d.code, msg: d.message }, 'command refused');
        return false;
      }
      s = d.state;
      events.push(...d.events);
    }
    if (events.length === 0) return true;
    writing.set(e.id, IN_FLIGHT);
    const expected = e.lastEvSeq;
    try {
      const res = await eventLog.append(jobEvSubject(e.id), events, {
        expectedLastSubjectSeq: expected,
        msgId: `${cmds.map((c) => c.kind).join('+')}:${actor}:${e.id}:${expected}`,
      });
      // The follower may have applied our record before the ack arrived: then settle now.
      if (projection.lastSeq() >= res.seq) settle(e.id);
      else writing.set(e.id, res.seq);
      return true;
    } catch (err) {
      writing.delete(e.id);
      // Never retry at once: with the store down every append fails immediately, and an immediate
      // claim pass would spin without yielding to timers or the NATS client (seen in fault tests).
      retryClaimsLater();
      if (isAppError(err, 'CONFLICT')) {
        log.debug({ jobId: e.id, expected }, 'lost a CAS race; will re-read');
      } else {
        log.warn({ jobId: e.id, err }, 'append failed; will retry');
      }
      // Re-drive once the projection has moved (or after a backoff if the store is down).
      clock.setTimeout(() => markDirty(e.id), isAppError(err, 'CONFLICT') ? 10 : config.retryBackoffMs);
      return false;
    }
  }

  function claimPass() {
    if (!running) return;
    let room = config.runningJobCapacity - owned.size - claiming.size;
    if (room <= 0) return;
    for (const e of projection.waiting()) {
      if (room <= 0) break;
      if (claiming.has(e.id) || writing.has(e.id)) continue;
      claiming.add(e.id);
      room--;
      void claim(e.id);
    }
  }

  async function claim(jobId: string) {
    let keep = false;
    try {
      const e0 = projection.get(jobId);
      if (!e0 || e0.state !== 'WAITING') return;
      const ctx0 = ctxOf(e0);
      const type = registry.get(ctx0.type);
      let tasks: TaskPlan[] | undefined;
      let failure: { code: string; message: string } | undefined;
      if (!type) failure = { code: 'UNKNOWN_JOB_TYPE', message: `no job type ${ctx0.type} on coordinator ${id}` };
      else if (ctx0.tasks === null) {
        try {
          tasks = await type.plan(ctx0.spec, { jobId, roots, signal: lifetime.signal });
        } catch (err) {
          failure = { code: isAppError(err) ? err.code : 'PLAN_FAILED', message: err instanceof Error ? err.message : String(err) };
        }
      }
      const e = projection.get(jobId);
      if (!e || e.state !== 'WAITING' || !running) return;
      const cmds: JobCommand[] = [{ kind: 'claim', coordinatorId: id, ...(tasks ? { tasks } : {}) }];
      if (failure) cmds.push({ kind: 'finish', outcome: 'failed', error: failure });
      keep = (await write(e, cmds)) && !failure;
      if (keep) log.debug({ jobId, tasks: tasks?.length }, 'claimed');
    } finally {
      // On success the job stays in `claiming` until the projection shows it as ours.
      if (!keep) {
        claiming.delete(jobId);
        retryClaimsLater();
      }
    }
  }

  function drive(jobId: string) {
    if (!running) return;
    const e = projection.get(jobId);
    const o = owned.get(jobId);
    if (!e || !o || writing.has(jobId)) return;
    const s = e.snapshot;
    const pending = new Map<string, { nextAttempt: number; task: TaskPlan }>();
    for (const p of pendingTasks(s)) pending.set(p.task.taskId, p);
    let freed = false;
    for (const [taskId, attempt] of o.dispatched) {
      const p = pending.get(taskId);
      if (!p || p.nextAttempt > attempt) {
        o.dispatched.delete(taskId);
        inflightTasks--;
        freed = true;
      }
    }
    if (freed) for (const sid of starved) if (sid !== jobId) markDirty(sid);

    if (e.state === 'RUNNING') {
      const ctx = ctxOf(e);
      const p = ctx.progress;
      // Items decide, but a failed task also counts: a failed part of a split file carries no item.
      if (shouldFail(s) || (p.tasksTotal > 0 && p.tasksFailed / p.tasksTotal > ctx.maxFailedRatio)) {
        void write(e, [{ kind: 'finish', outcome: 'failed', error: { code: 'TOO_MANY_FAILURES', message: `${p.itemsFailed} of ${p.itemsTotal} items and ${p.tasksFailed} of ${p.tasksTotal} tasks failed (item ratio ${failedRatio(s).toFixed(3)}, allowed ${ctx.maxFailedRatio})` } }]);
      } else if (allTasksFinal(s)) {
        void verify(e, o, true);
      } else {
        dispatch(e, o, pending);
      }
    } else if (e.state === 'VERIFYING') {
      void verify(e, o, false);
    }
  }

  function dispatch(e: JobEntry, o: Owned, pending: Map<string, { nextAttempt: number; task: TaskPlan }>) {
    const ctx = ctxOf(e);
    const limit = window();
    for (const { task, nextAttempt } of pending.values()) {
      if (o.dispatched.has(task.taskId)) continue;
      const retry = o.retries.get(task.taskId);
      if (retry && !retry.due) continue;
      if (inflightTasks >= limit) {
        starved.add(e.id);
        return;
      }
      if (nextAttempt > 1 && !retry) {
        // A retry after a failure: back off exponentially, off the window until it is due.
        const delay = config.retryBackoffMs * 2 ** Math.min(10, nextAttempt - 2);
        const r = { due: false, timer: undefined as unknown };
        r.timer = clock.setTimeout(() => {
          r.due = true;
          markDirty(e.id);
        }, delay);
        o.retries.set(task.taskId, r);
        continue;
      }
      o.retries.delete(task.taskId);
      send(e, o, ctx, task, nextAttempt);
    }
    starved.delete(e.id);
  }

  function send(e: JobEntry, o: Owned, ctx: JobContext, task: TaskPlan, attempt: number) {
    o.dispatched.set(task.taskId, attempt);
    inflightTasks++;
    taskQueue
      .dispatch(config.pool, { jobId: e.id, taskId: task.taskId, attempt, epoch: o.epoch, type: ctx.type, payload: task.payload, spec: ctx.spec })
      .catch((err: unknown) => {
        log.warn({ jobId: e.id, taskId: task.taskId, err }, 'dispatch failed; will retry');
        if (owned.get(e.id) === o && o.dispatched.get(task.taskId) === attempt) {
          o.dispatched.delete(task.taskId);
          inflightTasks--;
        }
        clock.setTimeout(() => markDirty(e.id), config.retryBackoffMs);
      });
  }

  async function verify(e: JobEntry, o: Owned, fromRunning: boolean) {
    if (o.verifying) return;
    const ctx = ctxOf(e);
    const type = registry.get(ctx.type);
    if (fromRunning && !type?.instantVerify) {
      await write(e, [{ kind: 'startVerification' }]);
      return;
    }
    o.verifying = true;
    try {
      const results: TaskResult[] = [];
      for (const t of ctx.tasks ?? []) {
        const r = getTaskStatus(ctx, t.taskId)?.result;
        if (r) results.push(r);
      }
      let outcome: { ok: true; summary?: unknown } | { ok: false; code: string; message: string };
      try {
        outcome = type
          ? await type.verify(ctx.spec, { jobId: e.id, roots, tasks: ctx.tasks ?? [], results, signal: o.abort.signal })
          : { ok: false, code: 'UNKNOWN_JOB_TYPE', message: `no job type ${ctx.type}` };
      } catch (err) {
        outcome = { ok: false, code: 'VERIFY_ERROR', message: err instanceof Error ? err.message : String(err) };
      }
      const cur = projection.get(e.id);
      if (!cur || owned.get(e.id) !== o || o.abort.signal.aborted) return;
      const finish: JobCommand = outcome.ok
        ? { kind: 'finish', outcome: 'succeeded', ...(outcome.summary !== undefined ? { summary: outcome.summary } : {}) }
        : { kind: 'finish', outcome: 'failed', error: { code: outcome.code, message: outcome.message } };
      await write(cur, cur.state === 'RUNNING' ? [{ kind: 'startVerification' }, finish] : [finish]);
    } finally {
      o.verifying = false;
    }
  }

  function recoverOrphans() {
    // Judge peers only after watching them for a full detection timeout ourselves.
    if (clock.monotonic() - startedAtMono < config.failureDetectionTimeoutMs) return;
    const alive = new Set(liveness.alive('coord', config.failureDetectionTimeoutMs).map((x) => x.id));
    alive.add(id);
    for (const e of projection.active()) {
      const owner = ctxOf(e).coordinatorId;
      if (owner && !alive.has(owner) && !writing.has(e.id)) {
        log.info({ jobId: e.id, from: owner }, 'requeueing job of a dead coordinator');
        void write(e, [{ kind: 'requeue', fromCoordinator: owner }], `coordinator ${owner} missed heartbeats for ${config.failureDetectionTimeoutMs} ms`);
      }
    }
  }

  async function beat() {
    try {
      await liveness.beat('coord', id, { owned: owned.size });
    } catch (err) {
      log.warn({ err }, 'heartbeat failed');
    }
    recoverOrphans();
    if (running) heartbeatTimer = clock.setTimeout(() => void beat(), config.heartbeatMs);
  }

  return {
    id,
    async start() {
      running = true;
      startedAtMono = clock.monotonic();
      unsubscribe = projection.onChange(onChange);
      await beat();
      scheduleClaims();
      log.info({ capacity: config.runningJobCapacity }, 'coordinator started');
    },
    async stop(opts = {}) {
      if (!running) return;
      running = false;
      lifetime.abort('coordinator stopping');
      clock.clearTimeout(heartbeatTimer);
      clock.clearTimeout(claimRetry);
      unsubscribe?.();
      const handoff = opts.handoff ?? true;
      const jobs = [...owned.keys()];
      for (const jobId of jobs) release(jobId, 'stopping');
      if (handoff) {
        await Promise.all(
          jobs.map(async (jobId) => {
            const e = projection.get(jobId);
            if (!e || !(e.state === 'RUNNING' || e.state === 'PAUSED' || e.state === 'VERIFYING')) return;
            const d = decide({ kind: 'requeue', fromCoordinator: id }, e.snapshot, meta('coordinator shutting down'));
            if (!d.ok) return;
            await eventLog
              .append(jobEvSubject(jobId), d.events, { expectedLastSubjectSeq: e.lastEvSeq })
              .catch((err: unknown) => log.warn({ jobId, err }, 'handoff requeue failed; peers will requeue after the detection timeout'));
          }),
        );
      }
      await liveness.leave('coord', id).catch(() => undefined);
      log.info({ handedOff: handoff ? jobs.length : 0 }, 'coordinator stopped');
    },
    owned: () => [...owned.keys()],
  };
}
