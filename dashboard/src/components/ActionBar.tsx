import { useState } from 'preact/hooks';
import { api, ApiError } from '../client/client.ts';
import { getSession, mayControl } from '../client/session.ts';
import { TERMINAL, type Job } from '../client/types.ts';
import { navigate } from '../router.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';

type Action = 'stop' | 'pause' | 'resume' | 'recover' | 'rerun';

const ACTIONS: Record<Action, { label: string; title: string; body: string; danger?: boolean; allowed(j: Job): boolean }> = {
  stop: {
    label: 'Stop', title: 'Stop this job?', danger: true,
    body: 'No new tasks are dispatched; tasks in flight get the grace period, then the job is STOPPED. A waiting job stops at once.',
    allowed: (j) => !TERMINAL.has(j.state),
  },
  pause: { label: 'Pause', title: 'Pause this job?', body: 'Tasks in flight finish; nothing new is dispatched until it is resumed.', allowed: (j) => j.state === 'RUNNING' },
  // a paused job requeued after its owner was lost waits with the pause kept: it may be resumed too
  resume: { label: 'Resume', title: 'Resume this job?', body: 'Dispatch starts again where it stopped.', allowed: (j) => j.state === 'PAUSED' || (j.state === 'WAITING' && j.pauseRequested) },
  recover: {
    label: 'Recover', title: 'Recover this job?', body: 'The job goes back to WAITING keeping its plan; only the tasks that failed run again.',
    allowed: (j) => (j.state === 'FAILED' || j.state === 'STOPPED') && j.active && !j.compacted,
  },
  rerun: { label: 'Re-run', title: 'Re-run this job?', body: 'A new job with the same type, spec and settings is submitted.', allowed: (j) => TERMINAL.has(j.state) && j.active },
};

/**
 * The commands the signed-in role may use on this job, each behind a confirmation. Viewers see none
 * (the API refuses them anyway: 403); the buttons offered follow the job's state.
 */
export function ActionBar({ job, onDone }: { job: Job; onDone: (message: string) => void }) {
  const [open, setOpen] = useState<Action | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!mayControl(getSession())) return null;
  const offered = (Object.keys(ACTIONS) as Action[]).filter((a) => ACTIONS[a].allowed(job));
  if (offered.length === 0) return null;

  async function run(a: Action, reason: string) {
    setOpen(null);
    setError(null);
    try {
      const r = await api<Job>(`/jobs/${job.id}/${a}`, { method: 'POST', body: reason === '' ? {} : { reason } });
      if (a === 'rerun') {
        onDone(`Re-run submitted as job ${r.id}.`);
        navigate(`/jobs/${r.id}`);
      } else onDone(`${ACTIONS[a].label}: done; the job is ${r.state}.`);
    } catch (e) {
      setError(e instanceof ApiError ? `${ACTIONS[a].label} refused: ${e.message} (${e.code})` : String(e));
    }
  }

  return (
    <div class="actions" role="group" aria-label="Job actions">
      {offered.map((a) => (
        <button key={a} type="button" class={ACTIONS[a].danger === true ? 'danger' : ''} data-action={a} onClick={() => setOpen(a)}>{ACTIONS[a].label}</button>
      ))}
      {error !== null && <p class="error" role="alert">{error}</p>}
      {open !== null && (
        <ConfirmDialog title={ACTIONS[open].title} body={ACTIONS[open].body} confirmLabel={ACTIONS[open].label} danger={ACTIONS[open].danger === true}
          onConfirm={(reason) => void run(open, reason)} onClose={() => setOpen(null)} />
      )}
    </div>
  );
}
