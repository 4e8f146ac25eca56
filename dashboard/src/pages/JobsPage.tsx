import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../client/client.ts';
import { getSession } from '../client/session.ts';
import { JOB_STATES, type Job, type LiveMessage, type VirtualCluster } from '../client/types.ts';
import { Link } from '../components/Link.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { StateBadge } from '../components/StateBadge.tsx';
import { ago, originName, shortId } from '../format.ts';
import { useLiveStream, useLoad, useThrottle } from '../live/hooks.ts';
import { navigate } from '../router.ts';

export const PAGE_SIZE = 25;
/** The filters the URL carries (deep links to a filtered list), as the API names them. */
const FILTERS = ['q', 'state', 'type', 'owner', 'virtualCluster', 'active'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/**
 * The job list: filtering, search and pagination by the server (`GET /jobs`), the filters in the
 * URL. Rows update live from `GET /events`; the first page also takes new jobs in.
 */
export function JobsPage({ params }: { params: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Filters;
  const cursor = params.get('cursor') ?? '';
  const page = Number(params.get('page') ?? '1') || 1;
  const key = params.toString();
  const list = useLoad((signal) => api<{ jobs: Job[]; nextCursor: string | null }>(`/jobs${query({ ...filters, cursor, limit: PAGE_SIZE })}`, { signal }), [key]);
  const types = useLoad((signal) => api<{ jobTypes: { name: string }[] }>('/job-types', { signal }), []);
  const vcs = useLoad((signal) => api<{ virtualClusters: VirtualCluster[] }>('/virtual-clusters', { signal }), []);
  const [updated, setUpdated] = useState<Map<string, Job>>(new Map());
  const refresh = useThrottle(() => { setUpdated(new Map()); list.reload(); }, 1500);

  useLiveStream('/events', (m: LiveMessage) => {
    if (m.kind !== 'event' || m.job === null) return;
    const job = m.job;
    if (page === 1 && (m.type === 'JobSubmitted' || !list.data?.jobs.some((j) => j.id === job.id))) refresh();
    else if (list.data?.jobs.some((j) => j.id === job.id)) setUpdated((u) => new Map(u).set(job.id, job));
  });

  const jobs = (list.data?.jobs ?? []).map((j) => updated.get(j.id) ?? j);
  const admin = getSession()?.role === 'admin';
  const pageLink = (c: string | null, p: number) => `/jobs${query({ ...filters, cursor: c, page: p > 1 ? p : undefined })}`;
  return (
    <section aria-labelledby="h-jobs">
      <h1 id="h-jobs">Jobs</h1>
      <FilterForm filters={filters} admin={admin} jobTypes={(types.data?.jobTypes ?? []).map((t) => t.name)} vcs={(vcs.data?.virtualClusters ?? []).map((v) => v.name)} />

      {list.error !== undefined && <p class="error" role="alert">{list.error.message}</p>}
      <table class="jobs responsive">
        <caption class="visually-hidden">Jobs, newest first{page > 1 ? `, page ${page}` : ''}</caption>
        <thead><tr><th scope="col">Job</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Type</th><th scope="col">Through</th><th scope="col">Owner</th><th scope="col">Submitted</th></tr></thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id} data-job={j.id}>
              <td data-label="Job"><Link to={`/jobs/${j.id}`}>{j.name}</Link> <span class="muted">{shortId(j.id)}</span></td>
              <td data-label="State"><StateBadge state={j.state} /></td>
              <td data-label="Progress"><ProgressBar job={j} compact /></td>
              <td data-label="Type">{j.type}</td>
              <td data-label="Through">{originName(j.origin)}</td>
              <td data-label="Owner">{j.owner}</td>
              <td data-label="Submitted">{ago(j.submittedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data !== undefined && jobs.length === 0 && <p>No jobs match.</p>}
      <nav class="pager" aria-label="Pages">
        {page > 1 && <Link to={pageLink(null, 1)}>First page</Link>}
        <span>Page {page}</span>
        {list.data?.nextCursor != null && <Link to={pageLink(list.data.nextCursor, page + 1)}>Next page</Link>}
      </nav>
    </section>
  );
}

/**
 * The filters as typed, kept in state until applied: the list redraws on every live event, and a
 * field whose value came from the URL alone would be reset to it by each redraw (Preact writes a
 * `value` prop back into the field), losing what was typed.
 */
function FilterForm({ filters, admin, jobTypes, vcs }: { filters: Filters; admin: boolean; jobTypes: string[]; vcs: string[] }) {
  const [draft, setDraft] = useState(filters);
  const applied = JSON.stringify(filters);
  // another address (applied, cleared, back): the form shows its filters
  useEffect(() => setDraft(filters), [applied]);
  const set = (k: keyof Filters) => (e: Event) => {
    const v = (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
    setDraft((d) => ({ ...d, [k]: v }));
  };
  function apply(e: Event) {
    e.preventDefault();
    const next: Record<string, string> = {};
    for (const k of FILTERS) { const v = draft[k].trim(); if (v !== '') next[k] = v; }
    navigate(`/jobs${query(next)}`);
  }
  return (
    <form class="filters" role="search" aria-label="Filter jobs" onSubmit={apply}>
      <div><label for="f-q">Search</label><input id="f-q" name="q" type="search" value={draft.q} onInput={set('q')} placeholder="id, name, type or owner" maxLength={200} /></div>
      <div><label for="f-state">State</label>
        <select id="f-state" name="state" value={draft.state} onChange={set('state')}>
          <option value="">any</option>
          {JOB_STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          <option value="WAITING,RUNNING,PAUSED,VERIFYING">unfinished</option>
        </select></div>
      <div><label for="f-type">Type</label>
        <select id="f-type" name="type" value={draft.type} onChange={set('type')}>
          <option value="">any</option>
          {jobTypes.map((t) => <option key={t} value={t}>{t}</option>)}
        </select></div>
      <div><label for="f-vc">Virtual cluster</label>
        <select id="f-vc" name="virtualCluster" value={draft.virtualCluster} onChange={set('virtualCluster')}>
          <option value="">any</option>
          {vcs.map((v) => <option key={v} value={v}>{v}</option>)}
        </select></div>
      {admin && <div><label for="f-owner">Owner</label><input id="f-owner" name="owner" value={draft.owner} onInput={set('owner')} maxLength={32} /></div>}
      <div><label for="f-active">Archived</label>
        <select id="f-active" name="active" value={draft.active} onChange={set('active')}>
          <option value="">hidden</option><option value="false">only</option><option value="all">shown</option>
        </select></div>
      <div class="filter-buttons"><button type="submit" class="primary">Apply</button> <button type="button" onClick={() => navigate('/jobs')}>Clear</button></div>
    </form>
  );
}
