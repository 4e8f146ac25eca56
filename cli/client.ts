/**
 * The native API over HTTP (docs/api.md), as much of it as the `job` command needs. Every error
 * becomes a {@link CliError} with the exit code its HTTP status calls for.
 */
import type { ErrorBody, FailuresView, JobList, JobView, ProgressView } from './apiTypes.ts';
import { createParser } from 'eventsource-parser';
import { CliError, EXIT, type ExitCode } from './exitCodes.ts';

const PREFIX = '/native/v1';
/** `GET /jobs` page size: the most the API gives at once. */
const PAGE_LIMIT = 1000;

export interface ClientOptions {
  /** Service root, e.g. `http://127.0.0.1:8080` (without `/native/v1`). */
  url: string;
  /** Bearer token; none sends no `authorization` header. */
  token: string | undefined;
  /** Per request. */
  timeoutMs: number;
}

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

/** One Server-Sent Events message of a live stream. */
export interface LiveEvent {
  /** The JOBS stream sequence (absent on messages that are not stored events). */
  id: string | undefined;
  /** `snapshot`, an event type, `removed` or `error`. */
  event: string | undefined;
  data: string;
}

/** Exit code for an HTTP error status. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 409) return EXIT.REFUSED;
  if (status === 401 || status === 403 || status === 429 || status >= 500) return EXIT.UNAVAILABLE;
  return EXIT.INVALID_INPUT;
}

/** `text` with control characters escaped (`\\u001b`), so a server's answer cannot drive the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The service URL as an error message shows it: without credentials, control characters escaped. */
export function shownUrl(url: string): string {
  let shown = url;
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '') {
      u.username = '';
      u.password = '';
      shown = u.toString();
    }
  } catch { /* not a URL: shown as given, escaped */ }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/.test(shown) ? JSON.stringify(shown) : shown;
}

/** Streams one SSE endpoint's messages (parsed by eventsource-parser) until it ends or `signal` aborts. */
async function* liveEvents(url: string, opts: ClientOptions, afterId: string | undefined, signal: AbortSignal): AsyncGenerator<LiveEvent> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (afterId !== undefined) headers['last-event-id'] = afterId;
  // the connection (not the stream, which lasts as long as the job) is bounded by the request timeout
  const connect = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.any([signal, connect]) });
  } catch (e) {
    if (signal.aborted) return;
    const why = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
    throw new CliError(EXIT.UNAVAILABLE, `cannot follow the job's events at ${shownUrl(opts.url)}: ${why}`, { cause: e });
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel();
    throw new CliError(exitCodeForStatus(res.status), `GET ${new URL(url).pathname}: HTTP ${res.status}`);
  }
  const queue: LiveEvent[] = [];
  const parser = createParser({ onEvent: (m) => queue.push({ id: m.id, event: m.event, data: m.data }) });
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  let ended = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        return;
      }
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
    }
  } catch (e) {
    if (signal.aborted) return;
    throw new CliError(EXIT.UNAVAILABLE, `the job's event stream broke: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    signal.removeEventListener('abort', onAbort);
    // the reader left early (its consumer stopped): close the connection
    if (!ended) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Throws INVALID_INPUT for a service URL that is not http(s) or carries credentials (fetch would refuse it, showing them). */
function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(EXIT.INVALID_INPUT, `--url ${shownUrl(url)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(EXIT.INVALID_INPUT, `--url must be http:// or https://, got ${shownUrl(url)}`);
  if (u.username !== '' || u.password !== '') {
    throw new CliError(EXIT.INVALID_INPUT, `--url must not carry credentials (${shownUrl(url)}): give a token with --token or JETJOBS_TOKEN`);
  }
}

export function createClient(opts: ClientOptions): JetjobsClient {
  checkUrl(opts.url);
  const root = opts.url.replace(/\/+$/, '') + PREFIX;

  async function call<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
    return (await exchange<T>(method, path, body, extraHeaders)).value;
  }

  async function exchange<T>(method: string, path: string, body: unknown, extraHeaders: Record<string, string>): Promise<{ value: T; status: number }> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(root + path, {
        method, headers, signal: AbortSignal.timeout(opts.timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      const why = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      throw new CliError(EXIT.UNAVAILABLE, `cannot reach the service at ${shownUrl(opts.url)}: ${why}`, { cause: e });
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 500);
      try {
        const err = JSON.parse(text) as ErrorBody;
        if (typeof err.code === 'string') detail = `${err.code}: ${err.message}`;
      } catch { /* not JSON: show the text */ }
      const hint = res.status === 401 ? ' (set JETJOBS_TOKEN or --token)' : '';
      throw new CliError(exitCodeForStatus(res.status), `${method} ${path}: HTTP ${res.status} ${printable(detail)}${hint}`);
    }
    if (text === '') return { value: undefined as T, status: res.status };
    try {
      return { value: JSON.parse(text) as T, status: res.status };
    } catch {
      throw new CliError(EXIT.UNAVAILABLE, `${method} ${path}: HTTP ${res.status} with a body that is not JSON (is ${shownUrl(opts.url)} a jetjobs service?): ${JSON.stringify(text.slice(0, 200))}`);
    }
  }

  const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;
  return {
    async submit(body, idempotencyKey) {
      const { value, status } = await exchange<JobView>('POST', '/jobs', body, idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey });
      return { job: value, created: status === 201 };
    },
    async listJobs(query, until) {
      const out: JobView[] = [];
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ ...query, limit: String(PAGE_LIMIT), ...(cursor === null ? {} : { cursor }) });
        const page: JobList = await call<JobList>('GET', `/jobs?${params}`);
        for (const job of page.jobs) {
          out.push(job);
          if (until?.(job)) return out;
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
      return out;
    },
    job: (id) => call<JobView>('GET', jobPath(id)),
    progress: (id) => call<ProgressView>('GET', `${jobPath(id)}/progress`),
    failures: (id) => call<FailuresView>('GET', `${jobPath(id)}/failures`),
    stop: (id, reason) => call<JobView>('POST', `${jobPath(id)}/stop`, { reason }),
    rerun: (id, reason) => call<JobView>('POST', `${jobPath(id)}/rerun`, { reason }),
    events: (id, afterId, signal) => liveEvents(`${root}${jobPath(id)}/events`, opts, afterId, signal),
  };
}
