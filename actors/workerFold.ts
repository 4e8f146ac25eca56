/** Worker state as a fold of its events (pure; no actor is started). */
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import type { WorkerEvent, WorkerRegistered } from './events.ts';
import { IllegalEventError } from './illegalEventError.ts';
import { workerMachine, type WorkerContext } from './worker.machine.ts';

/** A worker's state: `.value` is the WorkerState, `.context` the WorkerContext. */
export type WorkerSnapshot = SnapshotFrom<typeof workerMachine>;
export type WorkerState = WorkerSnapshot['value'];

/** The state of a worker that just registered (ACTIVE). */
export function startWorker(ev: WorkerRegistered): WorkerSnapshot {
  return initialTransition(workerMachine, ev)[0];
}

/** True when `ev` is a legal next fact for this worker (and belongs to it). */
export function canApplyWorker(s: WorkerSnapshot, ev: WorkerEvent): boolean {
  return ev.meta.jobId === s.context.workerId && s.can(ev);
}

/** Applies one event; throws IllegalEventError when the machine rejects it. */
export function evolveWorker(s: WorkerSnapshot, ev: WorkerEvent): WorkerSnapshot {
  if (!canApplyWorker(s, ev)) throw new IllegalEventError(ev, s.value);
  // Worker events are rare (a few per process life): xstate's own transition() is fast enough.
  return transition(workerMachine, s, ev)[0];
}

/** Folds a worker's event list; the first event must be its WorkerRegistered. */
export function foldWorker(events: readonly WorkerEvent[]): WorkerSnapshot {
  const [first, ...rest] = events;
  if (first === undefined) throw new RangeError('foldWorker needs at least the WorkerRegistered event');
  if (first.type !== 'WorkerRegistered') throw new IllegalEventError(first, 'NONE', 'the first event must be WorkerRegistered');
  let s = startWorker(first);
  for (const ev of rest) s = evolveWorker(s, ev);
  return s;
}

/** The lifecycle state: ACTIVE, DRAINING or LEFT. */
export function workerState(s: WorkerSnapshot): WorkerState {
  return s.value;
}

/** The worker takes new tasks only while ACTIVE. */
export function isAcceptingTasks(s: WorkerSnapshot): boolean {
  return s.value === 'ACTIVE';
}

/** The worker's registration and lifecycle times, as a plain JSON-safe object. */
export function toWorkerView(s: WorkerSnapshot): WorkerContext & { state: WorkerState } {
  return { ...s.context, state: s.value };
}
