import { EVENT_SCHEMA_VERSION, type Envelope } from '../actors/events.ts';
import type { EventLog } from '../engine/eventlog/eventLog.ts';
import { jobEvSubject, jobTaskSubject } from '../engine/subjects.ts';

/**
 * Appends `jobs` finished noop jobs the way the engine writes them (4 records, 6 events each),
 * 512 appends in flight. Returns how many records and events were written.
 */
export async function syntheticJobRecords(log: EventLog, jobs: number): Promise<{ records: number; events: number }> {
  const at = new Date().toISOString();
  const meta = (jobId: string, epoch: number, actor: string) => ({ jobId, epoch, actor, at, v: EVENT_SCHEMA_VERSION });
  let next = 0;
  let events = 0;
  const one = async (i: number) => {
    const jobId = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const ev = jobEvSubject(jobId);
    const r1 = await log.append(ev, [{ type: 'JobSubmitted', data: { jobId, type: 'noop', name: 'noop', spec: {}, priority: 0, maxTaskAttempts: 3, maxFailedRatio: 0, requestHash: 'x', owner: 'bench' }, meta: meta(jobId, 0, 'api') }], { expectedLastSubjectSeq: 0 });
    const claim: Envelope[] = [
      { type: 'JobClaimed', data: { coordinatorId: 'c-bench', epoch: 1 }, meta: meta(jobId, 1, 'coordinator:c-bench') },
      { type: 'TasksPlanned', data: { tasks: [{ taskId: 't00000', payload: null, items: 1, bytes: 0 }] }, meta: meta(jobId, 1, 'coordinator:c-bench') },
    ];
    const r2 = await log.append(ev, claim, { expectedLastSubjectSeq: r1.seq });
    await log.append(jobTaskSubject(jobId), [{ type: 'TaskSucceeded', data: { taskId: 't00000', attempt: 1, workerId: 'w-bench', result: { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [] } }, meta: meta(jobId, 1, 'worker:w-bench') }]);
    await log.append(ev, [
      { type: 'VerificationStarted', data: {}, meta: meta(jobId, 1, 'coordinator:c-bench') },
      { type: 'JobSucceeded', data: {}, meta: meta(jobId, 1, 'coordinator:c-bench') },
    ], { expectedLastSubjectSeq: r2.seq });
    events += 6;
  };
  await Promise.all(Array.from({ length: 512 }, async () => {
    while (next < jobs) await one(next++);
  }));
  return { records: jobs * 4, events };
}
