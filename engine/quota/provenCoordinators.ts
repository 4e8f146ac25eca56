/**
 * How many coordinators a claim pass counts the cluster's running-job slots for. Pure: the claim
 * pass feeds it its liveness view.
 */
import type { LivenessEntry } from '../liveness/liveness.ts';

/**
 * Ourselves plus the peers we have seen heartbeat since we started: those whose revision is newer
 * than our own first heartbeat's (`sinceRevision`, undefined until our view shows it: then only
 * ourselves). The bucket's revisions are one sequence for all keys (the KV stream's), so a newer
 * one was written after we started.
 *
 * Not the liveness view's `alive()` alone: a key already in the bucket when we start counts as seen
 * then, so a coordinator that died without leaving (a crash; a restart comes back under a new id)
 * would count as live for a whole detection timeout after our start, however long ago it died, and
 * every VC's max share would grow with the dead. Counting fewer is the safe side: a live peer is
 * counted at its next heartbeat.
 */
export function provenCoordinators(alive: readonly LivenessEntry[], selfId: string, sinceRevision: number | undefined): number {
  if (sinceRevision === undefined) return 1;
  return 1 + alive.filter((e) => e.id !== selfId && e.revision > sinceRevision).length;
}
