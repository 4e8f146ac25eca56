import type { Explanation } from '../client/types.ts';
import { time } from '../format.ts';

/** `GET /jobs/:id/explain`: why the job is where it is, the reasons in order, and the facts behind them. */
export function ExplainPanel({ x }: { x: Explanation }) {
  return (
    <div class="explain">
      <p class="explain-summary" data-testid="explain-summary">{x.summary}</p>
      {x.reasons.length > 1 && (
        <ul>{x.reasons.map((r) => <li key={r.code}><code>{r.code}</code> {r.message}</li>)}</ul>
      )}
      <dl class="facts">
        {x.queue !== null && <><dt>Place in its queue</dt><dd>{x.queue.position} of {x.queue.waitingInVc} waiting in its virtual cluster; {x.queue.higherPriorityAhead} of higher priority ahead</dd></>}
        {x.quota !== null && <><dt>Virtual cluster {x.quota.name}</dt><dd>{x.quota.used} of max {x.quota.max} running-job slots used (guaranteed {x.quota.guaranteed})</dd></>}
        {x.capacity !== null && <><dt>Capacity</dt><dd>{x.capacity.activeJobs} jobs hold {x.capacity.totalSlots} slots; {x.capacity.freeSlots} free</dd></>}
        <dt>Coordinators</dt><dd>{x.coordinators.live} live{x.coordinators.owner !== null ? `; owner ${x.coordinators.owner} ${x.coordinators.ownerAlive === true ? 'alive' : 'not alive'}` : ''}</dd>
        <dt>Workers</dt><dd>{x.workers.live} live</dd>
        {x.tasks !== null && <><dt>Tasks</dt><dd>{x.tasks.succeeded} succeeded, {x.tasks.failed} failed of {x.tasks.total}{x.tasks.inFlight !== null ? `; ${x.tasks.inFlight} in flight` : ''}{x.tasks.nextRetryAt !== null ? `; next retry ${time(x.tasks.nextRetryAt)}` : ''}</dd></>}
      </dl>
      <p class="muted">As of {time(x.at)}.</p>
    </div>
  );
}
