/**
 * The `-o table` layouts of jobs, their history, explanations and dry-run plans (pure: the answer
 * in, text out; `nowMs` for ages).
 */
import type { Explanation, HistoryEntry, JobView, SubmissionPlan } from '../apiTypes.ts';
import { age, formatBytes, renderFields, renderTable } from './output.ts';

function tasksCell(j: JobView): string {
  const p = j.progress;
  const done = (p.tasksSucceeded ?? 0) + (p.tasksFailed ?? 0);
  return `${done}/${p.tasksTotal}${p.tasksFailed ? ` (${p.tasksFailed} failed)` : ''}`;
}

export function jobListTable(jobs: readonly JobView[], nowMs: number): string {
  return renderTable(
    ['ID', 'STATE', 'TYPE', 'NAME', 'OWNER', 'TASKS', 'AGE'],
    jobs.map((j) => [j.id, j.state, j.type, j.name, j.owner ?? '-', tasksCell(j), age(j.submittedAt, nowMs)]),
  );
}

export function jobTable(j: JobView, nowMs: number): string {
  const p = j.progress;
  const labels = j.labels !== undefined && Object.keys(j.labels).length > 0 ? Object.entries(j.labels).map(([k, v]) => `${k}=${v}`).join(',') : null;
  return renderFields([
    ['id', j.id],
    ['name', j.name],
    ['type', j.type],
    ['state', j.state + (j.stopRequested !== null && !['STOPPED', 'SUCCEEDED', 'FAILED'].includes(j.state) ? ` (stopping by ${j.stopRequested.deadline})` : '')],
    ['owner', j.owner ?? null],
    ['virtual cluster', j.virtualCluster ?? null],
    ['priority', j.priority === undefined ? null : String(j.priority)],
    ['submitted', `${j.submittedAt} (${age(j.submittedAt, nowMs)} ago)`],
    ['started', j.startedAt ?? null],
    ['finished', j.finishedAt ?? null],
    ['tasks', tasksCell(j)],
    ['items', p.itemsTotal > 0 ? `${(p.itemsDone ?? 0) + (p.itemsFailed ?? 0)}/${p.itemsTotal} (${p.itemsFailed ?? 0} failed)` : null],
    ['bytes', p.bytesTotal > 0 ? `${formatBytes(p.bytesDone ?? 0)}/${formatBytes(p.bytesTotal)}` : null],
    ['coordinator', j.coordinatorId],
    ['labels', labels],
    ['rerun of', j.rerunOf ?? null],
    ['recoveries', j.recoveries ? String(j.recoveries) : null],
    ['error', j.error === null ? null : `${j.error.code}: ${j.error.message}`],
    ['as of', j.asOf === undefined ? null : `seq ${j.asOf.seq} (${j.asOf.time})${j.asOf.exact ? '' : `: ${j.asOf.note ?? 'not exact'}`}`],
  ]);
}

/** `user:alice` → `alice`; the reason, if any. */
function actorOf(e: HistoryEntry): string {
  const actor = e.meta['actor'];
  return typeof actor === 'string' ? actor : '-';
}

export function historyTable(events: readonly HistoryEntry[]): string {
  return renderTable(
    ['SEQ', 'TIME', 'EVENT', 'ACTOR', 'REASON'],
    events.map((e) => [String(e.seq), e.time, e.type, actorOf(e), typeof e.meta['reason'] === 'string' ? e.meta['reason'] : '']),
  );
}

export function explainTable(x: Explanation): string {
  const lines = [`${x.state}: ${x.summary}`];
  const head = renderFields([
    ['virtual cluster', x.virtualCluster],
    ['queue position', x.queue === null ? null : `${x.queue.position} of ${x.queue.waitingInVc} waiting in ${x.virtualCluster} (${x.queue.higherPriorityAhead} of higher priority ahead)`],
  ]);
  const reasons = renderTable(['REASON', 'MESSAGE'], x.reasons.map((r) => [r.code, r.message]));
  return `${renderFields([['job', x.jobId]])}${lines.join('\n')}\n${head}${reasons}`;
}

export function planTable(p: SubmissionPlan): string {
  const r = p.request;
  const head = renderFields([
    ['dry run', 'nothing was submitted'],
    ['type', String(r['type'])],
    ['name', String(r['name'])],
    ['owner', String(r['owner'])],
    ['virtual cluster', String(r['virtualCluster'])],
    ['tasks', `${p.tasksTotal}${p.planOpen ? ' so far (the type plans more as it runs)' : ''}`],
    ['items', String(p.itemsTotal)],
    ['bytes', formatBytes(p.bytesTotal)],
  ]);
  const rows = p.tasks.map((t) => [t.taskId, String(t.items), formatBytes(t.bytes)]);
  const more = p.truncated ? `… ${p.tasksTotal - p.tasks.length} more tasks\n` : '';
  return `${head}\n${renderTable(['TASK', 'ITEMS', 'BYTES'], rows)}${more}`;
}
