/**
 * The command line's transport to the native API (docs/api.md): JSON requests, Server-Sent Events
 * and NDJSON streams under `/native/v1`, with a bearer token. Every failure becomes a
 * {@link CliError} whose exit code comes from the caller's table (the `job` commands' or the
 * native commands', exitCodes.ts). Server text that reaches the terminal has its control
 * characters escaped ({@link printable}).
 */
import type { ErrorBody } from './apiTypes.ts';
import { createParser } from 'eventsource-parser';
import { ALLUXIO_STATUS_EXITS, CliError, exitCodeForStatus, type StatusExits } from './exitCodes.ts';

export const API_PREFIX = '/native/v1';

export interface HttpOptions {
  /** Service root, e.g. `http://127.0.0.1:8080` (without `/native/v1`). */
  url: string;
  /** Bearer token; none sends no `authorization` header. */
  token: string | undefined;
  /** Per request (a stream: until its answer starts). */
  timeoutMs: number;
  /** Exit codes of failures. @defaultValue the `job` commands' table (ALLUXIO_STATUS_EXITS) */
  exits?: StatusExits;
  /** Said after a 401 (how to get a token). @defaultValue `(set JETJOBS_TOKEN or --token)` */
  unauthenticatedHint?: string;
}

/** One Server-Sent Events message of a live stream. */
export interface LiveEvent {
  /** The JOBS stream sequence (absent on messages that are not stored events, and on all but a record's last event). */
  id: string | undefined;
  /** `snapshot`, an event type, `removed` or `error`. */
  event: string | undefined;
  data: string;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Http {
  readonly url: string;
  /** The answer's JSON (undefined for an empty body) and status; a non-2xx is a CliError. */
  exchange<T>(method: string, path: string, o?: RequestOptions): Promise<{ value: T; status: number }>;
  call<T>(method: string, path: string, o?: RequestOptions): Promise<T>;
  /** The answer's body as text (a task's output), with its headers. */
  text(path: string, headers?: Record<string, string>): Promise<{ text: string; headers: Headers }>;
  /** The SSE messages of `path` until the stream ends or `signal` aborts; `afterId` resumes after that id. */
  events(path: string, afterId: string | undefined, signal: AbortSignal): AsyncIterable<LiveEvent>;
  /** The NDJSON lines of `path` (parsed) until the answer ends or `signal` aborts. */
  lines(path: string, signal: AbortSignal): AsyncIterable<unknown>;
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

/** Throws INVALID_INPUT for a service URL that is not http(s) or carries credentials (fetch would refuse it, showing them). */
function checkUrl(url: string, invalid: number): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(invalid, `--url ${shownUrl(url)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(invalid, `--url must be http:// or https://, got ${shownUrl(url)}`);
  if (u.username !== '' || u.password !== '') {
    throw new CliError(invalid, `--url must not carry credentials (${shownUrl(url)}): give a token with --token or JETJOBS_TOKEN`);
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
}

export function createHttp(opts: HttpOptions): Http {
  const exits = opts.exits ?? ALLUXIO_STATUS_EXITS;
  checkUrl(opts.url, exits.invalidInput);
  const root = opts.url.replace(/\/+$/, '') + API_PREFIX;
  const hint = opts.unauthenticatedHint ?? '(set JETJOBS_TOKEN or --token)';

  function headersOf(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { ...extra };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    return headers;
  }

  async function send(method: string, path: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    try {
      // No redirect is followed: fetch would resend a body (login's password) to wherever a 307/308
      // points, another host included. The API never redirects; a 3xx is an error (failure()).
      return await fetch(root + path, { ...init, method, signal, redirect: 'manual' });
    } catch (e) {
      throw new CliError(exits.unavailable, `cannot reach the service at ${shownUrl(opts.url)}: ${reason(e)}`, { cause: e });
    }
  }

  async function failure(method: string, path: string, res: Response): Promise<CliError> {
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      const to = res.headers.get('location');
      return new CliError(exits.invalidInput, `${method} ${path.split('?')[0]}: HTTP ${res.status}, a redirect${to === null ? '' : ` to ${shownUrl(to)}`}, which the command line does not follow (it would send the token or password there): give the service's own address with --url`);
    }
    const text = await res.text();
    let detail = text.slice(0, 500);
    try {
      const err = JSON.parse(text) as ErrorBody;
      if (typeof err.code === 'string') detail = `${err.code}: ${err.message}`;
    } catch { /* not JSON: show the text */ }
    const more = res.status === 401 ? ` ${hint}` : '';
    return new CliError(exitCodeForStatus(res.status, exits), `${method} ${path.split('?')[0]}: HTTP ${res.status} ${printable(detail)}${more}`);
  }

  async function exchange<T>(method: string, path: string, o: RequestOptions = {}): Promise<{ value: T; status: number }> {
    const headers = headersOf(o.headers);
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await send(method, path, { headers, ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }) }, AbortSignal.timeout(opts.timeoutMs));
    if (!res.ok) throw await failure(method, path, res);
    const text = await res.text();
    if (text === '') return { value: undefined as T, status: res.status };
    try {
      return { value: JSON.parse(text) as T, status: res.status };
    } catch {
      throw new CliError(exits.unavailable, `${method} ${path}: HTTP ${res.status} with a body that is not JSON (is ${shownUrl(opts.url)} a jetjobs service?): ${JSON.stringify(text.slice(0, 200))}`);
    }
  }

  /** Opens a streaming answer: bounded by the request timeout until it starts, then by `signal` only. */
  async function open(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response | null> {
    let res: Response;
    try {
      res = await send('GET', path, { headers: headersOf(headers) }, AbortSignal.any([signal, AbortSignal.timeout(opts.timeoutMs)]));
    } catch (e) {
      if (signal.aborted) return null;
      throw e;
    }
    if (!res.ok || res.body === null) throw await failure('GET', path, res);
    return res;
  }

  /** The body's text chunks until it ends or `signal` aborts; a break is UNAVAILABLE. */
  async function* chunks(res: Response, signal: AbortSignal, what: string): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    const reader = res.body!.getReader();
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
        yield decoder.decode(value, { stream: true });
      }
    } catch (e) {
      if (signal.aborted) return;
      throw new CliError(exits.unavailable, `${what} broke: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      signal.removeEventListener('abort', onAbort);
      // the reader left early (its consumer stopped): close the connection
      if (!ended) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  }

  return {
    url: opts.url,
    exchange,
    call: async (method, path, o) => (await exchange<never>(method, path, o)).value,
    async text(path, headers = {}) {
      const res = await send('GET', path, { headers: headersOf(headers) }, AbortSignal.timeout(opts.timeoutMs));
      if (!res.ok) throw await failure('GET', path, res);
      return { text: await res.text(), headers: res.headers };
    },
    async *events(path, afterId, signal) {
      const res = await open(path, { accept: 'text/event-stream', ...(afterId === undefined ? {} : { 'last-event-id': afterId }) }, signal);
      if (res === null) return;
      const queue: LiveEvent[] = [];
      const parser = createParser({ onEvent: (m) => queue.push({ id: m.id, event: m.event, data: m.data }) });
      for await (const text of chunks(res, signal, 'the event stream')) {
        parser.feed(text);
        while (queue.length > 0) yield queue.shift()!;
      }
    },
    async *lines(path, signal) {
      const res = await open(path, { accept: 'application/x-ndjson' }, signal);
      if (res === null) return;
      let buffered = '';
      for await (const text of chunks(res, signal, 'the output stream')) {
        buffered += text;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() !== '') yield JSON.parse(line) as unknown;
        }
      }
    },
  };
}
