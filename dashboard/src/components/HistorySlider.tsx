import { useEffect, useState } from 'preact/hooks';
import { api } from '../client/client.ts';
import type { AsOfInfo, HistoryEntry, Job } from '../client/types.ts';
import { time } from '../format.ts';
import { percentDone } from '../progress.ts';
import { StateBadge } from './StateBadge.tsx';

/**
 * A slider over the job's recorded moments (its history's sequences): the job as it was then, from
 * `GET /jobs/:id?asOf=<seq>` (folded from the log by the server). `onMoment` tells the page which
 * sequence is shown (null: now), so the timeline can dim what came later.
 */
export function HistorySlider({ jobId, events, onMoment }: { jobId: string; events: HistoryEntry[]; onMoment: (seq: number | null) => void }) {
  const seqs = [...new Set(events.map((e) => e.seq))];
  const [index, setIndex] = useState<number | null>(null);
  const [then, setThen] = useState<(Job & { asOf: AsOfInfo }) | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seq = index === null ? null : seqs[Math.min(index, seqs.length - 1)] ?? null;

  useEffect(() => {
    onMoment(seq);
    if (seq === null) { setThen(null); setError(null); return; }
    const ac = new AbortController();
    const t = setTimeout(() => {
      api<Job & { asOf: AsOfInfo }>(`/jobs/${jobId}?asOf=${seq}`, { signal: ac.signal }).then(
        (j) => { setThen(j); setError(null); },
        (e: unknown) => { if (!ac.signal.aborted) setError(String(e instanceof Error ? e.message : e)); },
      );
    }, 150);
    return () => { clearTimeout(t); ac.abort(); };
  }, [jobId, seq]);

  if (seqs.length < 2) return <p>Not enough history to travel through.</p>;
  const at = events.find((e) => e.seq === seq);
  return (
    <div class="slider">
      <label for="asof">Show the job as it was at event</label>
      <div class="slider-row">
        <input id="asof" type="range" min={0} max={seqs.length - 1} step={1} value={index ?? seqs.length - 1}
          aria-valuetext={seq === null ? 'now' : `#${seq}, ${at?.type ?? ''} at ${time(at?.time ?? null)}`}
          onInput={(e) => setIndex(Number((e.currentTarget as HTMLInputElement).value))} />
        <button type="button" onClick={() => setIndex(null)} disabled={index === null}>Now</button>
      </div>
      <p aria-live="polite">
        {seq === null ? 'Showing the job now.' : `#${seq} · ${at?.type ?? ''} · ${time(at?.time ?? null)}`}
      </p>
      {error !== null && <p class="error" role="alert">{error}</p>}
      {then !== null && seq !== null && (
        <div class="asof-card" data-testid="asof">
          <StateBadge state={then.state} /> {percentDone(then)} % · {then.progress.tasksSucceeded} succeeded, {then.progress.tasksFailed} failed of {then.progress.tasksTotal} tasks
          {!then.asOf.exact && <p class="note">{then.asOf.note}</p>}
        </div>
      )}
    </div>
  );
}
