/**
 * Shared pieces of the process-level fault tests and the failover bench: reading the whole JOBS
 * stream for the auditor, a seeded PRNG for fault instants, a submit client that retries with the
 * same Idempotency-Key, and per-job views of the stored events.
 */
import type { JobEvent } from '../../actors/events.ts';
import type { LogRecord } from '../../engine/eventlog/eventLog.ts';
import { createJetStreamEventLog } from '../../engine/eventlog/jetStreamEventLog.ts';
import { connectNats } from '../../engine/nats/connection.ts';
import type { JobView } from '../../engine/serviceTypes.ts';
import { parseSubject } from '../../engine/subjects.ts';
import { withTimeout } from '../helpers/processes.ts';
import { withAuth } from '../helpers/auth.ts';
import { sleep } from '../helpers/wait.ts';

/** The native API prefix. */
export const API = '/native/v1';

/** Every record of the JOBS stream as it is now (for the auditor). */
export async function readJobsStream(natsUrl: string, timeoutMs = 30_000): Promise<LogRecord[]> {
  const nc = await connectNats(natsUrl, { name: 'fault-audit' });
  try {
    const out: LogRecord[] = [];
    const follower = createJetStreamEventLog({ nc }).follow(1, (r) => void out.push(r));
    try {
      await withTimeout(follower.caughtUp, timeoutMs, 'reading the JOBS stream');
    } finally {
      await follower.stop();
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** A seeded PRNG (mulberry32): fault instants replay from the printed seed. */
export function seededRandom(seed: number): { next(): number; int(min: number, max: number): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

/** The seed of this run: `FAULT_SEED` if set, else derived from the clock (print it to replay). */
export function runSeed(): number {
  const s = process.env['FAULT_SEED'];
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : Date.now() % 2_147_483_647;
}

/** One HTTP exchange with a deadline; a network error or timeout is `status: 0`. */
export async function request<T>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; body: T | undefined; ms: number }> {
  const t0 = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: withAuth(body === undefined ? headers : { 'content-type': 'application/json', ...headers }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as T) : undefined, ms: performance.now() - t0 };
  } catch {
    return { status: 0, body: undefined, ms: performance.now() - t0 };
  }
}

/** Outcome of {@link submitWithRetry}: the job id and every status seen, in order. */
export interface SubmitOutcome {
  key: string;
  id: string | undefined;
  statuses: number[];
  /** Response time of each attempt, ms. */
  latenciesMs: number[];
}

/**
 * POST /jobs with an Idempotency-Key, retried with the same key on 503, 429 and network errors
 * (bounded by `maxAttempts` and `deadlineMs`). Any other status ends the attempts.
 */
export async function submitWithRetry(base: string, key: string, body: unknown, opts: { maxAttempts?: number; deadlineMs?: number; retryMs?: number } = {}): Promise<SubmitOutcome> {
  const deadline = Date.now() + (opts.deadlineMs ?? 60_000);
  const statuses: number[] = [];
  const latenciesMs: number[] = [];
  for (let i = 0; i < (opts.maxAttempts ?? 300) && Date.now() < deadline; i++) {
    const r = await request<JobView>(base, 'POST', `${API}/jobs`, body, { 'idempotency-key': key });
    statuses.push(r.status);
    latenciesMs.push(r.ms);
    if ((r.status === 201 || r.status === 200) && r.body) return { key, id: r.body.id, statuses, latenciesMs };
    if (r.status !== 0 && r.status !== 503 && r.status !== 429) break;
    await sleep(opts.retryMs ?? 100);
  }
  return { key, id: undefined, statuses, latenciesMs };
}

/** GET /jobs/:id, or undefined when the API does not answer 200. */
export async function getJob(base: string, id: string): Promise<JobView | undefined> {
  const r = await request<JobView>(base, 'GET', `${API}/jobs/${id}`);
  return r.status === 200 ? r.body : undefined;
}

/** One stored event with its record's place in the stream. */
export interface StoredEvent {
  seq: number;
  /** Server receive time, ms since the epoch. */
  timeMs: number;
  subject: 'ev' | 'task';
  event: JobEvent;
}

/** The events of every job, in stream order, keyed by job id. */
export function eventsByJob(records: readonly LogRecord[]): Map<string, StoredEvent[]> {
  const out = new Map<string, StoredEvent[]>();
  for (const r of records) {
    const s = parseSubject(r.subject);
    if (!s || s.kind === 'worker-ev') continue;
    const list = out.get(s.id) ?? [];
    out.set(s.id, list);
    for (const ev of r.events as JobEvent[]) list.push({ seq: r.seq, timeMs: Date.parse(r.time), subject: s.kind === 'job-ev' ? 'ev' : 'task', event: ev });
  }
  return out;
}

/**
 * Problems with how a finished job counted its tasks: every planned task must have succeeded,
 * and progress must count each task id once however often it ran. Returns `[]` when all is well.
 */
export function taskCountProblems(jobId: string, events: readonly StoredEvent[], progress: { tasksTotal: number; tasksSucceeded: number }): string[] {
  const planned = new Set<string>();
  const succeeded = new Set<string>();
  for (const { event: ev } of events) {
    if (ev.type === 'TasksPlanned') for (const t of ev.data.tasks) planned.add(t.taskId);
    if (ev.type === 'TaskSucceeded') succeeded.add(ev.data.taskId);
  }
  const out: string[] = [];
  if (progress.tasksTotal !== planned.size) out.push(`${jobId}: tasksTotal ${progress.tasksTotal}, planned ${planned.size}`);
  if (progress.tasksSucceeded !== succeeded.size) out.push(`${jobId}: tasksSucceeded ${progress.tasksSucceeded}, distinct succeeded task ids ${succeeded.size}`);
  for (const id of planned) if (!succeeded.has(id)) out.push(`${jobId}: task ${id} never succeeded`);
  return out;
}

/** How many TaskSucceeded records each task of a job has (more than 1 = it ran again; counted once). */
export function taskRuns(events: readonly StoredEvent[]): Map<string, number> {
  const runs = new Map<string, number>();
  for (const { event: ev } of events) if (ev.type === 'TaskSucceeded') runs.set(ev.data.taskId, (runs.get(ev.data.taskId) ?? 0) + 1);
  return runs;
}
