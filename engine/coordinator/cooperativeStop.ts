/** What the owner of a stop-requested job does next (pure; the coordinator carries it out). */

export type StopStep =
  /** Append JobStopped now; `abortVerification` first when a verification is running. */
  | { kind: 'stop'; reason: string; abortVerification: boolean }
  /** Tasks are still in flight before the deadline: wake up in `delayMs` (undefined: a timer is armed already). */
  | { kind: 'wait'; delayMs: number | undefined };

/**
 * A verifying job stops at once; otherwise the job stops once nothing dispatched is in flight, or
 * when the grace period has passed (forced). The grace is timed on the owner's own monotonic clock
 * from when it learns of the request: the stored `deadline` is the requester's wall clock, and an
 * owner whose clock ran 30 s ahead would have abandoned the tasks at once.
 */
export function stopStep(s: {
  verifying: boolean;
  inFlight: number;
  deadlinePassed: boolean;
  timerArmed: boolean;
  graceMs: number;
}): StopStep {
  if (s.verifying) return { kind: 'stop', reason: 'stop: verification aborted', abortVerification: true };
  if (s.inFlight === 0) return { kind: 'stop', reason: 'stop: tasks in flight finished', abortVerification: false };
  if (s.deadlinePassed) return { kind: 'stop', reason: `stop: grace period over, ${s.inFlight} tasks abandoned`, abortVerification: false };
  if (s.timerArmed) return { kind: 'wait', delayMs: undefined };
  return { kind: 'wait', delayMs: Number.isFinite(s.graceMs) ? Math.max(0, s.graceMs) : 0 };
}
