/**
 * The native API (docs/api.md) as the `job` commands use it, over the transport in http.ts. Every
 * error becomes a {@link CliError} with the exit code its HTTP status calls for.
 */
import type { FailuresView, JobList, JobView, ProgressView } from './apiTypes.ts';
import { createHttp, type HttpOptions, type LiveEvent } from './http.ts';

export { printable, shownUrl, type LiveEvent } from './http.ts';
export { exitCodeForStatus } from './exitCodes.ts';

/** `GET /jobs` page size: the most the API gives at once. */
const PAGE_LIMIT = 1000;

export type ClientOptions = HttpOptions;

export interface SubmitBody {
  type: string;
  spec: Record<string, unknown>;
  labels?: Record<string, string>;
}

export interface JetjobsClient {
  /** `created` false: the idempotency key named a job that exists (HTTP 200, not 201). */
  submit(body: SubmitBody, idempotencyKey?: string): Promise<{ job: JobView; created: boolean }>;
  /** Every page of `GET /jobs` for the query, newest first, until `until` says stop. */
  listJobs(query: Record<string, string>, until?: (job: JobView) => boolean): Promise<JobView[]>;
  job(id: string): Promise<JobView>;
  progress(id: string): Promise<ProgressView>;
  failures(id: string): Promise<FailuresView>;
  stop(id: string, reason: string): Promise<JobView>;
  rerun(id: string, reason: string): Promise<JobView>;
  /**
   * The job's live events (`GET /jobs/:id/events`, Server-Sent Events) until the stream ends or
   * `signal` aborts; `afterId` resumes after that event id (no snapshot then).
   */
  events(id: string, afterId: string | undefined, signal: AbortSignal): AsyncIterable<LiveEvent>;
}

/** `/jobs/<id>`, the id escaped. */
export const jobPath = (id: string): string => `/jobs/${encodeURIComponent(id)}`;

export function createClient(opts: ClientOptions): JetjobsClient {
  const http = createHttp(opts);
  return {
    async submit(body, idempotencyKey) {
      const { value, status } = await http.exchange<JobView>('POST', '/jobs', { body, headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey } });
      return { job: value, created: status === 201 };
    },
    async listJobs(query, until) {
      const out: JobView[] = [];
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ ...query, limit: String(PAGE_LIMIT), ...(cursor === null ? {} : { cursor }) });
        const page: JobList = await http.call<JobList>('GET', `/jobs?${params}`);
        for (const job of page.jobs) {
          out.push(job);
          if (until?.(job)) return out;
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
      return out;
    },
    job: (id) => http.call<JobView>('GET', jobPath(id)),
    progress: (id) => http.call<ProgressView>('GET', `${jobPath(id)}/progress`),
    failures: (id) => http.call<FailuresView>('GET', `${jobPath(id)}/failures`),
    stop: (id, reason) => http.call<JobView>('POST', `${jobPath(id)}/stop`, { body: { reason } }),
    rerun: (id, reason) => http.call<JobView>('POST', `${jobPath(id)}/rerun`, { body: { reason } }),
    events: (id, afterId, signal) => http.events(`${jobPath(id)}/events`, afterId, signal),
  };
}
