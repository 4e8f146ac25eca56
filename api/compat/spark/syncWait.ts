/**
 * Waiting for a job's end for `sync=true`: one live subscription (the projection's, no engine
 * resource beyond it), ended by the job's terminal state, the timeout, or the client going away.
 */
import type { ServerResponse } from 'node:http';
import type { Caller, JobService, JobView } from '../../../engine/index.ts';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);

/** The job once finished; undefined when `timeoutMs` passed first, the client left (`client` closed before an answer), or the job was removed. */
export async function waitForEnd(service: JobService, jobId: string, caller: Caller, timeoutMs: number, client?: ServerResponse, stop?: AbortSignal): Promise<JobView | undefined> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const gone = () => ac.abort();
  client?.once('close', gone);
  stop?.addEventListener('abort', gone, { once: true });
  try {
    for await (const m of service.live({ caller, jobId, signal: ac.signal })) {
      if (m.kind === 'removed') return undefined;
      const job = m.kind === 'snapshot' ? m.jobs.find((j) => j.id === jobId) : m.job;
      if (job != null && TERMINAL.has(job.state)) return job;
    }
    return undefined;
  } catch (err) {
    if (ac.signal.aborted) return undefined;
    throw err;
  } finally {
    clearTimeout(timer);
    client?.off('close', gone);
    stop?.removeEventListener('abort', gone);
    ac.abort();
  }
}
