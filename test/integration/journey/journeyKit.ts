/**
 * Shared pieces of the end-to-end journeys: users and tokens over real HTTP, job polling, a
 * fetch-based SSE client (EventSource cannot send an Authorization header) and a local webhook
 * receiver. Everything here talks to a `startTestService` through its public API only.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { withAuth } from '../../helpers/auth.ts';
import { http } from '../../helpers/service.ts';
import { createSseParser, type SseMessage } from '../../helpers/sse.ts';
import { waitFor } from '../../helpers/wait.ts';

export const API = '/native/v1';

/** Headers sending `token` instead of the helper's static admin token. */
export const as = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
/** Headers sending no token at all. */
export const anonymous: Record<string, string> = { authorization: '' };

export interface ApiError {
  statusCode: number;
  code: string;
  message: string;
}

/** A password that passes the 12-character minimum, different per user. */
export const passwordOf = (name: string): string => `pw-${name}-correct-horse`;

/** Admin creates a user; throws unless 201. */
export async function createUser(base: string, name: string, role: 'admin' | 'operator' | 'viewer', virtualClusters?: string[]): Promise<void> {
  const r = await http(base, 'POST', `${API}/users`, { name, password: passwordOf(name), role, ...(virtualClusters ? { virtualClusters } : {}) });
  if (r.status !== 201) throw new Error(`create user ${name}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Logs in without a token; returns the whole answer. */
export function loginRaw(base: string, username: string, password: string, ttlMs?: number) {
  return http<{ token: string; tokenType: string; expiresAt: string; user: { name: string; role: string } } & ApiError>(
    base, 'POST', `${API}/auth/login`, { username, password, ...(ttlMs === undefined ? {} : { ttlMs }) }, anonymous,
  );
}

/** Logs in with the user's password; returns the bearer token. */
export async function login(base: string, username: string, password = passwordOf(username), ttlMs?: number): Promise<string> {
  const r = await loginRaw(base, username, password, ttlMs);
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

/** Creates a user and logs it in. */
export async function userToken(base: string, name: string, role: 'admin' | 'operator' | 'viewer', virtualClusters?: string[]): Promise<string> {
  await createUser(base, name, role, virtualClusters);
  return login(base, name);
}

/** Submits a job as `token` (admin when undefined); throws unless 201. */
export async function submit(base: string, body: Record<string, unknown>, token?: string): Promise<JobView> {
  const r = await http<JobView>(base, 'POST', `${API}/jobs`, body, token ? as(token) : {});
  if (r.status !== 201) throw new Error(`submit: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** GET /jobs/:id as admin (or `token`); throws unless 200. */
export async function getJob(base: string, id: string, token?: string): Promise<JobView> {
  const r = await http<JobView>(base, 'GET', `${API}/jobs/${id}`, undefined, token ? as(token) : {});
  if (r.status !== 200) throw new Error(`get ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Waits until the job (read as admin) satisfies `pred`; returns that view. */
export function waitJob(base: string, id: string, what: string, pred: (j: JobView) => boolean, timeoutMs = 20_000): Promise<JobView> {
  return waitFor(async () => {
    const j = await getJob(base, id);
    return pred(j) ? j : undefined;
  }, { what: `job ${id} ${what}`, timeoutMs, intervalMs: 50, retryErrors: true });
}

/** Waits until the job is in one of `states`. */
export function waitState(base: string, id: string, states: string | string[], timeoutMs = 20_000): Promise<JobView> {
  const want = Array.isArray(states) ? states : [states];
  return waitJob(base, id, `in ${want.join('|')}`, (j) => want.includes(j.state), timeoutMs);
}

export interface HistoryEvent {
  seq: number;
  time: string;
  subject: 'ev' | 'task';
  type: string;
  data: Record<string, unknown>;
  meta: { actor?: string; reason?: string } & Record<string, unknown>;
}

/** GET /jobs/:id/history as admin. */
export async function history(base: string, id: string): Promise<HistoryEvent[]> {
  const r = await http<{ events: HistoryEvent[] }>(base, 'GET', `${API}/jobs/${id}/history`);
  if (r.status !== 200) throw new Error(`history ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.events;
}

// ---------------------------------------------------------------- SSE

export type { SseMessage } from '../../helpers/sse.ts';

/** A parsed live message (`data:` of a snapshot or an event). */
export interface LiveData {
  /** `removed` carries only `jobId` (it is not a stored record). */
  kind: 'snapshot' | 'event' | 'removed';
  seq: number;
  jobId?: string;
  subject?: string;
  type?: string;
  meta?: Record<string, unknown>;
  jobs?: JobView[];
  job?: JobView | null;
}

export interface SseStream {
  status: number;
  messages: SseMessage[];
  /** The `data` of every message with an `event:` line, parsed. */
  data(): LiveData[];
  /** The last `id:` received (the resume point). */
  lastId(): string | undefined;
  ended(): boolean;
  /** Waits until `pred` holds over the parsed messages. */
  until(what: string, pred: (d: LiveData[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens an SSE stream with fetch (so it can send the bearer token; admin when undefined) and parses it as it arrives. */
export async function openSse(base: string, path: string, token: string | undefined, extra: Record<string, string> = {}): Promise<SseStream> {
  const ac = new AbortController();
  const res = await fetch(base + path, {
    headers: withAuth({ accept: 'text/event-stream', ...(token ? as(token) : {}), ...extra }),
    signal: ac.signal,
  });
  const messages: SseMessage[] = [];
  let ended = false;
  if (res.ok && res.body) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      const parse = createSseParser((m) => {
        if (m.id !== undefined || m.event !== undefined) messages.push(m);
      });
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parse(decoder.decode(value, { stream: true }));
        }
      } catch {
        // aborted by close()
      } finally {
        ended = true;
      }
    })();
  } else {
    ended = true;
  }
  const data = (): LiveData[] => messages.filter((m) => m.event !== undefined && m.data !== undefined && m.event !== 'error').map((m) => JSON.parse(m.data!) as LiveData);
  return {
    status: res.status,
    messages,
    data,
    lastId: () => [...messages].reverse().find((m) => m.id !== undefined)?.id,
    ended: () => ended,
    until: (what, pred, timeoutMs = 20_000) => waitFor(() => (pred(data()) ? true : undefined), { what: `stream: ${what}`, timeoutMs, intervalMs: 50, retryErrors: true }).then(() => undefined),
    close: () => ac.abort(),
  };
}

export const TERMINAL = ['SUCCEEDED', 'FAILED', 'STOPPED'];

/** True when some event of the stream left job `id` in a terminal state. */
export const sawTerminal = (id: string) => (d: LiveData[]) =>
  d.some((m) => m.kind === 'event' && m.jobId === id && m.job != null && TERMINAL.includes(m.job.state));

// ---------------------------------------------------------------- webhook receiver

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  status: number;
  body: { deliveryId: string; event: string; seq: number; job: JobView };
}

export interface Receiver {
  url: string;
  received: ReceivedHook[];
  /** The next `n` requests to `path` (any query string) answer 500. */
  failNext(path: string, n: number): void;
  close(): Promise<void>;
}

/** A local HTTP receiver on 127.0.0.1 (random port) that records every POST. */
export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedHook[] = [];
  const failures = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const bare = path.split('?')[0]!;
      const left = failures.get(bare) ?? 0;
      const status = left > 0 ? 500 : 204;
      if (left > 0) failures.set(bare, left - 1);
      const raw = Buffer.concat(chunks);
      let body: ReceivedHook['body'];
      try {
        body = JSON.parse(raw.toString('utf8')) as ReceivedHook['body'];
      } catch {
        body = { deliveryId: '', event: '', seq: 0, job: {} as JobView };
      }
      received.push({ path, headers: req.headers, raw, status, body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    failNext: (path, n) => void failures.set(path, n),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
