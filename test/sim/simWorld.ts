/**
 * A simulated cluster: the real engine (coordinators, workers, one API process) over one in-memory
 * event log, task queue and liveness bucket, with simulated time, seeded ids and fast-check
 * choosing the order of every I/O completion. Commands change it; `heal` then lets it converge.
 */
import type fc from 'fast-check';
import type { Config, Role } from '../../engine/config.ts';
import { startRoles, type Roles } from '../../engine/startRoles.ts';
import { isAppError } from '../../engine/errors.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../engine/eventlog/memoryEventLog.ts';
import type { JobTypeRegistry } from '../../engine/jobtypes/registry.ts';
import { createMemoryLiveness, createMemoryLivenessStore, type MemoryLivenessStore } from '../../engine/liveness/memoryLiveness.ts';
import { silentLogger, type Logger } from '../../engine/log.ts';
import { pino } from 'pino';
import { entryView, jobView, submitSeqOf } from '../../engine/projections/jobEntry.ts';
import { createJobProjection, type JobProjection } from '../../engine/projections/jobProjection.ts';
import { SYSTEM_CALLER, type By, type Caller, type JobView } from '../../engine/serviceTypes.ts';
import { createMemoryTaskQueue } from '../../engine/taskqueue/memoryTaskQueue.ts';
import { createMemoryControlStore } from '../../engine/controlstore/controlStore.ts';
import { startHookDeliverer, type PostFn } from '../../engine/hooks/deliverer.ts';
import type { HookConsumerHandle, HookMessage } from '../../engine/hooks/hookMessage.ts';
import type { HookQueue } from '../../engine/hooks/hookQueue.ts';
import { createMemoryHookQueue, type MemoryHookQueue } from '../../engine/hooks/memoryHookQueue.ts';
import { TERMINAL_STATES, type JobEvent, type JobsRemoved } from '../../actors/events.ts';
import { restoreJob } from '../../actors/jobFold.ts';
import type { Random } from '../../engine/clock.ts';
import { effectiveClusters, vcSlots, type VirtualClusterDef } from '../../engine/quota/shares.ts';
import { parseSubject, RETENTION_REMOVED_SUBJECT } from '../../engine/subjects.ts';
import { undeliveredNotifications, type ReceivedNotification } from './simChecks.ts';
import type { SimAs, SimCommand } from './simCommands.ts';
import { SimClock, seededRandom, settleMicrotasks } from './simClock.ts';
import { createSimNetwork, currentProc, type SimNetwork } from './simNetwork.ts';
import type { ClockRef } from './simSleepJobType.ts';
import { createSimProcess, type ProcessKind, type ProcessState, type SimProcess } from './simProcess.ts';

/** Allowed on top of grace + detection timeout for a stop to land: a heartbeat, a claim and a write or two. */
const STOP_SLACK_MS = 400;

/** A process of the cluster and the engine running in it (once started). */
export interface SimNode {
  proc: SimProcess;
  core?: Roles;
  /** Graceful stop (handoff) under way. */
  retiring?: boolean;
  /** Simulated time it was crashed or began retiring (peers keep counting it for a while). */
  goneAtMs?: number;
  /** A coordinator's webhook deliverer. */
  hooks?: HookConsumerHandle;
}

/** Errors a client may legitimately get back from the service under faults. */
const EXPECTED_CLIENT_ERRORS: ReadonlySet<string> = new Set(['INVALID_TRANSITION', 'UNAVAILABLE', 'CONFLICT', 'QUEUE_FULL']);
const plus = (...codes: string[]): ReadonlySet<string> => new Set([...EXPECTED_CLIENT_ERRORS, ...codes]);

/** Two users, each granted one virtual cluster (and `default`). */
export const SIM_USERS: readonly Caller[] = Object.freeze([
  Object.freeze({ user: 'ann', role: 'operator' as const, virtualClusters: Object.freeze(['alpha']) }),
  Object.freeze({ user: 'bob', role: 'operator' as const, virtualClusters: Object.freeze(['beta']) }),
]);

/** The virtual clusters of every run (one array: the coordinator caches slots by identity). */
export const SIM_VIRTUAL_CLUSTERS: readonly VirtualClusterDef[] = Object.freeze(effectiveClusters([
  { name: 'alpha', capacity: 30, maxCapacity: 50 },
  { name: 'beta', capacity: 20, maxCapacity: 40 },
]));


/** A job's view without what compaction may change (the flag itself). */
const comparable = (v: JobView) => JSON.stringify({ ...v, compacted: undefined });
/** Scheduler steps without the system going quiet: a livelock. */
const MAX_QUIESCE_STEPS = 50_000;
/** Retention passes every process gets before the final checks: a lost tail is suspected in one, reconciled in the next. */
const SETTLE_PASSES = 3;
/** Simulated time the webhook deliverers get after the run to deliver what they owe (retries back off). */
const WEBHOOK_SETTLE_MS = 120_000;
/** Fixed, so that a run's signatures replay (the generated one comes from node:crypto). */
const SIM_CALLBACK_SECRET = 'sim-callback-secret-0123456789';
/** Where simulated jobs' callbacks go: `?fail=k` makes the receiver refuse the first k POSTs of each delivery. */
export const SIM_RECEIVER_URL = 'https://receiver.sim/hook';

export interface SimWorldOptions {
  scheduler: fc.Scheduler;
  seed: number;
  config: Readonly<Config>;
  registry: JobTypeRegistry;
  /** The clock the registry's `sim-sleep` job type reads; set to this world's clock. */
  clockRef: ClockRef;
  /** Wall-clock skew of the n-th coordinator started (cycled); none when empty or absent. */
  coordinatorSkewsMs?: readonly number[];
  /**
   * Some submissions carry a callbackUrl (simCommands.ts). Off for replays of runs pinned before
   * callbacks existed: with it off (and hence no notification to deliver) a run replays as it did.
   * @defaultValue true
   */
  callbacks?: boolean;
}

const by: By = { caller: SYSTEM_CALLER, reason: 'sim' };

/** See the module comment. */
export class SimWorld {
  readonly clock = new SimClock();
  readonly log: MemoryEventLog;
  readonly truth: JobProjection;
  readonly net: SimNetwork;
  readonly nodes: SimNode[] = [];
  /** Ids of jobs whose submission the service acknowledged. */
  readonly accepted: string[] = [];
  /** Owner of each accepted job. */
  readonly owners = new Map<string, string>();
  /** Every record as it was appended, before any rollup or purge: the full history. */
  readonly journal: LogRecord[] = [];
  /** Jobs whose `.ev` subject retention purged (removed): gone from the store and the service. */
  readonly removed = new Set<string>();
  /**
   * Runs (`jobId@submitSeq`) a JobsRemoved notice named: their removal is decided (every process
   * forgets them, webhook deliverers too) even if the writer died before its purges, which the next
   * writer then finishes (engine/retention/removeJobs.ts).
   */
  readonly removalAnnounced = new Set<string>();
  /** Each compacted job's view just before its JobCompacted. */
  readonly beforeCompaction = new Map<string, JobView>();
  /** Simulated time healing started (undefined while faults are injected). */
  healStartMs: number | undefined;
  /** Open cooperative stops: when the StopRequested reached the store, and its grace. */
  readonly #stops = new Map<string, { atMs: number; graceMs: number }>();
  /** Wall-clock skew by event actor (`coordinator:<id>`): maps the `at` it writes back to the simulated time. */
  readonly #skewByActor = new Map<string, number>();
  readonly violations: string[] = [];
  /** Every POST the simulated webhook receiver got, in order. */
  readonly received: ReceivedNotification[] = [];
  /** The webhooks' durable queue (one, shared by the coordinators' deliverers, like the JetStream durable). */
  readonly hookQueue: MemoryHookQueue;
  /** See {@link SimWorldOptions.callbacks}. */
  readonly callbacks: boolean;
  /** Global webhooks and settings (none are created: the runs exercise per-job callbacks). */
  readonly #controlStore = createMemoryControlStore();
  /** What happened, for the failure report. */
  readonly trace: string[] = [];
  readonly #scheduler: fc.Scheduler;
  readonly #random: Random;
  readonly #liveness: MemoryLivenessStore = createMemoryLivenessStore();
  /** The liveness bucket as the simulation reads it (never beats). */
  readonly #livenessView = createMemoryLiveness({ clock: this.clock, store: this.#liveness });
  readonly #opts: SimWorldOptions;
  #api: SimNode | undefined;
  #names = new Map<ProcessKind, number>();

  constructor(opts: SimWorldOptions) {
    this.#opts = opts;
    this.#scheduler = opts.scheduler;
    this.#random = seededRandom(opts.seed);
    this.callbacks = opts.callbacks ?? true;
    opts.clockRef.clock = this.clock;
    this.log = createMemoryEventLog({ clock: this.clock });
    // Unscheduled, like the truth: records reach the queue as they are stored; handing one to a
    // deliverer, and everything the deliverer does, is I/O of its process.
    this.hookQueue = createMemoryHookQueue({ eventLog: this.log, clock: this.clock });
    const queue = createMemoryTaskQueue({ clock: this.clock, ackWaitMs: opts.config.taskAckWaitMs, maxDeliver: opts.config.taskMaxDeliver });
    this.truth = createJobProjection({ logger: silentLogger, clock: this.clock });
    // Unscheduled: the truth is current whenever the scheduler is between two steps.
    this.log.follow(1, (r) => this.#observe(r));
    this.net = createSimNetwork({
      scheduler: opts.scheduler, log: this.log, queue, truth: this.truth,
      onDispatch: (proc, task) => this.#checkStillRuns(proc, task.jobId, `${proc.name} dispatched ${task.taskId}#${task.attempt}`),
      onPurge: (_proc, subject) => {
        const sub = parseSubject(subject);
        if (sub?.kind === 'job-ev') this.removed.add(sub.id);
      },
    });
    opts.clockRef.onRun = (ctx) => {
      const proc = currentProc.getStore();
      if (proc) this.#checkStillRuns(proc, ctx.jobId, `${proc.name} ran ${ctx.taskId}#${ctx.attempt}`);
      else this.violations.push(`a task of ${ctx.jobId} ran outside any worker`);
    };
  }

  /**
   * A process never starts a task of a job it already knows is terminal, unless the job was
   * recovered and claimed again since (the store is ahead of this process: the task belongs to the
   * new run, and dropping it would lose it).
   */
  #checkStillRuns(proc: SimProcess, jobId: string, what: string): void {
    // what the process knows: its projection's facts, or a worker-only process's slim job view
    const core = this.nodes.find((n) => n.proc === proc)?.core;
    const known = core?.jobFacts.get(jobId);
    if (!known || !known.terminal) return;
    const now = this.truth.get(jobId);
    const newerRun = now !== undefined && now.snapshot.context.epoch > known.epoch && !TERMINAL_STATES.has(now.state);
    if (!newerRun) this.violations.push(`${what} of ${jobId}, which it knew was ${core?.projection.get(jobId)?.state ?? 'terminal'} (epoch ${known.epoch})`);
  }

  /** Every record, in order, as it reaches the store: journal, truth, and the checks that need time. */
  #observe(r: LogRecord): void {
    this.journal.push(r);
    const sub = parseSubject(r.subject);
    const id = sub?.kind === 'job-ev' || sub?.kind === 'job-task' ? sub.id : undefined;
    const before = id !== undefined ? this.truth.get(id) : undefined;
    if (id !== undefined && before && sub?.kind === 'job-ev') {
      for (const ev of r.events as JobEvent[]) {
        if (ev.type === 'JobCompacted') {
          // A compacted job looks exactly as it did when it finished (only the flag changes).
          // submitSeq included: the rollup carries the job's number, so it must not change either
          const pre = entryView(before);
          const post = jobView(restoreJob(ev), submitSeqOf(ev, r.seq)!);
          this.beforeCompaction.set(id, pre);
          if (comparable(pre) !== comparable(post)) this.violations.push(`compaction changed ${id}'s view: ${comparable(pre)} → ${comparable(post)}`);
        }
        if (ev.type === 'StopRequested') this.#stops.set(id, { atMs: this.clock.monotonic(), graceMs: ev.data.graceMs });
        if (ev.type === 'JobStopped') this.#checkGraceKept(id, ev);
      }
    }
    // the truth keeps every job it ever saw (converged() and the checks need them): not told of removals
    if (r.subject !== RETENTION_REMOVED_SUBJECT) this.truth.apply(r);
    else for (const ev of r.events as JobsRemoved[]) for (const j of ev.data.jobs) this.removalAnnounced.add(`${j.jobId}@${j.submitSeq}`);
    const after = id !== undefined ? this.truth.get(id) : undefined;
    if (id !== undefined && after && TERMINAL_STATES.has(after.state)) this.#stopEnded(id, after.state);
    const claimed = (r.events as JobEvent[]).find((ev) => ev.type === 'JobClaimed');
    const skew = claimed ? (this.#skewByActor.get(claimed.meta.actor) ?? 0) : 0;
    if (after && claimed) this.#checkShares(after.snapshot.context.virtualCluster, Date.parse(claimed.meta.at) - skew - (this.clock.now() - this.clock.monotonic()));
  }

  /**
   * A cooperative stop abandons running tasks only after its whole grace: the owner times it on its
   * own monotonic clock from when it learns of the request, so a clock ahead of the requester's
   * cannot cut it short (the owner learns after the append, hence the bound).
   */
  #checkGraceKept(id: string, ev: JobEvent): void {
    const stop = this.#stops.get(id);
    if (!stop || !ev.meta.reason?.startsWith('stop: grace period over')) return;
    const waited = this.clock.monotonic() - stop.atMs;
    if (waited < stop.graceMs) this.violations.push(`stop of ${id} abandoned its tasks ${waited} ms after StopRequested, before its grace of ${stop.graceMs} ms`);
  }

  /**
   * A stop-requested job ends STOPPED; once healing started (every process up, I/O flowing), within
   * its grace from then (or from the request, if later) plus the failure detection timeout (a dead
   * owner is requeued, then stopped by the next).
   */
  #stopEnded(id: string, state: string): void {
    const stop = this.#stops.get(id);
    if (!stop) return;
    this.#stops.delete(id);
    if (state !== 'STOPPED') this.violations.push(`stop-requested job ${id} ended ${state}, not STOPPED`);
    if (this.healStartMs === undefined) return;
    const c = this.#opts.config;
    // The owner times the grace from when it learns of the request (cooperativeStop.ts): a frozen or
    // cut-off owner learns it once healing starts, at the latest.
    const bound = Math.max(stop.atMs, this.healStartMs) + stop.graceMs + c.failureDetectionTimeoutMs + STOP_SLACK_MS;
    const now = this.clock.monotonic();
    if (now > bound) {
      this.violations.push(`stop-requested job ${id} (at ${stop.atMs} ms, grace ${stop.graceMs} ms, healing from ${this.healStartMs} ms) STOPPED only at ${now} ms, after ${bound} ms`);
    }
  }

  /**
   * A claim never takes a VC above its max share of the slots by more than one concurrent claim per
   * coordinator. Slots = runningJobCapacity × coordinators, counting those gone less than a
   * detection timeout plus a heartbeat ago (a coordinator counts its peers at each heartbeat, from
   * the liveness bucket, where a dead one stays until the detection timeout).
   * Jobs claimed before coordinators died may stay above a smaller share: only claims are judged,
   * by the coordinators there were when the claim was decided (its `meta.at`): an append held up by a
   * partition lands later, when the peers it rightly counted may be gone (found by a 7,000-run hunt).
   */
  #checkShares(vc: string, decidedAtMs: number): void {
    const c = this.#opts.config;
    const at = Math.min(this.clock.monotonic(), decidedAtMs);
    const recent = this.nodes.filter((n) => n.proc.kind === 'coord' && (n.goneAtMs === undefined || at - n.goneAtMs <= c.failureDetectionTimeoutMs + c.heartbeatMs)).length;
    const coordinators = Math.max(1, recent, this.#livenessView.alive('coord', c.failureDetectionTimeoutMs).length);
    const max = vcSlots(SIM_VIRTUAL_CLUSTERS, c.runningJobCapacity * coordinators).get(vc)?.max ?? 0;
    const active = this.truth.virtualClusterCounts().get(vc)?.active ?? 0;
    if (active > max + coordinators) this.violations.push(`a claim took virtual cluster ${vc} to ${active} running jobs, max share ${max} + ${coordinators} coordinators`);
  }

  /** Adds a line to the trace, stamped with the simulated time. */
  note(line: string): void {
    this.trace.push(`${this.clock.monotonic()}ms ${line}`);
  }

  /** One network hop of `proc` (scheduled by fast-check, held while the process is stopped). */
  async #hop(proc: SimProcess, label: string): Promise<void> {
    await this.#scheduler.schedule(Promise.resolve(), `${proc.name}${label}`);
    await proc.gate();
  }

  /** The shared hook queue as `proc` sees it: records reach it only while it runs; a dead one acks nothing. */
  #hookQueueFor(proc: SimProcess): HookQueue {
    const alive = () => proc.state() !== 'dead';
    return {
      consume: (c) => this.hookQueue.consume({
        ...c,
        handler: async (m) => {
          await proc.gate();
          const own: HookMessage = { ...m, ack: () => alive() && m.ack(), nak: (ms) => alive() && m.nak(ms), working: () => alive() && m.working() };
          await c.handler(own);
        },
      }),
    };
  }

  /**
   * The simulated receiver of `proc`'s POSTs: a network hop there and one back; `?fail=k` in the URL
   * answers 503 to the first k POSTs of each delivery, then 204.
   */
  #postFrom(proc: SimProcess): PostFn {
    return async (url, _headers, body) => {
      await this.#hop(proc, '>post');
      const b = JSON.parse(body) as { deliveryId: string; event: string; seq: number; job: { id: string; state: string } };
      const failFirst = Number(new URL(url).searchParams.get('fail') ?? 0);
      const before = this.received.filter((r) => r.deliveryId === b.deliveryId).length;
      const status = before < failFirst ? 503 : 204;
      this.received.push({ jobId: b.job.id, deliveryId: b.deliveryId, event: b.event, seq: b.seq, state: b.job.state, status, by: proc.name });
      await this.#hop(proc, '<post');
      return { status };
    };
  }

  /** A coordinator delivers webhooks from the shared queue, over its own I/O and clock. */
  #startDeliverer(node: SimNode, core: Roles): void {
    const proc = node.proc;
    this.client(`start webhooks in ${proc.name}`, () => startHookDeliverer({
      queue: this.#hookQueueFor(proc), eventLog: this.net.eventLogFor(proc), projection: core.projection, store: this.#controlStore,
      config: { ...this.#opts.config, callbackSecret: SIM_CALLBACK_SECRET }, clock: proc.clock, logger: this.#errorLogger(proc.name), post: this.#postFrom(proc),
      ...(core.coordinator ? { coordinatorId: core.coordinator.id } : {}),
    }), (h) => {
      node.hooks = h;
      if (proc.state() === 'dead' || node.retiring) void h.stop();
    });
  }

  /** Runs `op` in the background; an error outside EXPECTED_CLIENT_ERRORS is a violation. */
  client<T>(what: string, op: () => Promise<T>, onOk?: (v: T) => void, onErr?: () => void, expected: ReadonlySet<string> | (() => ReadonlySet<string>) = EXPECTED_CLIENT_ERRORS): void {
    void op().then(
      (v) => onOk?.(v),
      (err: unknown) => {
        onErr?.();
        const codes = typeof expected === 'function' ? expected() : expected;
        if (isAppError(err) && codes.has(err.code)) this.note(`${what} → ${err.code}`);
        else this.violations.push(`${what} failed unexpectedly: ${err instanceof Error ? err.stack : String(err)}`);
      },
    );
  }

  /** A logger that writes only errors, to the trace (a stored event rejected, a failed retention pass…). */
  #errorLogger(name: string): Logger {
    return pino({ level: 'error', base: null, timestamp: false }, { write: (line: string) => this.note(`${name} logged ${line.trim().slice(0, 400)}`) });
  }

  /** Starts a process of `kind`; it joins the cluster once its projection has replayed the log. */
  start(kind: ProcessKind): SimNode {
    const n = (this.#names.get(kind) ?? 0) + 1;
    this.#names.set(kind, n);
    const skews = this.#opts.coordinatorSkewsMs ?? [];
    const skewMs = kind === 'coord' && skews.length > 0 ? skews[(n - 1) % skews.length]! : 0;
    const proc = createSimProcess(`${kind}${n}`, kind, this.clock, skewMs);
    const node: SimNode = { proc };
    this.nodes.push(node);
    const roles: Role[] = [kind === 'coord' ? 'coordinator' : kind];
    this.note(`start ${proc.name}`);
    this.client(`start ${proc.name}`, () => startRoles({
      config: { ...this.#opts.config, roles }, eventLog: this.net.eventLogFor(proc), taskQueue: this.net.taskQueueFor(proc),
      liveness: createMemoryLiveness({ clock: proc.clock, store: this.#liveness }), registry: this.#opts.registry,
      clock: proc.clock, random: this.#random, logger: this.#errorLogger(proc.name), info: () => { throw new Error('unused in simulation'); },
      virtualClusters: () => SIM_VIRTUAL_CLUSTERS,
    }), (core) => {
      node.core = core;
      if (core.coordinator) this.#skewByActor.set(`coordinator:${core.coordinator.id}`, skewMs);
      if (kind === 'coord') this.#startDeliverer(node, core);
      this.note(`${proc.name} is ${core.coordinator?.id ?? core.worker?.id ?? 'api'}${skewMs !== 0 ? ` (clock ${skewMs > 0 ? '+' : ''}${skewMs} ms)` : ''}`);
    }, () => this.crash(node)); // a process that cannot start exits (a supervisor restarts one in heal)
    if (kind === 'api') this.#api = node;
    return node;
  }

  /** kill -9: timers, I/O and memory are gone; a worker's held tasks come back after ackWait. */
  crash(node: SimNode): void {
    if (node.proc.state() === 'dead') return;
    this.note(`crash ${node.proc.name}`);
    node.goneAtMs ??= this.clock.monotonic();
    node.proc.kill();
    if (node.proc.kind === 'worker') this.net.cutOff(node.proc);
    void node.hooks?.stop(); // pulls no more; what it held comes back after the ack wait
  }

  /** Graceful stop: a coordinator hands its jobs off, a worker drains. */
  retire(node: SimNode): void {
    const core = node.core;
    if (!core || node.retiring || node.proc.state() !== 'running') return;
    node.retiring = true;
    node.goneAtMs = this.clock.monotonic();
    this.note(`retire ${node.proc.name}`);
    this.client(`retire ${node.proc.name}`, () => {
      void node.hooks?.stop(); // as in a shutdown: the deliverer first, then the roles
      return core.stop({ handoff: true });
    }, () => this.crash(node));
  }

  /** Nodes of `kind` that may still act (not dead, not being stopped). */
  live(kind: ProcessKind): SimNode[] {
    return this.nodes.filter((n) => n.proc.kind === kind && n.proc.state() !== 'dead' && !n.retiring);
  }

  /** Started nodes of `kind` in `state`. */
  started(kind: ProcessKind, state: ProcessState = 'running'): SimNode[] {
    return this.live(kind).filter((n) => n.core && n.proc.state() === state);
  }

  #accept(job: JobView, what: string): void {
    this.accepted.push(job.id);
    this.owners.set(job.id, job.owner);
    this.note(`accepted job ${this.accepted.length - 1} = ${job.id} (${what})`);
  }

  /**
   * Submits as SIM_USERS[user] through the API process to `default`, the user's own virtual
   * cluster or the other user's (which must be refused); accepted once the service answers.
   */
  submit(req: { type: string; spec: Record<string, unknown>; maxTaskAttempts: number; maxFailedRatio: number; callbackUrl?: string }, user = 0, vc: 'default' | 'own' | 'other' = 'default'): void {
    const service = this.#api?.core?.service;
    if (!service) return;
    const caller = SIM_USERS[user % SIM_USERS.length]!;
    const other = SIM_USERS[(user + 1) % SIM_USERS.length]!;
    const virtualCluster = vc === 'own' ? caller.virtualClusters[0]! : vc === 'other' ? other.virtualClusters[0]! : undefined;
    const what = `submit ${req.type} ${JSON.stringify(req.spec)} as ${caller.user}${virtualCluster ? ` to ${virtualCluster}` : ''}`;
    this.client(what, () => service.submit({ ...req, ...(virtualCluster ? { virtualCluster } : {}) }, { caller, reason: 'sim' }), (r) => {
      if (vc === 'other') this.violations.push(`${what}: accepted in a virtual cluster ${caller.user} has no access to`);
      if (r.job.owner !== caller.user) this.violations.push(`${what}: job owned by ${r.job.owner}`);
      this.#accept(r.job, `${caller.user}/${r.job.virtualCluster}`);
    }, undefined, vc === 'other' ? plus('VIRTUAL_CLUSTER_FORBIDDEN') : EXPECTED_CLIENT_ERRORS);
  }

  /** The caller `as` stands for on job `id`. */
  #callerFor(id: string, as: SimAs): Caller {
    if (as === 'admin') return SYSTEM_CALLER;
    const owner = this.owners.get(id);
    const i = SIM_USERS.findIndex((u) => u.user === owner);
    return as === 'owner' ? SIM_USERS[Math.max(0, i)]! : SIM_USERS[(i + 1) % SIM_USERS.length]!;
  }

  /**
   * A job command on the `pick`-th accepted job (modulo) through the API process, sent by its
   * owner, the other user (must be JOB_NOT_FOUND) or an admin.
   */
  command(c: Extract<SimCommand, { kind: 'stop' | 'pause' | 'resume' | 'recover' | 'rerun' | 'setActive' }>, pick: number, as: SimAs): void {
    const service = this.#api?.core?.service;
    if (!service || this.accepted.length === 0) return;
    // Commands on finished jobs pick among the jobs they apply to (if any), or they would rarely run.
    const wanted = c.kind === 'recover' ? ['FAILED', 'STOPPED'] : c.kind === 'rerun' || c.kind === 'setActive' ? ['SUCCEEDED', 'FAILED', 'STOPPED'] : undefined;
    const fitting = wanted ? this.accepted.filter((j) => wanted.includes(this.truth.get(j)?.state ?? '')) : [];
    const among = fitting.length > 0 ? fitting : this.accepted;
    const id = among[pick % among.length]!;
    const caller = this.#callerFor(id, as);
    const b: By = { caller, reason: 'sim' };
    const foreign = caller !== SYSTEM_CALLER && caller.user !== this.owners.get(id);
    let what = `${c.kind} ${id} as ${caller.user}`;
    let op: () => Promise<JobView>;
    const extra: string[] = [];
    switch (c.kind) {
      case 'stop':
        what += ` grace ${c.graceMs ?? 'default'}${c.force ? ' force' : ''}`;
        op = () => service.stop(id, { ...b, ...(c.graceMs !== undefined ? { graceMs: c.graceMs } : {}), ...(c.force ? { force: true } : {}) });
        break;
      case 'pause':
      case 'resume':
        op = () => service[c.kind](id, b);
        break;
      case 'recover':
        what += ` ${c.mode}`;
        op = () => service.recover(id, { ...b, mode: c.mode });
        extra.push('JOB_COMPACTED');
        break;
      case 'setActive':
        what += ` ${c.active}`;
        op = () => service.setActive(id, c.active, b);
        break;
      case 'rerun':
        op = () => service.rerun(id, b);
        break;
    }
    if (foreign) extra.push('JOB_NOT_FOUND');
    this.note(what);
    this.client(what, op, (v) => {
      if (foreign) this.violations.push(`${what}: ${caller.user} controlled ${this.owners.get(id)}'s job`);
      if (c.kind === 'rerun') {
        if (v.rerunOf !== id || v.owner !== this.owners.get(id)) this.violations.push(`${what}: rerun ${v.id} has rerunOf ${v.rerunOf}, owner ${v.owner}`);
        this.#accept(v, `rerun of ${id}`);
      }
    }, undefined, () => plus(...extra, ...(this.removed.has(id) ? ['JOB_NOT_FOUND'] : []))); // removed while in flight
  }

  /** One retention pass now in `node` (compaction and removal if a coordinator, removal from memory if not). */
  retention(node: SimNode): void {
    const core = node.core;
    if (!core) return;
    this.note(`retention in ${node.proc.name}`);
    this.client(`retention in ${node.proc.name}`, () => core.retention.runOnce(), (r) => {
      if (r.compacted + r.removed > 0) this.note(`retention in ${node.proc.name}: ${r.compacted} compacted, ${r.removed} removed`);
    });
  }

  /** SIM_USERS[user] reads the `pick`-th accepted job and lists every job: only its own ever show. */
  peek(pick: number, user: number): void {
    const service = this.#api?.core?.service;
    if (!service || this.accepted.length === 0) return;
    const caller = SIM_USERS[user % SIM_USERS.length]!;
    const id = this.accepted[pick % this.accepted.length]!;
    const own = this.owners.get(id) === caller.user;
    this.#checkVisibility(service, caller, id, own);
  }

  #checkVisibility(service: Roles['service'], caller: Caller, id: string, own: boolean): void {
    const allowed = () => (own && !this.removed.has(id) ? EXPECTED_CLIENT_ERRORS : plus('JOB_NOT_FOUND'));
    this.client(`get ${id} as ${caller.user}`, () => service.get(id, caller), (v) => {
      if (v.owner !== caller.user) this.violations.push(`${caller.user} saw ${v.owner}'s job ${id} through get`);
    }, undefined, allowed);
    this.client(`list as ${caller.user}`, () => service.list({ limit: 1000, active: 'all' }, caller), (r) => {
      for (const v of r.jobs) if (v.owner !== caller.user) this.violations.push(`${caller.user} saw ${v.owner}'s job ${v.id} in a list`);
    });
  }

  /**
   * After healing and a few retention passes: a removed job is gone from every process, every user sees only its own jobs, and every compacted job (still there) reads
   * as it did when it finished: state, progress and error.
   */
  async finalChecks(): Promise<void> {
    const service = this.#api?.core?.service;
    if (!service) return;
    // Removed before the settling: once every process has had retention passes, no process still
    // shows such a job, even one that never read the records of its removal (removalReconciler.ts).
    // Passes run now, without advancing time: the age rule must not be what hides a stale job.
    const removedBefore = new Set(this.removed);
    for (let i = 0; i < SETTLE_PASSES; i++) {
      await this.quiesce();
      for (const n of this.nodes) if (n.core && n.proc.state() === 'running') this.retention(n);
    }
    await this.quiesce();
    for (const id of removedBefore) {
      this.client(`get removed ${id}`, () => service.get(id, SYSTEM_CALLER), (v) => {
        this.violations.push(`removed job ${id} still reads as ${v.state}${v.compacted ? ' (compacted)' : ''} after ${SETTLE_PASSES} retention passes`);
      }, undefined, plus('JOB_NOT_FOUND'));
      // coordinators too: one holding a removed job as running would keep a slot for it
      for (const n of this.nodes) {
        const held = n.core && n.proc.state() === 'running' ? n.core.projection.get(id)?.state ?? (n.core.jobFacts.get(id) ? 'in its job view' : undefined) : undefined;
        if (held) this.violations.push(`${n.proc.name} still holds removed job ${id} as ${held} after ${SETTLE_PASSES} retention passes`);
      }
    }
    for (const caller of SIM_USERS) for (const id of this.accepted) this.#checkVisibility(service, caller, id, this.owners.get(id) === caller.user);
    for (const [id, pre] of this.beforeCompaction) {
      this.client(`get compacted ${id}`, () => service.get(id, SYSTEM_CALLER), (v) => {
        const pick = (x: JobView) => JSON.stringify([x.submitSeq, x.state, x.progress, x.error]);
        if (pick(v) !== pick(pre)) this.violations.push(`compacted job ${id} reads ${pick(v)}, finished as ${pick(pre)}`);
        if (!v.compacted) this.violations.push(`compacted job ${id} reads as not compacted`);
      }, undefined, () => (this.removed.has(id) ? plus('JOB_NOT_FOUND') : EXPECTED_CLIENT_ERRORS));
    }
    await this.quiesce();
    await this.#settleWebhooks();
  }

  /** Notifications owed now: see {@link undeliveredNotifications}. A job whose removal was announced is owed nothing. */
  #undelivered(): string[] {
    const announced = (id: string) => {
      const e = this.truth.get(id);
      return e !== undefined && this.removalAnnounced.has(`${id}@${e.submitSeq}`);
    };
    const jobs = this.accepted.filter((id) => !this.removed.has(id) && !announced(id)).map((id) => {
      const e = this.truth.get(id);
      return { id, state: e?.state, callbackUrl: (e?.snapshot.context as { callbackUrl?: string } | undefined)?.callbackUrl };
    });
    return undeliveredNotifications(this.journal, jobs, this.received);
  }

  /**
   * Lets the deliverers finish (time passes while their retries back off; retention is stopped), then
   * checks that every job still there that ended with a callback had its last terminal event
   * notified and accepted.
   */
  async #settleWebhooks(): Promise<void> {
    // The deliverer owes a notification while the job exists: no removal may end what is owed now.
    for (const n of this.nodes) n.core?.retention.stop();
    const deadline = this.clock.monotonic() + WEBHOOK_SETTLE_MS;
    for (;;) {
      await this.quiesce();
      const owed = this.#undelivered();
      if (owed.length === 0) return;
      const next = this.clock.nextDue();
      if (next === undefined || this.clock.monotonic() >= deadline) {
        this.violations.push(...owed.map((v) => `${v} (${WEBHOOK_SETTLE_MS} ms after the final checks)`));
        return;
      }
      await this.clock.advance(Math.max(1, Math.min(next, deadline) - this.clock.monotonic()));
    }
  }

  /** Releases up to `n` I/O completions, in the order fast-check picks; local work settles after each. */
  async step(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await settleMicrotasks();
      if (this.#scheduler.count() === 0) return;
      await this.#scheduler.waitOne();
    }
    await settleMicrotasks();
  }

  /** Runs I/O until nothing is in flight (held I/O of frozen or dead processes stays held). */
  async quiesce(): Promise<void> {
    for (let i = 0; ; i++) {
      await settleMicrotasks();
      if (this.#scheduler.count() === 0) return;
      if (i >= MAX_QUIESCE_STEPS) throw new Error(`livelock: ${MAX_QUIESCE_STEPS} I/O steps without going quiet`);
      await this.#scheduler.waitOne();
    }
  }

  /** True when every job in the log (and every accepted one) is terminal. */
  converged(): boolean {
    for (const id of this.accepted) if (!this.truth.get(id)) return false;
    for (const e of this.truth.all()) if (!TERMINAL_STATES.has(e.state)) return false;
    return true;
  }

  /**
   * Ends the faults: wakes zombies, restarts crashed parts, resumes paused jobs, then advances
   * time until every job is terminal. Not converging within `boundMs` is a liveness violation.
   */
  async heal(boundMs: number, coordinators: number, workers: number): Promise<void> {
    this.note('heal');
    this.healStartMs = this.clock.monotonic();
    for (const n of this.live('coord')) n.proc.wake();
    while (this.live('coord').length < coordinators) this.start('coord');
    while (this.live('worker').length < workers) this.start('worker');
    const deadline = this.clock.monotonic() + boundMs;
    const resuming = new Set<string>();
    for (;;) {
      await this.quiesce();
      if (this.converged()) return;
      // A supervisor restarts processes that failed to start.
      if (this.live('coord').length < coordinators) this.start('coord');
      if (this.live('worker').length < workers) this.start('worker');
      for (const e of this.truth.all()) {
        const paused = e.state === 'PAUSED' || (e.state === 'WAITING' && e.snapshot.context.pauseRequested);
        if (paused && !resuming.has(e.id) && this.#api?.core) {
          resuming.add(e.id);
          this.client(`heal: resume ${e.id}`, () => this.#api!.core!.service.resume(e.id, by), undefined, () => resuming.delete(e.id));
        }
      }
      const next = this.clock.nextDue();
      if (next === undefined || this.clock.monotonic() >= deadline) {
        const stuck = [...this.truth.all()].filter((e) => !TERMINAL_STATES.has(e.state));
        const open = stuck.map((e) => `${e.id} ${e.state}`);
        this.violations.push(`liveness: not every job terminal ${boundMs} ms after healing: ${open.join(', ') || 'accepted job missing'}`);
        return;
      }
      await this.clock.advance(Math.max(1, Math.min(next, deadline) - this.clock.monotonic()));
    }
  }

  /** Every record of the store, in order. */
  async records(): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    const f = this.log.follow(1, (r) => void out.push(r));
    await f.caughtUp;
    await f.stop();
    return out;
  }

  /** Projections of live processes that rejected a stored event (a bug if any). */
  rejectedEvents(): string[] {
    return this.nodes.filter((n) => (n.core?.projection.rejected ?? 0) > 0).map((n) => `${n.proc.name} rejected ${n.core!.projection.rejected} stored events`);
  }
}
