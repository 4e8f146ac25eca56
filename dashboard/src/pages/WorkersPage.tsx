import { api } from '../client/client.ts';
import type { VirtualCluster, Worker } from '../client/types.ts';
import { Link } from '../components/Link.tsx';
import { VirtualClusterTable } from '../components/VirtualClusterTable.tsx';
import { ago } from '../format.ts';
import { useLiveStream, useLoad, useThrottle } from '../live/hooks.ts';

/**
 * Workers (from their registrations and heartbeats) and virtual clusters. Heartbeats are not events
 * of the stream: the page reads both again when job events arrive (at most every 2 s).
 */
export function WorkersPage() {
  const workers = useLoad((signal) => api<{ workers: Worker[] }>('/workers', { signal }), []);
  const vcs = useLoad((signal) => api<{ virtualClusters: VirtualCluster[] }>('/virtual-clusters', { signal }), []);
  const refresh = useThrottle(() => { workers.reload(); vcs.reload(); }, 2000);
  useLiveStream('/events', (m) => { if (m.kind === 'event') refresh(); });
  const list = (workers.data?.workers ?? []).filter((w) => w.state !== 'LEFT' || w.alive);
  return (
    <section aria-labelledby="h-workers">
      <h1 id="h-workers">Workers</h1>
      {workers.error !== undefined && <p class="error" role="alert">{workers.error.message}</p>}
      <table class="workers responsive">
        <caption class="visually-hidden">Workers</caption>
        <thead><tr><th scope="col">Worker</th><th scope="col">Health</th><th scope="col">State</th><th scope="col">Pool</th><th scope="col">Host</th><th scope="col">Slots</th><th scope="col">Running</th><th scope="col">Registered</th></tr></thead>
        <tbody>
          {list.map((w) => (
            <tr key={w.id}>
              <th scope="row" data-label="Worker"><code>{w.id}</code></th>
              <td data-label="Health"><span class={w.alive ? 'ok' : 'bad'}>{w.alive ? '● alive' : '▲ not alive'}</span></td>
              <td data-label="State">{w.state}</td>
              <td data-label="Pool">{w.pool}</td>
              <td data-label="Host">{w.host} (pid {w.pid})</td>
              <td data-label="Slots">{w.tasks.length} of {w.concurrency}</td>
              <td data-label="Running">{w.tasks.length === 0 ? 'idle' : w.tasks.slice(0, 5).map((t) => <span key={`${t.jobId}${t.taskId}`}><Link to={`/jobs/${t.jobId}`}>{t.taskId}</Link> </span>)}{w.tasks.length > 5 ? `+${w.tasks.length - 5}` : ''}</td>
              <td data-label="Registered">{ago(w.registeredAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {workers.data !== undefined && list.length === 0 && <p>No worker is registered.</p>}
      <h2>Virtual clusters</h2>
      {vcs.data !== undefined && <VirtualClusterTable vcs={vcs.data.virtualClusters} />}
    </section>
  );
}
