import { useState } from 'preact/hooks';
import type { HistoryEntry } from '../client/types.ts';
import { time } from '../format.ts';

/** Who did it: `user:alice` → alice; a coordinator or worker by its id. */
function who(meta: Record<string, unknown>): string {
  const a = typeof meta['actor'] === 'string' ? meta['actor'] : '';
  return a.startsWith('user:') ? a.slice(5) : a === '' ? '—' : a;
}

/** What an event's data adds in one line (the common cases; the rest is in the history as JSON). */
function detail(e: HistoryEntry): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'JobClaimed': return `by ${String(d['coordinatorId'])} (epoch ${String(d['epoch'])})`;
    case 'JobRequeued': return `from ${String(d['fromCoordinator'])}`;
    case 'TasksPlanned': return `${Array.isArray(d['tasks']) ? d['tasks'].length : 0} tasks`;
    case 'TaskSucceeded': return `${String(d['taskId'])} attempt ${String(d['attempt'])} on ${String(d['workerId'])}`;
    case 'TaskFailed': {
      const err = d['error'] as { code?: string; message?: string } | undefined;
      return `${String(d['taskId'])} attempt ${String(d['attempt'])}: ${err?.code ?? ''} ${err?.message ?? ''}`;
    }
    case 'JobFailed': {
      const err = d['error'] as { code?: string; message?: string } | undefined;
      return `${err?.code ?? ''}: ${err?.message ?? ''}`;
    }
    case 'StopRequested': return `grace ${String(d['graceMs'])} ms`;
    case 'JobRecovered': return `${String(d['mode'])}, ${String(d['tasksReset'])} tasks reset`;
    default: return '';
  }
}

/**
 * The job's transitions from its event log: when, what, who and why. Task outcomes are many; they
 * are shown on request. `upTo`: entries after that sequence are dimmed (the time slider's moment).
 */
export function Timeline({ events, upTo }: { events: HistoryEntry[]; upTo: number | null }) {
  const [withTasks, setWithTasks] = useState(false);
  const shown = withTasks ? events : events.filter((e) => e.subject === 'ev');
  const hidden = events.length - shown.length;
  return (
    <div>
      <label class="inline">
        <input type="checkbox" checked={withTasks} onChange={(e) => setWithTasks((e.currentTarget as HTMLInputElement).checked)} />
        {' '}Show task outcomes{hidden > 0 ? ` (${hidden} hidden)` : ''}
      </label>
      {shown.length === 0 ? <p>No events (a compacted job keeps only its snapshot).</p> : (
        <ol class="timeline" data-testid="timeline">
          {shown.map((e, i) => (
            <li key={`${e.seq}:${i}`} data-seq={e.seq} data-type={e.type} class={upTo !== null && e.seq > upTo ? 'later' : ''}>
              <time dateTime={e.time}>{time(e.time)}</time>
              <span class="ev-type">{e.type}</span>
              <span class="ev-who">{who(e.meta)}</span>
              {typeof e.meta['reason'] === 'string' && <span class="ev-why">“{e.meta['reason']}”</span>}
              <span class="ev-detail">{detail(e)}</span>
              <span class="ev-seq">#{e.seq}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
