/**
 * One simulation run: start a cluster, apply the scenario's commands, heal, converge, and check
 * the invariants. Pure function of (scheduler choices, scenario): the same seed and path replay it.
 */
import type fc from 'fast-check';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { resolveConfig, type Config } from '../../engine/config.ts';
import { createJobTypeRegistry, type JobTypeRegistry } from '../../engine/jobtypes/registry.ts';
import { noopJobType } from '../../engine/jobtypes/noop.ts';
import type { JobType } from '../../engine/jobtypes/jobType.ts';
import { audit } from '../helpers/auditor.ts';
import { SimClock } from './simClock.ts';
import { applyCommand, MAX_COORDINATORS, WORKERS, type SimScenario } from './simCommands.ts';
import { coverage, fencingViolations, recoveredProgressViolations, staleWriteViolations, stoppedCountViolations } from './simChecks.ts';
import { simSleepJobType, type ClockRef } from './simSleepJobType.ts';
import { SimWorld } from './simWorld.ts';

/** Simulated time allowed from the end of the faults until every job is terminal. */
export const CONVERGE_BOUND_MS = 60_000;

/** How long a `sim-verify` job's verification takes. */
const SIM_VERIFY_MS = 300;

/** Timings scaled down so failover happens within a few simulated seconds. */
export function simConfig(overrides: Partial<Config> = {}): Readonly<Config> {
  return resolveConfig({
    stateDir: '/nonexistent/jetjobs-sim', // the job types used here touch no files
    heartbeatMs: 100,
    failureDetectionTimeoutMs: 500,
    retryBackoffMs: 50,
    taskAckWaitMs: 1500,
    drainTimeoutMs: 1000,
    runningJobCapacity: 3,
    maxTasksPerWorker: 2,
    workerConcurrency: 2,
    // A stop of a running job is cooperative: short enough that runs end within their simulated time.
    stopGraceMs: 300,
    // Retention within a run: compact soon after a job finishes, remove a few seconds later.
    // SIM_COMPACT_AFTER_MS=3600000 SIM_REMOVE_AFTER_MS=0 turn it off.
    compactAfterMs: Number(process.env['SIM_COMPACT_AFTER_MS'] ?? 300),
    retentionMaxAgeMs: Number(process.env['SIM_REMOVE_AFTER_MS'] ?? 4000),
    retentionIntervalMs: 1000,
    ...overrides,
  });
}

/** What every run of one test shares: config, and a registry compiled once whose `sim-*` types read the run's clock. */
export interface SimEnv {
  config: Readonly<Config>;
  registry: JobTypeRegistry;
  clockRef: ClockRef;
  /** Wall-clock skew of the n-th coordinator started (cycled); none by default. */
  coordinatorSkewsMs: readonly number[];
  /** Some submissions carry a callbackUrl (SimWorldOptions.callbacks). @defaultValue true */
  callbacks?: boolean;
}

export function createSimEnv(overrides: Partial<Config> = {}, coordinatorSkewsMs: readonly number[] = []): SimEnv {
  const clockRef: ClockRef = { clock: new SimClock() };
  const types: JobType[] = [noopJobType, simSleepJobType(clockRef), simSleepJobType(clockRef, SIM_VERIFY_MS)];
  return { config: simConfig(overrides), registry: createJobTypeRegistry(types), clockRef, coordinatorSkewsMs };
}

export interface SimOutcome {
  violations: string[];
  trace: string[];
  coverage: Record<string, number>;
  simulatedMs: number;
  /** The whole store after the run. */
  records: LogRecord[];
  /** Every record as appended (before rollups and purges). */
  journal: LogRecord[];
}

/** Runs `scenario` with fast-check ordering the I/O through `scheduler`. */
export async function runSimulation(scheduler: fc.Scheduler, scenario: SimScenario, env: SimEnv): Promise<SimOutcome> {
  const w = new SimWorld({ scheduler, seed: scenario.seed, config: env.config, registry: env.registry, clockRef: env.clockRef, coordinatorSkewsMs: env.coordinatorSkewsMs, ...(env.callbacks === false ? { callbacks: false } : {}) });
  try {
    w.start('api');
    for (let i = 0; i < scenario.coordinators; i++) w.start('coord');
    for (let i = 0; i < WORKERS; i++) w.start('worker');
    await w.quiesce();
    for (const c of scenario.jobs) await applyCommand(w, c);
    for (const c of scenario.commands) await applyCommand(w, c);
    await w.heal(CONVERGE_BOUND_MS, Math.min(2, MAX_COORDINATORS), WORKERS);
    await w.finalChecks();
  } catch (err) {
    w.violations.push(`run aborted: ${err instanceof Error ? err.stack : String(err)}`);
  }
  const records = await w.records();
  const journal = w.journal;
  // The full history, then what retention left in the store (removed jobs are gone from it).
  const history = audit(journal, { accepted: w.accepted, requireTerminal: true });
  const stored = audit(records, { accepted: w.accepted.filter((id) => !w.removed.has(id)), requireTerminal: true });
  const violations = [
    ...w.violations,
    ...history.violations,
    ...stored.violations.map((v) => `store after retention: ${v}`),
    ...w.rejectedEvents(),
    ...fencingViolations(journal),
    ...stoppedCountViolations(journal),
    ...recoveredProgressViolations(journal),
    ...staleWriteViolations(w.net.attempts),
  ];
  const cov = { ...coverage(w.net.attempts, journal), removed: w.removed.size };
  return { violations, trace: w.trace, coverage: cov, simulatedMs: w.clock.monotonic(), records, journal };
}
