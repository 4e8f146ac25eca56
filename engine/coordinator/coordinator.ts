import type { JobEvent, TaskPlan } from '../../actors/events.ts';
import { decide, decideFolded, type CommandMeta, type JobCommand } from '../../actors/decide.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import { allTasksFinal, pendingTasks, shouldFail, failedRatio, type JobSnapshot } from '../../actors/jobFold.ts';
import { isAppError } from '../errors.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { jobEvSubject } from '../subjects.ts';
import { claimOrder, quotaBuckets } from '../quota/claimQuota.ts';
import { cachedSlots, effectiveClusters } from '../quota/shares.ts';

import type { Coordinator, CoordinatorDeps, Owned } from './types.ts';
import { stopStep } from './cooperativeStop.ts';
import { createTaskWindow } from './taskWindow.ts';
import { createPeerJudge } from './peerJudge.ts';
import { verifyJob } from './verification.ts';

export type { Coordinator, CoordinatorConfig, CoordinatorDeps, CoordinatorStats } from './types.ts';

const isActiveState = (s: string) => s === 'RUNNING' || s === 'PAUSED' || s === 'VERIFYING';

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
  /** Jobs being claimed (planning or appending) → the VC whose share the claim counts against. */
  const claiming = new Map<string, string>();
  /** VC → our claims in flight, so one pass (or the next, before the projection has them) does not overshoot. */
  const claimingPerVc = new Map<string, number>();
  let claimPasses = 0;
  /** Live coordinators (us included), refreshed every heartbeat: sets the cluster's slots. */
  let liveCoordinators = 1;
  const defaultClusters = effectiveClusters([]);
  const slotsFor = cachedSlots(deps.virtualClusters ?? (() => defaultClusters));
  const dirty = new Set<string>();
  const starved = new Set<string>();
  const tasks = createTaskWindow({
    maxTasksPerWorker: config.maxTasksPerWorker,
    liveWorkers: () => liveness.alive('worker', config.failureDetectionTimeoutMs).length,
    virtualClusters: deps.virtualClusters ?? (() => defaultClusters),
  });
  let running = false;
  let flushQueued = false;
  let claimQueued = false;
  let heartbeatTimer: unknown;
  const judge = createPeerJudge(clock, config.failureDetectionTimeoutMs);
  let unsubscribe: (() => void) | undefined;
  /** Aborted on stop: cancels planning and verification in progress. */
  const lifetime = new AbortController();

  const meta = (reason?: string): CommandMeta => ({ actor, at: new Date(clock.now()).toISOString(), ...(reason ? { reason } : {}) });
  const ctxOf = (e: JobEntry) => e.snapshot.context as JobContext;
  const priorityOf = (e: JobEntry) => ctxOf(e).priority;

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

  /** VCs of our jobs that have tasks ready but no slot (besides `except`). */
  function* wantingVcs(except: string): Generator<string> {
    for (const id of starved) {
      const o = id === except ? undefined : owned.get(id);
      if (o) yield o.vc;
    }
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
    tasks.count(o.vc, -o.dispatched.size);
    for (const r of o.retries.values()) clock.clearTimeout(r.timer);
    clock.clearTimeout(o.stopTimer);
    o.abort.abort('released'); // a string reason: no DOMException (and stack) per job
    starved.delete(jobId);
    log.debug({ jobId, why }, 'released job');
    for (const s of starved) markDirty(s);
    scheduleClaims();
  }

  function onChange(e: JobEntry, before: string | undefined, r: { seq: number; subject: string }) {
    const w = writing.get(e.id);
    if (w !== undefined && w !== IN_FLIGHT && r.seq >= w) writing.delete(e.id);
    if (!running) return;
    const ctx = ctxOf(e);
    const mine = ctx.coordinatorId === id && (e.state === 'RUNNING' || e.state === 'PAUSED' || e.state === 'VERIFYING');
    if (mine) {
      unclaim(e.id);
      const o = owned.get(e.id);
      if (!o || o.epoch !== ctx.epoch) {
        if (o) release(e.id, 'epoch changed');
        owned.set(e.id, { epoch: ctx.epoch, vc: ctx.virtualCluster, dispatched: new Map(), retries: new Map(), verifying: false, abort: new AbortController() });
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
      if (e.state !== 'WAITING' || ctx.epoch > 0) unclaim(e.id);
    }
    if (stopIfOwnerLost(e)) return;
    // A job became claimable, or one left its VC's share (maybe a peer's): claims may fit now.
    if (e.state === 'WAITING' || (before !== undefined && isActiveState(before) && !isActiveState(e.state))) scheduleClaims();
  }

  /** Decide `cmds` in order on the current snapshot and append all resulting events in one CAS write. */
  async function write(e: JobEntry, cmds: JobCommand[], reason?: string): Promise<boolean> {
    const base = e.snapshot;
    let s: JobSnapshot = base;
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
      if (!res.duplicate) projection.prefolded(res.seq, e.id, base, s);
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

  function unclaim(jobId: string) {
    const vc = claiming.get(jobId);
    if (vc === undefined) return;
    claiming.delete(jobId);
    const n = (claimingPerVc.get(vc) ?? 1) - 1;
    if (n > 0) claimingPerVc.set(vc, n);
    else claimingPerVc.delete(vc);
  }

  /**
   * Claims WAITING jobs within this coordinator's room (runningJobCapacity − owned − claiming) and
   * within the VC shares of the whole cluster (total slots = runningJobCapacity × live
   * coordinators): first VCs below their guaranteed share, then VCs borrowing up to their max.
   * Shares are judged on the projection plus our own claims in flight; peers claiming at the same
   * moment do not see each other's claims, so concurrent coordinators may overshoot a VC's max
   * by at most their concurrent claims (it settles as those jobs finish: nobody claims above max).
   */
  function claimPass() {
    if (!running) return;
    let room = config.runningJobCapacity - owned.size - claiming.size;
    if (room <= 0) return;
    claimPasses++;
    // Counted now, not at the last heartbeat: a heartbeat stuck in an outage would keep a dead peer's
    // slots in the total (found by test/sim: one coordinator took a VC to three times its max).
    liveCoordinators = countLiveCoordinators();
    const buckets = quotaBuckets(slotsFor(config.runningJobCapacity * liveCoordinators), projection.virtualClusterCounts(), claimingPerVc);
    const skip = (e: JobEntry) => claiming.has(e.id) || writing.has(e.id);
    for (const { entry: e, vc } of claimOrder(buckets, (name) => projection.waiting(name), priorityOf, skip)) {
      claiming.set(e.id, vc);
      claimingPerVc.set(vc, (claimingPerVc.get(vc) ?? 0) + 1);
      void claim(e.id);
      if (--room <= 0) break;
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
        unclaim(jobId);
        retryClaimsLater();
      }
    }
  }

  /**
   * A stop was requested and its owner lost it (requeued): nothing runs, so stop it now rather than
   * claim it, which would wait for a slot in its VC's share (found by test/sim). Peers race; CAS picks
   * one. Checked on every change and again when our own write settles or fails (drive): a change seen
   * while our requeue was still in flight must not be missed (found by test/sim: the job waited for a
   * slot instead).
   */
  function stopIfOwnerLost(e: JobEntry): boolean {
    if (e.state !== 'WAITING' || !ctxOf(e).stopRequested || writing.has(e.id) || claiming.has(e.id)) return false;
    void write(e, [{ kind: 'stop', force: true }], 'stop: requested before its owner was lost; nothing was running');
    return true;
  }

  function drive(jobId: string) {
    if (!running) return;
    const e = projection.get(jobId);
    const o = owned.get(jobId);
    if (!e) return;
    if (!o) {
      stopIfOwnerLost(e);
      return;
    }
    if (writing.has(jobId)) return;
    const s = e.snapshot;
    const pending = new Map<string, { nextAttempt: number; task: TaskPlan }>();
    for (const p of pendingTasks(s)) pending.set(p.task.taskId, p);
    let freed = false;
    for (const [taskId, attempt] of o.dispatched) {
      const p = pending.get(taskId);
      if (!p || p.nextAttempt > attempt) {
        o.dispatched.delete(taskId);
        tasks.count(o.vc, -1);
        freed = true;
      }
    }
    if (freed) for (const sid of starved) if (sid !== jobId) markDirty(sid);

    if (ctxOf(e).stopRequested) {
      stopCooperatively(e, o);
    } else if (e.state === 'RUNNING') {
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

  /**
   * A stop was requested: dispatch nothing more, drop pending retries, and append JobStopped once
   * nothing we dispatched is in flight, or once the grace period passed on our own monotonic clock
   * from when we learnt of the request (forced; cooperativeStop.ts). A verifying job stops at once.
   */
  function stopCooperatively(e: JobEntry, o: Owned) {
    for (const r of o.retries.values()) clock.clearTimeout(r.timer);
    o.retries.clear();
    starved.delete(e.id);
    const step = stopStep({
      verifying: e.state === 'VERIFYING' || o.verifying, inFlight: o.dispatched.size, deadlinePassed: o.stopDue === true,
      timerArmed: o.stopTimer !== undefined, graceMs: ctxOf(e).stopRequested!.graceMs,
    });
    if (step.kind === 'stop') {
      if (step.abortVerification) o.abort.abort('stop requested'); // its result is dropped: its write checks the signal
      void write(e, [{ kind: 'stop', force: true }], step.reason);
    } else if (step.delayMs !== undefined) {
      o.stopTimer = clock.setTimeout(() => {
        o.stopDue = true;
        markDirty(e.id);
      }, step.delayMs);
    }
  }


  function dispatch(e: JobEntry, o: Owned, pending: Map<string, { nextAttempt: number; task: TaskPlan }>) {
    const ctx = ctxOf(e);
    const mayDispatch = tasks.pass();
    for (const { task, nextAttempt } of pending.values()) {
      if (o.dispatched.has(task.taskId)) continue;
      const retry = o.retries.get(task.taskId);
      if (retry && !retry.due) continue;
      if (!mayDispatch(o.vc, () => wantingVcs(e.id))) {
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
    tasks.count(o.vc, 1);
    taskQueue
      .dispatch(config.pool, { jobId: e.id, taskId: task.taskId, attempt, epoch: o.epoch, type: ctx.type, payload: task.payload, spec: ctx.spec })
      .catch((err: unknown) => {
        log.warn({ jobId: e.id, taskId: task.taskId, err }, 'dispatch failed; will retry');
        if (owned.get(e.id) === o && o.dispatched.get(task.taskId) === attempt) {
          o.dispatched.delete(task.taskId);
          tasks.count(o.vc, -1);
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
      const finish = await verifyJob(type, ctx, { jobId: e.id, roots, signal: o.abort.signal });
      const cur = projection.get(e.id);
      if (!cur || owned.get(e.id) !== o || o.abort.signal.aborted) return;
      await write(cur, cur.state === 'RUNNING' ? [{ kind: 'startVerification' }, finish] : [finish]);
    } finally {
      o.verifying = false;
    }
  }

  function recoverOrphans() {
    // Judge peers only after watching them for a full detection timeout ourselves, without a stall.
    if (!judge.mayJudge()) return;
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

  /** Coordinators alive in our view (heartbeat seen within the detection timeout), ourselves included. */
  function countLiveCoordinators(): number {
    return new Set(liveness.alive('coord', config.failureDetectionTimeoutMs).map((x) => x.id)).add(id).size;
  }

  async function beat() {
    judge.tick();
    try {
      await liveness.beat('coord', id, { owned: owned.size });
    } catch (err) {
      log.warn({ err }, 'heartbeat failed');
    }
    const coordinators = countLiveCoordinators();
    if (coordinators !== liveCoordinators) {
      // The number of live coordinators sets the cluster's slots: a change may make room for claims.
      liveCoordinators = coordinators;
      scheduleClaims();
    }
    recoverOrphans();
    if (running) heartbeatTimer = clock.setTimeout(() => void beat(), config.heartbeatMs);
  }

  return {
    id,
    async start() {
      running = true;
      judge.restart();
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
    stats: () => ({ owned: owned.size, inflightTasks: tasks.total, inflightTasksPerVc: tasks.perVc(), claimPasses }),
  };
}
