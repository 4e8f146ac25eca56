/**
 * Who sees and does what. Every service call is scoped to its Caller: a non-admin sees and controls
 * only the jobs it owns (any other job is JOB_NOT_FOUND: 404, never 403), and submits only to the
 * virtual clusters it was given.
 */
import type { JobContext } from '../../actors/jobContext.ts';
import { DEFAULT_VIRTUAL_CLUSTER } from '../quota/shares.ts';
import { SYSTEM_CALLER, type Caller } from '../serviceTypes.ts';

/** `meta.actor` of a caller's writes: `user:<name>`, or `system` for the engine itself. */
export function actorOf(caller: Caller): string {
  return caller === SYSTEM_CALLER ? 'system' : `user:${caller.user}`;
}

/** The job owner a caller's submissions get. */
export function ownerOf(caller: Caller): string {
  return caller === SYSTEM_CALLER ? 'system' : caller.user;
}

/** Admins see every job; everyone else only their own. */
export function canSeeJob(caller: Caller, ctx: Pick<JobContext, 'owner'>): boolean {
  return caller.role === 'admin' || ctx.owner === ownerOf(caller);
}

/** Whether the caller may submit to a virtual cluster: admins anywhere, everyone to `default`. */
export function canUseVirtualCluster(caller: Caller, name: string): boolean {
  return caller.role === 'admin' || name === DEFAULT_VIRTUAL_CLUSTER || caller.virtualClusters.includes(name);
}

/** The owner whose jobs a caller's listings walk: a non-admin only its own, an admin those asked for (all when undefined). */
export function listedOwner(caller: Caller, requested: string | undefined): string | undefined {
  return caller.role === 'admin' ? requested : ownerOf(caller);
}
