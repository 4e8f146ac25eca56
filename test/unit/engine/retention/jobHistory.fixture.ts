/** Appends whole job histories to an event log, for retention tests (not a test file itself). */
import type { EventMeta, JobEvent, JobSubmittedData } from '../../../../actors/events.ts';
import type { EventLog } from '../../../../engine/eventlog/eventLog.ts';
import { jobEvSubject, jobHookSubject, jobTaskSubject } from '../../../../engine/subjects.ts';

/** Where the history stops. `succeeded` has 2 tasks with outcomes on `.task` and one `.hook` record. */
export type JobEnd = 'succeeded' | 'stopped' | 'failed' | 'waiting' | 'running';

let counter = 0;

/** Appends a job's events (times from `nowMs`) with CAS as the engine does; returns the job id. */
export async function appendJobHistory(log: EventLog, nowMs: () => number, end: JobEnd, type = 'noop'): Promise<string> {
  const jobId = `job-${process.pid}-${++counter}`;
  const meta = (epoch: number): EventMeta => ({ jobId, epoch, actor: 'test', at: new Date(nowMs()).toISOString(), v: 1 });
  const data: JobSubmittedData = {
    jobId, type, name: `${type} ${counter}`, spec: {}, priority: 0, maxTaskAttempts: 1, maxFailedRatio: 0.5, requestHash: 'h', owner: 'alice',
  };
  const ev = jobEvSubject(jobId);
  let last = (await log.append(ev, [{ type: 'JobSubmitted', data, meta: meta(0) }], { expectedLastSubjectSeq: 0 })).seq;
  const put = async (...events: JobEvent[]) => {
    last = (await log.append(ev, events, { expectedLastSubjectSeq: last })).seq;
  };
  if (end === 'stopped') await put({ type: 'JobStopped', data: {}, meta: meta(0) });
  if (end === 'succeeded' || end === 'failed' || end === 'running') {
    const tasks = [{ taskId: 't0', payload: {}, items: 4, bytes: 40 }, { taskId: 't1', payload: {}, items: 4, bytes: 40 }];
    await put({ type: 'JobClaimed', data: { coordinatorId: 'c1', epoch: 1 }, meta: meta(1) }, { type: 'TasksPlanned', data: { tasks }, meta: meta(1) });
  }
  if (end === 'succeeded') {
    for (const taskId of ['t0', 't1']) {
      const result = { itemsDone: 3, itemsFailed: 1, bytesDone: 30, failures: [{ item: `${taskId}/x`, error: 'EIO' }] };
      await log.append(jobTaskSubject(jobId), [{ type: 'TaskSucceeded', data: { taskId, attempt: 1, workerId: 'w1', result }, meta: meta(1) }]);
    }
    await put({ type: 'VerificationStarted', data: {}, meta: meta(1) });
    await put({ type: 'JobSucceeded', data: { summary: { ok: true } }, meta: meta(1) });
    await log.append(jobHookSubject(jobId), [{ type: 'WebhookRedeliveryRequested', data: {}, meta: meta(1) }]);
  }
  if (end === 'failed') await put({ type: 'JobFailed', data: { error: { code: 'BOOM', message: 'boom' } }, meta: meta(1) });
  return jobId;
}
