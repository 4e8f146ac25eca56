/**
 * The worker's membership of the cluster: its `worker.<id>.ev` events (registered, draining, left)
 * and its liveness heartbeat every `heartbeatMs` while active.
 */
import { retry, type Backoff } from '../retry.ts';
import { workerEvSubject } from '../subjects.ts';
import type { WorkerContext } from './context.ts';

/** Tries to register at start: a stream just created on a cluster may have no leader yet. */
const REGISTER_ATTEMPTS = 31;
const REGISTER_BACKOFF: Backoff = { baseMs: 100, maxMs: 2_000 };

/** Running tasks a heartbeat names at most (the count is always whole): keeps the liveness value small. */
const MAX_TASKS_TOLD = 256;

export interface Membership {
  /** Records WorkerRegistered, retried while the store is unavailable. */
  register(): Promise<void>;
  /** Beats now, then every `heartbeatMs` while the worker is active. */
  beat(): Promise<void>;
  /** Clears the next beat's timer. */
  stopBeating(): void;
  /** Records WorkerDraining (a failure is logged, not thrown). */
  recordDraining(): Promise<void>;
  /** Records WorkerLeft (a failure is logged, not thrown). */
  recordLeft(): Promise<void>;
  /** Removes the worker from the liveness view (a failure is ignored). */
  leaveLiveness(): Promise<void>;
}

export function createMembership(cx: WorkerContext): Membership {
  const { id, config, eventLog, liveness, clock, log, info } = cx;
  let heartbeatTimer: unknown;

  async function workerEvent(type: 'WorkerRegistered' | 'WorkerDraining' | 'WorkerLeft') {
    const data = type === 'WorkerRegistered' ? info : {};
    await eventLog.append(workerEvSubject(id), [{ type, data, meta: cx.meta(id, 0) }], { msgId: `${type}:${id}` });
  }

  async function beat() {
    try {
      await liveness.beat('worker', id, { ...info, running: cx.running.size, tasks: cx.running.list(MAX_TASKS_TOLD) });
    } catch (err) {
      log.warn({ err }, 'heartbeat failed');
    }
    if (cx.active) heartbeatTimer = clock.setTimeout(() => void beat(), config.heartbeatMs);
  }

  return {
    register: () =>
      // A stream just created on a cluster may have no leader yet ("jetstream not enabled"): retry.
      retry(() => workerEvent('WorkerRegistered'), {
        retryOn: ['UNAVAILABLE'],
        attempts: REGISTER_ATTEMPTS,
        backoff: REGISTER_BACKOFF,
        clock,
        onRetry: (err, attempt) => log.warn({ err, attempt }, 'could not register yet; retrying'),
      }),
    beat,
    stopBeating: () => clock.clearTimeout(heartbeatTimer),
    recordDraining: () => workerEvent('WorkerDraining').catch((err: unknown) => log.warn({ err }, 'could not record draining')),
    recordLeft: () => workerEvent('WorkerLeft').catch((err: unknown) => log.warn({ err }, 'could not record leaving')),
    leaveLiveness: () => liveness.leave('worker', id).catch(() => undefined),
  };
}
