import { useState } from 'preact/hooks';
import { api } from '../client/client.ts';
import type { Explanation, Failures, HistoryEntry, Job, LiveMessage, Task } from '../client/types.ts';
import { ActionBar } from '../components/ActionBar.tsx';
import { ExplainPanel } from '../components/ExplainPanel.tsx';
import { FailureGroups } from '../components/FailureGroups.tsx';
import { HistorySlider } from '../components/HistorySlider.tsx';
import { Link } from '../components/Link.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { StateBadge } from '../components/StateBadge.tsx';
import { TaskGrid } from '../components/TaskGrid.tsx';
import { Timeline } from '../components/Timeline.tsx';
import { originName, time } from '../format.ts';
import { useLiveStream, useLoad, useThrottle } from '../live/hooks.ts';

/** What the page read first: the job and its history, up to the history's last sequence. */
interface Base {
  job: Job;
  events: HistoryEntry[];
  /** The live stream resumes after this: no event between the read and the stream is lost. */
  after: number;
}

async function loadBase(id: string, signal: AbortSignal): Promise<Base> {
  // history first: the job read after it is at least as new, and the stream starts after the history's end
  const { events } = await api<{ events: HistoryEntry[] }>(`/jobs/${id}/history`, { signal });
  const job = await api<Job>(`/jobs/${id}`, { signal });
  return { job, events, after: events.length > 0 ? events[events.length - 1]!.seq : job.submitSeq };
}

/** The job detail page: header, actions, live bar, timeline, tasks, failures, explain, spec, time slider. */
export function JobPage({ id, notify }: { id: string; notify: (m: string) => void }) {
  const base = useLoad((signal) => loadBase(id, signal), [id]);
  if (base.error !== undefined) return <p class="error" role="alert">Could not load job {id}: {base.error.message}</p>;
  if (base.data === undefined) return <p>Loading job…</p>;
  return <JobLive key={id} base={base.data} notify={notify} />;
}

function JobLive({ base, notify }: { base: Base; notify: (m: string) => void }) {
  const id = base.job.id;
  const [job, setJob] = useState(base.job);
  const [events, setEvents] = useState(base.events);
  const [removed, setRemoved] = useState(false);
  const [moment, setMoment] = useState<number | null>(null);
  const tasks = useLoad((signal) => api<{ tasks: Task[]; truncated: boolean }>(`/jobs/${id}/tasks`, { signal }), [id]);
  const failures = useLoad((signal) => api<Failures>(`/jobs/${id}/failures`, { signal }), [id]);
  const explain = useLoad((signal) => api<Explanation>(`/jobs/${id}/explain`, { signal }), [id]);
  const refreshTasks = useThrottle(() => { tasks.reload(); failures.reload(); }, 1000);
  const refreshExplain = useThrottle(() => explain.reload(), 1000);

  useLiveStream(`/jobs/${id}/events`, (m: LiveMessage) => {
    if (m.kind === 'removed') { setRemoved(true); return; }
    if (m.kind === 'snapshot') { const j = m.jobs[0]; if (j !== undefined) setJob(j); return; }
    if (m.job !== null) setJob(m.job);
    if (m.subject !== 'hook') {
      const entry: HistoryEntry = { seq: m.seq, time: typeof m.meta['at'] === 'string' ? m.meta['at'] : new Date().toISOString(), subject: m.subject, type: m.type, data: m.data, meta: m.meta };
      // a record resent after a reconnect in its middle: keep one copy of each event
      setEvents((es) => (es.some((e) => e.seq === m.seq && e.type === entry.type && JSON.stringify(e.data) === JSON.stringify(entry.data)) ? es : [...es, entry]));
    }
    refreshTasks();
    refreshExplain();
  }, base.after);

  return (
    <article class="job" aria-labelledby="job-title">
      <header class="job-head">
        <h1 id="job-title">{job.name} <StateBadge state={job.state} /></h1>
        <p class="muted job-id">Job <code>{job.id}</code></p>
        {removed && <p class="note" role="status">Retention removed this job: what is shown is its last state.</p>}
        <dl class="facts">
          <dt>Submitted through</dt><dd data-testid="origin">{originName(job.origin)}</dd>
          <dt>Type</dt><dd>{job.type}</dd>
          <dt>Owner</dt><dd>{job.owner}</dd>
          <dt>Virtual cluster</dt><dd>{job.virtualCluster}</dd>
          <dt>Priority</dt><dd>{job.priority}</dd>
          <dt>Submitted</dt><dd>{time(job.submittedAt)}</dd>
          <dt>Started</dt><dd>{time(job.startedAt)}</dd>
          <dt>Finished</dt><dd>{time(job.finishedAt)}</dd>
          {job.rerunOf !== null && <><dt>Re-run of</dt><dd><Link to={`/jobs/${job.rerunOf}`}>{job.rerunOf}</Link></dd></>}
          {Object.keys(job.labels).length > 0 && <><dt>Labels</dt><dd>{Object.entries(job.labels).map(([k, v]) => `${k}=${v}`).join(', ')}</dd></>}
        </dl>
        <ActionBar job={job} onDone={notify} />
      </header>

      <section aria-labelledby="h-progress">
        <h2 id="h-progress">Progress</h2>
        <ProgressBar job={job} />
        {job.error !== null && <p class="error-box"><strong>{job.error.code}</strong>: {job.error.message}</p>}
      </section>

      <nav class="toc" aria-label="Sections of this job">
        <a href="#h-explain">Why</a> <a href="#h-timeline">Timeline</a> <a href="#h-tasks">Tasks</a> <a href="#h-failures">Failures</a> <a href="#h-travel">Time travel</a> <a href="#h-spec">Spec</a>
      </nav>

      <section aria-labelledby="h-explain">
        <h2 id="h-explain">Why is it {job.state.toLowerCase()}?</h2>
        {explain.data !== undefined ? <ExplainPanel x={explain.data} /> : explain.error !== undefined ? <p class="error">{explain.error.message}</p> : <p>Loading…</p>}
      </section>

      <section aria-labelledby="h-timeline">
        <h2 id="h-timeline">Timeline</h2>
        <Timeline events={events} upTo={moment} />
      </section>

      <section aria-labelledby="h-tasks">
        <h2 id="h-tasks">Tasks</h2>
        {tasks.data !== undefined ? <TaskGrid tasks={tasks.data.tasks} truncated={tasks.data.truncated} /> : <p>Loading…</p>}
      </section>

      <section aria-labelledby="h-failures">
        <h2 id="h-failures">Failures</h2>
        {failures.data !== undefined ? <FailureGroups failures={failures.data} /> : <p>Loading…</p>}
      </section>

      <section aria-labelledby="h-travel">
        <h2 id="h-travel">Time travel</h2>
        <HistorySlider jobId={id} events={events} onMoment={setMoment} />
      </section>

      <section aria-labelledby="h-spec">
        <h2 id="h-spec">Spec</h2>
        <pre class="spec" tabIndex={0} aria-label="The job's spec (JSON)">{JSON.stringify(job.spec, null, 2)}</pre>
        {job.summary !== null && <><h3>Result</h3><pre class="spec" tabIndex={0}>{JSON.stringify(job.summary, null, 2)}</pre></>}
      </section>
    </article>
  );
}
