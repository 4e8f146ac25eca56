/** Carrying out stop requests: the owner's cooperative stop, and a stop whose owner was lost. */
import type { JobEntry } from '../projections/jobProjection.ts';
import type { ClaimPass } from './claimPass.ts';
import { ctxOf, type CoordinatorContext } from './context.ts';
import type { StopStep } from './cooperativeStop.ts';
import type { FencedWriter } from './fencedWriter.ts';
import type { Owned } from './types.ts';

/**
 * A stop was requested: dispatch nothing more, drop pending retries, and append JobStopped once
 * nothing we dispatched is in flight, or once the grace period passed on our own monotonic clock
 * from when we learnt of the request (forced; `step` from cooperativeStop.ts). A verifying job stops at once.
 */
export function stopCooperatively(cx: CoordinatorContext, writer: FencedWriter, e: JobEntry, o: Owned, step: StopStep): void {
  for (const r of o.retries.values()) cx.clock.clearTimeout(r.timer);
  o.retries.clear();
  cx.starved.delete(e.id);
  if (step.kind === 'stop') {
    if (step.abortVerification) o.abort.abort('stop requested'); // its result is dropped: its write checks the signal
    void writer.write(e, [{ kind: 'stop', force: true }], step.reason);
  } else if (step.delayMs !== undefined) {
    o.stopTimer = cx.clock.setTimeout(() => {
      o.stopDue = true;
      cx.wake.markDirty(e.id);
    }, step.delayMs);
  }
}

/**
 * A stop was requested and its owner lost it (requeued): nothing runs, so stop it now rather than
 * claim it, which would wait for a slot in its VC's share (found by test/sim). Peers race; CAS picks
 * one. Checked on every change and again when our own write settles or fails (drive): a change seen
 * while our requeue was still in flight must not be missed (found by test/sim: the job waited for a
 * slot instead).
 */
export function stopIfOwnerLost(writer: FencedWriter, claims: ClaimPass, e: JobEntry): boolean {
  if (e.state !== 'WAITING' || !ctxOf(e).stopRequested || writer.busy(e.id) || claims.isClaiming(e.id)) return false;
  void writer.write(e, [{ kind: 'stop', force: true }], 'stop: requested before its owner was lost; nothing was running');
  return true;
}
