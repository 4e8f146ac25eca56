/**
 * A worker's membership lifecycle, folded from its `worker.<workerId>.ev` events:
 * ACTIVE → DRAINING → LEFT, and ACTIVE → LEFT. Created from WorkerRegistered as input.
 * LEFT is final: nothing follows a worker's departure (a restarted process registers a new id).
 */
import { assign, setup } from 'xstate';
import type { WorkerEvent, WorkerInfo, WorkerRegistered } from './events.ts';

/** What a worker's events have established: its registration plus lifecycle times (`meta.at`). */
export interface WorkerContext extends WorkerInfo {
  registeredAt: string;
  drainingSince?: string;
  leftAt?: string;
  /** `meta.reason` of the latest event that had one. */
  lastReason?: string;
}

/** The worker machine. */
export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    events: {} as WorkerEvent,
    input: {} as WorkerRegistered,
  },
  actions: {
    drain: assign(({ event }) => ({
      drainingSince: event.meta.at,
      ...(event.meta.reason !== undefined ? { lastReason: event.meta.reason } : {}),
    })),
    leave: assign(({ event }) => ({
      leftAt: event.meta.at,
      ...(event.meta.reason !== undefined ? { lastReason: event.meta.reason } : {}),
    })),
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => ({
    workerId: input.data.workerId,
    pool: input.data.pool,
    concurrency: input.data.concurrency,
    host: input.data.host,
    pid: input.data.pid,
    registeredAt: input.meta.at,
  }),
  initial: 'ACTIVE',
  states: {
    ACTIVE: {
      on: {
        WorkerDraining: { target: 'DRAINING', actions: 'drain' },
        WorkerLeft: { target: 'LEFT', actions: 'leave' },
      },
    },
    DRAINING: {
      on: { WorkerLeft: { target: 'LEFT', actions: 'leave' } },
    },
    LEFT: { type: 'final' },
  },
});
