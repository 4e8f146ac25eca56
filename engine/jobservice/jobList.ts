/** Listing jobs: newest first, filtered, a page at a time behind an opaque cursor. */
import type { JobState } from '../../actors/events.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import { AppError } from '../errors.ts';
import { entryView } from '../projections/jobEntry.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import type { Caller, JobService, JobView, ListQuery } from '../serviceTypes.ts';
import type { OrderIndex } from '../projections/submissionOrder.ts';
import { canSeeJob, listedOwner } from './access.ts';
import { hasLabels } from './labels.ts';

export function createJobList(deps: { projection: JobProjection }): JobService['list'] {
  const { projection } = deps;
  return async function list(q, caller) {
    const states = q.state ? new Set<JobState>(q.state) : undefined;
    const before = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
    const jobs: JobView[] = [];
    let last: JobEntry | undefined;
    let more = false;
    // Non-admins read only their own jobs: walk that owner's index, not every job.
    for (const e of projection.newestFirst(before, walked(q, caller))) {
      if (!matches(q, caller, states, e)) continue;
      if (jobs.length === q.limit) {
        more = true;
        break;
      }
      jobs.push(entryView(e));
      last = e;
    }
    return { jobs, nextCursor: more && last ? encodeCursor(last.submitSeq) : null };
  };
}

function matches(q: ListQuery, caller: Caller, states: Set<JobState> | undefined, e: JobEntry): boolean {
  if (states && !states.has(e.state)) return false;
  const c = e.snapshot.context as JobContext;
  if (!canSeeJob(caller, c)) return false;
  if (q.owner !== undefined && c.owner !== q.owner) return false;
  if (q.virtualCluster !== undefined && c.virtualCluster !== q.virtualCluster) return false;
  const active = q.active ?? true;
  if (active !== 'all' && c.active !== active) return false;
  if (q.type !== undefined && c.type !== q.type) return false;
  if (q.name !== undefined && c.name !== q.name) return false;
  if (q.search !== undefined && !contains(q.search, c)) return false;
  if (q.labels !== undefined && !hasLabels(c.labels, q.labels)) return false;
  return true;
}

/** `ListQuery.search`: a case-insensitive substring of the job's id, name, type or owner. */
function contains(search: string, c: JobContext): boolean {
  const s = search.toLowerCase();
  return [c.jobId, c.name, c.type, c.owner].some((f) => f.toLowerCase().includes(s));
}

/** The index a listing walks: one label's jobs when it selects by label, else the owner's (or all). */
function walked(q: ListQuery, caller: Caller): OrderIndex | undefined {
  const first = q.labels !== undefined ? Object.entries(q.labels)[0] : undefined;
  if (first !== undefined) return { label: `${first[0]}=${first[1]}` };
  const owner = listedOwner(caller, q.owner);
  return owner === undefined ? undefined : { owner };
}

function encodeCursor(submitSeq: number): string {
  return Buffer.from(`s:${submitSeq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^s:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new AppError('VALIDATION_FAILED', 'cursor is not one this service issued');
  return Number(m[1]);
}
