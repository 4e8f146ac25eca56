/** A stopping coordinator's handoff: it requeues the jobs it owned so that a peer or its restart resumes them at once. */
import { decide } from '../../actors/decide.ts';
import { jobEvSubject } from '../subjects.ts';
import { isActiveState, type CoordinatorContext } from './context.ts';

/** Requeues each of `jobIds` still active (best effort: peers requeue the rest after the detection timeout). */
export async function handOff(cx: CoordinatorContext, jobIds: readonly string[]): Promise<void> {
  const { id, projection, eventLog, log } = cx;
  await Promise.all(
    jobIds.map(async (jobId) => {
      const e = projection.get(jobId);
      if (!e || !isActiveState(e.state)) return;
      const d = decide({ kind: 'requeue', fromCoordinator: id }, e.snapshot, cx.meta('coordinator shutting down'));
      if (!d.ok) return;
      await eventLog
        .append(jobEvSubject(jobId), d.events, { expectedLastSubjectSeq: e.lastEvSeq })
        .catch((err: unknown) => log.warn({ jobId, err }, 'handoff requeue failed; peers will requeue after the detection timeout'));
    }),
  );
}
