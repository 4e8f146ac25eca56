/**
 * Which jobs are ours, as the projection says: a job becomes ours when it shows us as its
 * coordinator in an active state (a new epoch starts afresh), and is released when it no longer
 * does (finished, requeued, or taken by a peer that presumed us dead).
 */
import type { JobEntry } from '../projections/jobProjection.ts';
import type { ClaimPass } from './claimPass.ts';
import { ctxOf, isActiveState, type CoordinatorContext } from './context.ts';
import type { FencedWriter } from './fencedWriter.ts';
import { stopIfOwnerLost } from './stopJob.ts';

export interface Ownership {
  /** The projection's listener: a job changed (it was `before`), by the record `r`. */
  onChange(e: JobEntry, before: string | undefined, r: { seq: number; subject: string }): void;
  /** Forgets a job we owned: its tasks leave the window, its timers and verification are cancelled. */
  release(jobId: string, why: string): void;
}

export function createOwnership(cx: CoordinatorContext, writer: FencedWriter, claims: ClaimPass): Ownership {
  const { id, owned, starved, clock, log } = cx;

  function release(jobId: string, why: string) {
    const o = owned.get(jobId);
    if (!o) return;
    owned.delete(jobId);
    cx.tasks.count(o.vc, -o.dispatched.size);
    for (const r of o.retries.values()) clock.clearTimeout(r.timer);
    clock.clearTimeout(o.stopTimer);
    o.abort.abort('released'); // a string reason: no DOMException (and stack) per job
    starved.delete(jobId);
    log.debug({ jobId, why }, 'released job');
    for (const s of starved) cx.wake.markDirty(s);
    cx.wake.scheduleClaims();
  }

  function onChange(e: JobEntry, before: string | undefined, r: { seq: number; subject: string }) {
    writer.projected(e.id, r.seq);
    if (!cx.running) return;
    const ctx = ctxOf(e);
    const mine = ctx.coordinatorId === id && isActiveState(e.state);
    if (mine) {
      claims.unclaim(e.id);
      const o = owned.get(e.id);
      if (!o || o.epoch !== ctx.epoch) {
        if (o) release(e.id, 'epoch changed');
        owned.set(e.id, { epoch: ctx.epoch, vc: ctx.virtualCluster, dispatched: new Map(), retries: new Map(), verifying: false, abort: new AbortController() });
      }
      cx.wake.markDirty(e.id);
    } else {
      if (owned.has(e.id)) {
        if (e.state === 'WAITING' || (ctx.coordinatorId !== null && ctx.coordinatorId !== id)) {
          // Fenced: a peer requeued or claimed it (we were presumed dead); our next CAS would fail anyway.
          log.warn({ jobId: e.id, state: e.state, owner: ctx.coordinatorId, epoch: ctx.epoch }, 'dropped job: deposed by a peer');
        }
        release(e.id, `now ${e.state} owned by ${ctx.coordinatorId ?? 'nobody'}`);
      }
      if (e.state !== 'WAITING' || ctx.epoch > 0) claims.unclaim(e.id);
    }
    if (stopIfOwnerLost(writer, claims, e)) return;
    // A job became claimable, or one left its VC's share (maybe a peer's): claims may fit now.
    if (e.state === 'WAITING' || (before !== undefined && isActiveState(before) && !isActiveState(e.state))) cx.wake.scheduleClaims();
  }

  return { onChange, release };
}
