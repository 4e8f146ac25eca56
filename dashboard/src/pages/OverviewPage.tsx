import { api } from '../client/client.ts';
import { JOB_STATES, type Overview } from '../client/types.ts';
import { Chart } from '../components/Chart.tsx';
import { Link } from '../components/Link.tsx';
import { VirtualClusterTable } from '../components/VirtualClusterTable.tsx';
import { duration } from '../format.ts';
import { useLiveStream, useLoad, useThrottle } from '../live/hooks.ts';

/**
 * Counts by state, throughput and queue depth over the last minutes, waits, health and virtual
 * clusters, from `GET /overview`; read again (at most every 2 s) whenever the live stream says
 * something happened.
 */
export function OverviewPage() {
  const ov = useLoad((signal) => api<Overview>('/overview', { signal }), []);
  const refresh = useThrottle(() => ov.reload(), 2000);
  useLiveStream('/events', (m) => { if (m.kind !== 'snapshot') refresh(); });
  if (ov.error !== undefined) return <p class="error" role="alert">{ov.error.message}</p>;
  const o = ov.data;
  if (o === undefined) return <p>Loading…</p>;
  const s = o.series;
  const last = <T,>(xs: T[]) => xs[xs.length - 1];
  const finished = s.map((x) => x.succeeded + x.failed + x.stopped);
  const perMin = (n: number) => Math.round((n * 60_000) / o.bucketMs);
  const recent = finished.slice(-6).reduce((a, b) => a + b, 0);
  const minutes = Math.round(o.windowMs / 60_000);
  const liveCoords = o.coordinators.filter((c) => c.alive).length;
  return (
    <section aria-labelledby="h-overview">
      <h1 id="h-overview">Overview</h1>
      <ul class="tiles" aria-label="Jobs by state">
        {JOB_STATES.map((st) => (
          <li key={st} class={`tile state-${st.toLowerCase()}`}>
            <Link to={`/jobs?state=${st}${st === 'SUCCEEDED' || st === 'FAILED' || st === 'STOPPED' ? '&active=all' : ''}`} aria-label={`${o.counts[st]} ${st} jobs`}>
              <span class="tile-n" data-testid={`count-${st}`}>{o.counts[st]}</span><span class="tile-label">{st}</span>
            </Link>
          </li>
        ))}
      </ul>
      <div class="panels">
        <div class="panel">
          <h2>Queue depth, last {minutes} min</h2>
          <Chart kind="line" title="Jobs waiting and holding a slot" summary={`Now ${last(s)?.waiting ?? 'unknown'} waiting and ${last(s)?.active ?? 'unknown'} running, paused or verifying.`}
            series={[{ name: 'waiting', class: 's-waiting', values: s.map((x) => x.waiting) }, { name: 'running, paused, verifying', class: 's-active', values: s.map((x) => x.active) }]} />
        </div>
        <div class="panel">
          <h2>Throughput, last {minutes} min</h2>
          <Chart kind="bar" title={`Jobs finished per ${o.bucketMs / 1000} s`} summary={`${perMin(recent / 6)} jobs finished per minute over the last minute.`}
            series={[{ name: 'succeeded', class: 's-succeeded', values: s.map((x) => x.succeeded) }, { name: 'failed or stopped', class: 's-failed', values: s.map((x) => x.failed + x.stopped) }]} />
          <p>{s.reduce((a, x) => a + x.tasksSucceeded, 0)} tasks succeeded and {s.reduce((a, x) => a + x.tasksFailed, 0)} failed in the window.</p>
        </div>
        <div class="panel">
          <h2>Wait times</h2>
          {o.waits === null ? <p>No job was claimed in the last {minutes} min.</p> : (
            <dl class="facts">
              <dt>Median</dt><dd>{duration(o.waits.p50Ms)}</dd>
              <dt>95th percentile</dt><dd>{duration(o.waits.p95Ms)}</dd>
              <dt>Longest</dt><dd>{duration(o.waits.maxMs)}</dd>
              <dt>Jobs claimed</dt><dd>{o.waits.count}</dd>
            </dl>
          )}
          <p>Waiting longest now: {o.counts.WAITING === 0 ? 'none waits' : duration(o.oldestWaitingMs)}.</p>
        </div>
        <div class="panel">
          <h2>Health</h2>
          <p><span class={liveCoords > 0 ? 'ok' : 'bad'}>{liveCoords > 0 ? '●' : '▲'}</span> {liveCoords} of {o.coordinators.length} coordinators alive</p>
          <ul class="plain">{o.coordinators.map((c) => <li key={c.id}><code>{c.id}</code> {c.alive ? 'alive' : `not alive (last seen ${duration(c.lastSeenMs)} ago)`}</li>)}</ul>
          <p><span class={o.workers.alive > 0 ? 'ok' : 'bad'}>{o.workers.alive > 0 ? '●' : '▲'}</span> {o.workers.alive} of {o.workers.registered} workers alive · <Link to="/workers">workers</Link></p>
        </div>
      </div>
      <h2>Virtual clusters</h2>
      <VirtualClusterTable vcs={o.virtualClusters} />
      <p class="muted">The series is kept by the API process you are connected to: it starts again when that process restarts.</p>
    </section>
  );
}
