import type { VirtualCluster } from '../client/types.ts';

/** Virtual clusters: their shares and how many of their running-job slots are used. */
export function VirtualClusterTable({ vcs }: { vcs: VirtualCluster[] }) {
  return (
    <table class="vcs responsive">
      <caption class="visually-hidden">Virtual clusters</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Slots used</th><th scope="col">Guaranteed / max</th><th scope="col">Waiting</th><th scope="col">Active</th><th scope="col">Jobs</th></tr></thead>
      <tbody>
        {vcs.map((v) => (
          <tr key={v.name}>
            <th scope="row" data-label="Name">{v.name}</th>
            <td data-label="Slots used">
              <meter min={0} max={Math.max(1, v.slots.max)} value={v.slots.used} aria-label={`${v.name}: ${v.slots.used} of ${v.slots.max} slots`} /> {v.slots.used} of {v.slots.max}
            </td>
            <td data-label="Guaranteed / max">{v.slots.guaranteed} / {v.slots.max} ({v.capacity} % / {v.maxCapacity} %)</td>
            <td data-label="Waiting">{v.numPendingJobs}</td>
            <td data-label="Active">{v.numActiveJobs}</td>
            <td data-label="Jobs">{v.numJobs}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
