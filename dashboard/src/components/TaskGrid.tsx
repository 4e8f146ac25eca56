import { useState } from 'preact/hooks';
import type { Task } from '../client/types.ts';
import { bytes, time } from '../format.ts';

/** Cells drawn at most (a job may have 10,000 tasks); the counts cover all. */
const MAX_CELLS = 2000;

/** One cell per task, coloured and labelled by state; choosing a cell shows that task's detail. */
export function TaskGrid({ tasks, truncated }: { tasks: Task[]; truncated: boolean }) {
  const [picked, setPicked] = useState<string | null>(null);
  if (tasks.length === 0) return <p>No tasks yet (they are planned when a coordinator claims the job; a compacted job has none left).</p>;
  const counts = { pending: 0, running: 0, succeeded: 0, failed: 0 };
  for (const t of tasks) counts[t.state]++;
  const task = tasks.find((t) => t.taskId === picked);
  return (
    <div>
      <p class="task-counts">
        {(Object.keys(counts) as (keyof typeof counts)[]).map((k) => <span key={k} class={`task-count task-${k}`}>{counts[k]} {k}</span>)}
        {truncated ? ' (the first 10,000 tasks)' : ''}
      </p>
      <ul class="task-grid" aria-label="Tasks">
        {tasks.slice(0, MAX_CELLS).map((t) => (
          <li key={t.taskId}>
            <button type="button" class={`cell task-${t.state}${picked === t.taskId ? ' picked' : ''}`} aria-pressed={picked === t.taskId}
              aria-label={`${t.taskId} ${t.state}`} title={`${t.taskId}: ${t.state}`} onClick={() => setPicked(picked === t.taskId ? null : t.taskId)} />
          </li>
        ))}
      </ul>
      {tasks.length > MAX_CELLS && <p>{tasks.length - MAX_CELLS} more tasks are counted above but not drawn.</p>}
      {task !== undefined && (
        <dl class="task-detail" aria-live="polite">
          <dt>Task</dt><dd>{task.taskId} (#{task.index})</dd>
          <dt>State</dt><dd>{task.state}</dd>
          <dt>Attempts</dt><dd>{task.attempts}</dd>
          <dt>Worker</dt><dd>{task.worker ?? '—'}</dd>
          <dt>Last update</dt><dd>{time(task.lastUpdated)}</dd>
          <dt>Items</dt><dd>{task.items} ({bytes(task.bytes)})</dd>
          {task.error !== null && <><dt>Error</dt><dd>{task.error.code}: {task.error.message}</dd></>}
        </dl>
      )}
    </div>
  );
}
