/**
 * A simulated cluster: the real engine (coordinators, workers, one API process) over one in-memory
 * event log, task queue and liveness bucket, with simulated time, seeded ids and fast-check
 * choosing the order of every I/O completion. Commands change it; `heal` then lets it converge.
 */
import type fc from 'fast-check';
import type { Config, Role } from '../../engine/config.ts';
import { startEngineCore, type EngineCore } from '../../engine/core.ts';
import { isAppError } from '../../engine/errors.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { createMemoryEventLog, type MemoryEventLog } from '../../engine/eventlog/memoryEventLog.ts';
import type { JobTypeRegistry } from '../../engine/jobtypes/registry.ts';
import { createMemoryLiveness, createMemoryLivenessStore, type MemoryLivenessStore } from '../../engine/liveness/memoryLiveness.ts';
import { silentLogger } from '../../engine/log.ts';
import { createJobProjection, type JobProjection } from '../../engine/projections/jobProjection.ts';
import { SYSTEM_CALLER, type By } from '../../engine/service.ts';
import { createMemoryTaskQueue } from '../../engine/taskqueue/memoryTaskQueue.ts';
import { TERMINAL_STATES } from '../../actors/events.ts';
import type { Random } from '../../engine/clock.ts';
import { SimClock, seededRandom, settleMicrotasks } from './simClock.ts';
import { createSimNetwork, type SimNetwork } from './simNetwork.ts';
import type { ClockRef } from './simSleepJobType.ts';
import { createSimProcess, type ProcessKind, type ProcessState, type SimProcess } from './simProcess.ts';

/** A process of the cluster and the engine running in it (once started). */
export interface SimNode {
  proc: SimProcess;
  core?: EngineCore;
  /** Graceful stop (handoff) under way. */
  retiring?: boolean;
}

/** Errors a client may legitimately get back from the service under faults. */
const EXPECTED_CLIENT_ERRORS = new Set(['INVALID_TRANSITION', 'UNAVAILABLE', 'CONFLICT', 'QUEUE_FULL']);
/** Scheduler steps without the system going quiet: a livelock. */
const MAX_QUIESCE_STEPS = 50_000;

export interface SimWorldOptions {
  scheduler: fc.Scheduler;
  seed: number;
  config: Readonly<Config>;
  registry: JobTypeRegistry;
  /** The clock the registry's `sim-sleep` job type reads; set to this world's clock. */
  clockRef: ClockRef;
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
  readonly violations: string[] = [];
  /** What happened, for the failure report. */
  readonly trace: string[] = [];
  readonly #scheduler: fc.Scheduler;
  readonly #random: Random;
  readonly #liveness: MemoryLivenessStore = createMemoryLivenessStore();
  readonly #opts: SimWorldOptions;
  #api: SimNode | undefined;
  #names = new Map<ProcessKind, number>();

  constructor(opts: SimWorldOptions) {
    this.#opts = opts;
    this.#scheduler = opts.scheduler;
    this.#random = seededRandom(opts.seed);
    opts.clockRef.clock = this.clock;
    this.log = createMemoryEventLog({ clock: this.clock });
    const queue = createMemoryTaskQueue({ clock: this.clock, ackWaitMs: opts.config.taskAckWaitMs, maxDeliver: opts.config.taskMaxDeliver });
    this.truth = createJobProjection({ logger: silentLogger, clock: this.clock });
    // Unscheduled: the truth is current whenever the scheduler is between two steps.
    this.log.follow(1, (r) => this.truth.apply(r));
    this.net = createSimNetwork({ scheduler: opts.scheduler, log: this.log, queue, truth: this.truth });
  }

  /** Adds a line to the trace, stamped with the simulated time. */
  note(line: string): void {
    this.trace.push(`${this.clock.monotonic()}ms ${line}`);
  }

  /** Runs `op` in the background; an error outside EXPECTED_CLIENT_ERRORS is a violation. */
  client<T>(what: string, op: () => Promise<T>, onOk?: (v: T) => void, onErr?: () => void): void {
    void op().then(
      (v) => onOk?.(v),
      (err: unknown) => {
        onErr?.();
        if (isAppError(err) && EXPECTED_CLIENT_ERRORS.has(err.code)) this.note(`${what} → ${err.code}`);
        else this.violations.push(`${what} failed unexpectedly: ${err instanceof Error ? err.stack : String(err)}`);
      },
    );
  }

  /** Starts a process of `kind`; it joins the cluster once its projection has replayed the log. */
  start(kind: ProcessKind): SimNode {
    const n = (this.#names.get(kind) ?? 0) + 1;
    this.#names.set(kind, n);
    const proc = createSimProcess(`${kind}${n}`, kind, this.clock);
    const node: SimNode = { proc };
    this.nodes.push(node);
    const roles: Role[] = [kind === 'coord' ? 'coordinator' : kind];
    this.note(`start ${proc.name}`);
    this.client(`start ${proc.name}`, () => startEngineCore({
      config: { ...this.#opts.config, roles }, eventLog: this.net.eventLogFor(proc), taskQueue: this.net.taskQueueFor(proc),
      liveness: createMemoryLiveness({ clock: proc.clock, store: this.#liveness }), registry: this.#opts.registry,
      clock: proc.clock, random: this.#random, logger: silentLogger, info: () => { throw new Error('unused in simulation'); },
    }), (core) => {
      node.core = core;
      this.note(`${proc.name} is ${core.coordinator?.id ?? core.worker?.id ?? 'api'}`);
    }, () => this.crash(node)); // a process that cannot start exits (a supervisor restarts one in heal)
    if (kind === 'api') this.#api = node;
    return node;
  }

  /** kill -9: timers, I/O and memory are gone; a worker's held tasks come back after ackWait. */
  crash(node: SimNode): void {
    if (node.proc.state() === 'dead') return;
    this.note(`crash ${node.proc.name}`);
    node.proc.kill();
    if (node.proc.kind === 'worker') this.net.cutOff(node.proc);
  }

  /** Graceful stop: a coordinator hands its jobs off, a worker drains. */
  retire(node: SimNode): void {
    const core = node.core;
    if (!core || node.retiring || node.proc.state() !== 'running') return;
    node.retiring = true;
    this.note(`retire ${node.proc.name}`);
    this.client(`retire ${node.proc.name}`, () => core.stop({ handoff: true }), () => this.crash(node));
  }

  /** Nodes of `kind` that may still act (not dead, not being stopped). */
  live(kind: ProcessKind): SimNode[] {
    return this.nodes.filter((n) => n.proc.kind === kind && n.proc.state() !== 'dead' && !n.retiring);
  }

  /** Started nodes of `kind` in `state`. */
  started(kind: ProcessKind, state: ProcessState = 'running'): SimNode[] {
    return this.live(kind).filter((n) => n.core && n.proc.state() === state);
  }

  /** Submits through the API process; the job counts as accepted once the service answers. */
  submit(req: { type: string; spec: Record<string, unknown>; maxTaskAttempts: number; maxFailedRatio: number }): void {
    const service = this.#api?.core?.service;
    if (!service) return;
    this.client(`submit ${req.type} ${JSON.stringify(req.spec)}`, () => service.submit(req, by), (r) => {
      this.accepted.push(r.job.id);
      this.note(`accepted job ${this.accepted.length - 1} = ${r.job.id}`);
    });
  }

  /** Stops, pauses or resumes the `pick`-th accepted job (modulo) through the API process. */
  command(kind: 'stop' | 'pause' | 'resume', pick: number): void {
    const service = this.#api?.core?.service;
    if (!service || this.accepted.length === 0) return;
    const id = this.accepted[pick % this.accepted.length]!;
    this.note(`${kind} ${id}`);
    this.client(`${kind} ${id}`, () => service[kind](id, by));
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
        const open = [...this.truth.all()].filter((e) => !TERMINAL_STATES.has(e.state)).map((e) => `${e.id} ${e.state}`);
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
