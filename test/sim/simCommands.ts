/**
 * What a simulation run does: a generated list of commands (client requests by two users, faults,
 * retention passes, time passing and I/O steps), applied one by one to a SimWorld. `pick` fields choose among whatever exists
 * at that moment (modulo), so every list is valid and shrinks well.
 */
import fc from 'fast-check';
import { SIM_RECEIVER_URL, type SimWorld } from './simWorld.ts';

/**
 * Who sends a job command: the job's owner, the other user (must get JOB_NOT_FOUND and change
 * nothing), or an admin.
 */
export type SimAs = 'owner' | 'other' | 'admin';

export type SimCommand =
  | {
      kind: 'submit'; type: 'noop' | 'sim-sleep' | 'sim-verify'; tasks: number; ms: number; failTimes: number; fatal: number[]; maxTaskAttempts: number; maxFailedRatio: number;
      /** Index into SIM_USERS. */
      user: number;
      /** `default`, the user's own virtual cluster, or the other user's (must be refused). */
      vc: 'default' | 'own' | 'other';
    }
  | { kind: 'pause' | 'resume' | 'rerun'; pick: number; as: SimAs }
  /** graceMs undefined = the configured default (config.stopGraceMs). */
  | { kind: 'stop'; pick: number; as: SimAs; graceMs?: number; force: boolean }
  | { kind: 'recover'; pick: number; as: SimAs; mode: 'failed' | 'notSucceeded' }
  | { kind: 'setActive'; pick: number; as: SimAs; active: boolean }
  /** One retention pass (compaction and removal) now, in a coordinator (writer) or the API process. */
  | { kind: 'retention'; pick: number }
  /** A user reads one job and lists all jobs through the service: never sees the other's. */
  | { kind: 'peek'; pick: number; user: number }
  | { kind: 'crashCoordinator' | 'freezeCoordinator' | 'wakeCoordinator' | 'retireCoordinator'; pick: number }
  | { kind: 'startCoordinator' | 'startWorker' | 'failNextAppend' | 'loseNextAck' }
  | { kind: 'crashWorker' | 'retireWorker' | 'duplicateDelivery'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'io'; steps: number };

/** A whole run: the cluster it starts with and what happens to it. */
export interface SimScenario {
  /** Seeds the run's Random (ids). */
  seed: number;
  coordinators: number;
  /** Submitted as soon as the cluster is up, so most runs have work in flight when faults hit. */
  jobs: SimCommand[];
  commands: SimCommand[];
}

/** Cluster bounds: two or three coordinators, two workers. */
export const MAX_COORDINATORS = 3;
export const WORKERS = 2;

const pick = fc.nat({ max: 1000 });

const submitArb: fc.Arbitrary<SimCommand> = fc.record({
  kind: fc.constant('submit' as const),
  type: fc.constantFrom('noop' as const, 'sim-sleep' as const, 'sim-verify' as const),
  tasks: fc.integer({ min: 1, max: 4 }),
  ms: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 200, max: 3000 })),
  failTimes: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
  fatal: fc.oneof({ weight: 4, arbitrary: fc.constant<number[]>([]) }, { weight: 1, arbitrary: fc.array(fc.nat({ max: 3 }), { maxLength: 2 }) }),
  maxTaskAttempts: fc.integer({ min: 1, max: 3 }),
  maxFailedRatio: fc.constantFrom(0, 0.5),
  user: fc.integer({ min: 0, max: 1 }),
  vc: fc.oneof({ weight: 4, arbitrary: fc.constant('default' as const) }, { weight: 4, arbitrary: fc.constant('own' as const) }, { weight: 1, arbitrary: fc.constant('other' as const) }),
});

const asArb: fc.Arbitrary<SimAs> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('owner' as const) },
  { weight: 1, arbitrary: fc.constant('other' as const) },
  { weight: 2, arbitrary: fc.constant('admin' as const) },
);

const stopArb: fc.Arbitrary<SimCommand> = fc.record(
  {
    kind: fc.constant('stop' as const),
    pick,
    as: asArb,
    graceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 400, max: 2000 })),
    force: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  },
  { requiredKeys: ['kind', 'pick', 'as', 'force'] },
);

const commandArb: fc.Arbitrary<SimCommand> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('io' as const), steps: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 150 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 600, max: 2500 }) }) },
  { weight: 4, arbitrary: submitArb },
  { weight: 3, arbitrary: stopArb },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const), pick, as: asArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('recover' as const), pick, as: asArb, mode: fc.constantFrom('failed' as const, 'notSucceeded' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rerun' as const), pick, as: asArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setActive' as const), pick, as: asArb, active: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retention' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const), pick, user: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('crashCoordinator' as const, 'freezeCoordinator' as const, 'wakeCoordinator' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retireCoordinator' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('crashWorker' as const, 'duplicateDelivery' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retireWorker' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('startCoordinator' as const, 'startWorker' as const, 'failNextAppend' as const, 'loseNextAck' as const) }) },
);

/**
 * A third of the submissions carry a callbackUrl, whose receiver refuses the first 0–2 POSTs of each
 * delivery (webhook retries). Derived from the generated fields, not drawn: a new field would change
 * every scenario a seed and path generate, and with them the pinned runs.
 */
function callbackOf(w: SimWorld, c: Extract<SimCommand, { kind: 'submit' }>): { callbackUrl?: string } {
  if (!w.callbacks || (c.tasks + c.ms) % 3 !== 0) return {};
  return { callbackUrl: `${SIM_RECEIVER_URL}?fail=${Math.floor(c.ms / 3) % 3}` };
}

/** Scenarios of up to `maxCommands` commands. */
export function scenarioArb(maxCommands: number): fc.Arbitrary<SimScenario> {
  return fc.record({
    seed: fc.nat(),
    coordinators: fc.integer({ min: 2, max: MAX_COORDINATORS }),
    jobs: fc.array(submitArb, { minLength: 1, maxLength: 3 }),
    commands: fc.array(commandArb, { minLength: 1, maxLength: maxCommands, size: 'max' }),
  });
}

/** Applies one command; commands that make no sense right now (nothing to crash…) do nothing. */
export async function applyCommand(w: SimWorld, c: SimCommand): Promise<void> {
  const at = <T>(xs: T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);
  switch (c.kind) {
    case 'io':
      return w.step(c.steps);
    case 'advance':
      w.note(`advance ${c.ms}`);
      return w.clock.advance(c.ms);
    case 'submit':
      return w.submit({
        type: c.type,
        spec: c.type === 'noop' ? { tasks: c.tasks } : { tasks: c.tasks, ms: c.ms, failTimes: c.failTimes, fatal: c.fatal },
        maxTaskAttempts: c.maxTaskAttempts,
        maxFailedRatio: c.maxFailedRatio,
        ...callbackOf(w, c),
      }, c.user, c.vc);
    case 'stop':
    case 'pause':
    case 'resume':
    case 'recover':
    case 'setActive':
    case 'rerun':
      return w.command(c, c.pick, c.as);
    case 'retention': {
      const n = at(w.started('coord', 'running').concat(w.started('api', 'running')), c.pick);
      if (n) w.retention(n);
      return;
    }
    case 'peek':
      return w.peek(c.pick, c.user);
    case 'crashCoordinator': {
      const n = at(w.started('coord', 'running').concat(w.started('coord', 'frozen')), c.pick);
      if (n) w.crash(n);
      return;
    }
    case 'freezeCoordinator': {
      const n = at(w.started('coord', 'running'), c.pick);
      if (n) {
        w.note(`freeze ${n.proc.name}`);
        n.proc.freeze();
      }
      return;
    }
    case 'wakeCoordinator': {
      const n = at(w.started('coord', 'frozen'), c.pick);
      if (n) {
        w.note(`wake ${n.proc.name}`);
        n.proc.wake();
      }
      return;
    }
    case 'retireCoordinator': {
      const n = at(w.started('coord', 'running'), c.pick);
      if (n) w.retire(n);
      return;
    }
    case 'retireWorker': {
      const n = at(w.started('worker'), c.pick);
      if (n) w.retire(n);
      return;
    }
    case 'startCoordinator':
      if (w.live('coord').length < MAX_COORDINATORS) w.start('coord');
      return;
    case 'startWorker':
      if (w.live('worker').length < WORKERS) w.start('worker');
      return;
    case 'crashWorker': {
      const n = at(w.started('worker'), c.pick);
      if (n) w.crash(n);
      return;
    }
    case 'duplicateDelivery':
      if (w.net.duplicateDelivery(c.pick)) w.note('duplicate delivery');
      return;
    case 'failNextAppend':
      w.note('fail next append');
      return w.log.failNextAppend();
    case 'loseNextAck':
      w.note('lose next ack');
      return w.log.loseNextAck();
  }
}
