/**
 * The v2 job list (`GET /api/v2/jobs`, plan §3.4 "Listing (v2)"): its query (comma lists, order,
 * paging, values as the SDK sends them, unencoded) and the summaries it answers, from jobViews.ts.
 */
import { AppError, type JobView } from '../../../engine/index.ts';
import { PAI_STATES, v2Summary, type NativeState, type PaiJobSummary, type PaiState } from './jobViews.ts';

/** `GET /api/v2/jobs` `limit` when absent, and the most it may ask (the original's numbers). */
export const V2_LIST_DEFAULT_LIMIT = 5000;
export const V2_LIST_MAX_LIMIT = 50_000;

/** `order` fields: the swagger's list, plus the original's `completionTime` (nulls last ascending). */
export const V2_ORDER_FIELDS = ['jobName', 'submissionTime', 'username', 'vc', 'retries', 'totalTaskNumber', 'totalGpuNumber', 'state', 'completionTime'] as const;
export type V2OrderField = (typeof V2_ORDER_FIELDS)[number];

export interface V2ListQuery {
  /** Each filter is a comma list (any of them matches); null: no filter. */
  usernames: string[] | null;
  vcs: string[] | null;
  states: PaiState[] | null;
  /** Substring of the job name, user or virtual cluster. */
  keyword: string | null;
  /** The job has at least one of these tags. */
  tagsContain: string[] | null;
  /** The job has none of these tags. */
  tagsNotContain: string[] | null;
  order: { field: V2OrderField; direction: 'ASC' | 'DESC' };
  offset: number;
  limit: number;
  withTotalCount: boolean;
}

function invalid(message: string): AppError {
  return new AppError('VALIDATION_FAILED', message);
}

/** One query value as a string (numbers and booleans as typed by a parser); '' and absent are null. */
function scalar(query: Record<string, unknown>, key: string): string | null {
  const v = query[key];
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) throw invalid(`${key} is given more than once`);
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw invalid(`${key} must be a string`);
  const s = String(v).trim();
  return s === '' ? null : s;
}

/** A comma list (repeated keys are joined); empty entries dropped; null when nothing is left. */
function list(query: Record<string, unknown>, key: string): string[] | null {
  const v = query[key];
  if (v === undefined || v === null) return null;
  const parts = Array.isArray(v) ? v : [v];
  if (!parts.every((p) => typeof p === 'string' || typeof p === 'number')) throw invalid(`${key} must be a comma-separated list`);
  const items = parts.flatMap((p) => String(p).split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return items.length === 0 ? null : items;
}

function integer(query: Record<string, unknown>, key: string, max: number): number | null {
  const s = scalar(query, key);
  if (s === null) return null;
  const n = /^\d{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n > max) throw invalid(`${key} must be an integer from 0 to ${max}, got ${JSON.stringify(s.slice(0, 40))}`);
  return n;
}

/**
 * Reads `GET /api/v2/jobs`'s query: values as strings (the SDK sends them unencoded) or typed.
 * @throws AppError VALIDATION_FAILED for a bad state, order, offset, limit or withTotalCount
 */
export function parseV2ListQuery(query: Record<string, unknown>): V2ListQuery {
  const states = list(query, 'state');
  for (const s of states ?? []) {
    if (!(PAI_STATES as readonly string[]).includes(s)) throw invalid(`state must be one of ${PAI_STATES.join(', ')}, got ${JSON.stringify(s.slice(0, 40))}`);
  }
  const orderText = scalar(query, 'order') ?? 'submissionTime,DESC';
  const [field, direction = 'ASC', ...rest] = orderText.split(',').map((s) => s.trim());
  const dir = direction.toUpperCase();
  if (!(V2_ORDER_FIELDS as readonly string[]).includes(field!) || (dir !== 'ASC' && dir !== 'DESC') || rest.length > 0) {
    throw invalid(`order must be <field>,<ASC|DESC> with a field of ${V2_ORDER_FIELDS.join(', ')}, got ${JSON.stringify(orderText.slice(0, 60))}`);
  }
  const total = scalar(query, 'withTotalCount')?.toLowerCase() ?? 'false';
  if (total !== 'true' && total !== 'false') throw invalid('withTotalCount must be true or false');
  return {
    usernames: list(query, 'username'),
    vcs: list(query, 'vc'),
    states: states as PaiState[] | null,
    keyword: scalar(query, 'keyword'),
    tagsContain: list(query, 'tagsContain'),
    tagsNotContain: list(query, 'tagsNotContain'),
    order: { field: field as V2OrderField, direction: dir },
    offset: integer(query, 'offset', Number.MAX_SAFE_INTEGER) ?? 0,
    limit: integer(query, 'limit', V2_LIST_MAX_LIMIT) ?? V2_LIST_DEFAULT_LIMIT,
    withTotalCount: total === 'true',
  };
}

/** The native states a v2 state filter may match, for narrowing the native list (STOPPING: any unfinished one). */
export function nativeStatesOf(states: readonly PaiState[]): NativeState[] {
  const out = new Set<NativeState>();
  for (const s of states) {
    if (s === 'WAITING') out.add('WAITING');
    else if (s === 'RUNNING') ['RUNNING', 'PAUSED', 'VERIFYING'].forEach((n) => out.add(n as NativeState));
    else if (s === 'STOPPING') ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING'].forEach((n) => out.add(n as NativeState));
    else if (s !== 'UNKNOWN') out.add(s);
  }
  return [...out];
}

function sortKey(s: PaiJobSummary, field: V2OrderField): string | number | null {
  switch (field) {
    case 'jobName': return s.name;
    case 'submissionTime': return s.submissionTime;
    case 'username': return s.username;
    case 'vc': return s.virtualCluster;
    case 'completionTime': return s.completedTime;
    default: return s[field];
  }
}

function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1; // nulls last (ascending)
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * Filters, orders and pages jobs as `GET /api/v2/jobs` answers: the JobSummary array, or
 * `{totalCount, data}` with `withTotalCount` (totalCount: every job that matched, before paging).
 * Ties keep the newest submission first.
 */
export function applyV2List(jobs: readonly JobView[], tagsOf: (job: JobView) => readonly string[], q: V2ListQuery): PaiJobSummary[] | { totalCount: number; data: PaiJobSummary[] } {
  const has = (set: readonly string[] | null, v: string) => set === null || set.includes(v);
  const rows = jobs
    .map((job) => ({ seq: job.submitSeq, s: v2Summary(job, tagsOf(job)) }))
    .filter(({ s }) =>
      has(q.usernames, s.username) &&
      has(q.vcs, s.virtualCluster) &&
      has(q.states, s.state) &&
      (q.keyword === null || [s.name, s.username, s.virtualCluster].some((v) => v.includes(q.keyword!))) &&
      (q.tagsContain === null || s.tags.some((t) => q.tagsContain!.includes(t))) &&
      (q.tagsNotContain === null || !s.tags.some((t) => q.tagsNotContain!.includes(t))));
  const sign = q.order.direction === 'ASC' ? 1 : -1;
  rows.sort((a, b) => sign * compare(sortKey(a.s, q.order.field), sortKey(b.s, q.order.field)) || b.seq - a.seq);
  const data = rows.slice(q.offset, q.offset + q.limit).map((r) => r.s);
  return q.withTotalCount ? { totalCount: rows.length, data } : data;
}
