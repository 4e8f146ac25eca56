import type { Job } from '../client/types.ts';
import { bytes, duration } from '../format.ts';
import { percentDone, rateAndEta } from '../progress.ts';

/** The job's bar (a native `<progress>`, announced by screen readers) with the counts behind it. */
export function ProgressBar({ job, compact = false }: { job: Job; compact?: boolean }) {
  const pct = percentDone(job);
  const p = job.progress;
  const label = `${pct} %`;
  if (compact) {
    return (
      <span class="progress-compact">
        <progress max={100} value={pct} aria-label={`Progress of ${job.name}`}>{label}</progress> <span>{label}</span>
      </span>
    );
  }
  const r = rateAndEta(job);
  return (
    <div class="progress-block">
      <div class="progress-row">
        <progress id="job-progress" max={100} value={pct} aria-label="Job progress" aria-valuetext={`${label}, ${p.tasksSucceeded + p.tasksFailed} of ${p.tasksTotal} tasks`}>{label}</progress>
        <output for="job-progress" class="progress-pct" data-testid="progress-pct">{label}</output>
      </div>
      <p class="progress-detail">
        {p.tasksSucceeded + p.tasksFailed} of {p.tasksTotal} tasks{p.tasksFailed > 0 ? ` (${p.tasksFailed} failed)` : ''}
        {p.itemsTotal > 0 ? ` · ${p.itemsDone} of ${p.itemsTotal} items${p.itemsFailed > 0 ? ` (${p.itemsFailed} failed)` : ''}` : ''}
        {p.bytesTotal > 0 ? ` · ${bytes(p.bytesDone)} of ${bytes(p.bytesTotal)}` : ''}
        {r !== null ? ` · ${r.tasksPerSec.toFixed(r.tasksPerSec < 10 ? 1 : 0)} tasks/s · about ${duration(r.etaMs)} left` : ''}
        {job.planOpen ? ' · the plan is open: more tasks come as needed' : ''}
      </p>
    </div>
  );
}
