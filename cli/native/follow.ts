/**
 * Following a job to its end (`submit`, `progress --follow`, `rerun --follow`): the progress display
 * is redrawn when the job's live events say something changed, at least every FOLLOW_MAX_QUIET_MS,
 * at most every FOLLOW_MIN_REDRAW_MS. A service that is down for a while (a restart) is waited for up
 * to FOLLOW_UNAVAILABLE_MS. Ctrl-C detaches: the job keeps running, the command says so and exits 130.
 */
import type { JobView, ProgressView } from '../apiTypes.ts';
import { jobPath } from '../client.ts';
import { CliError, NATIVE_EXIT } from '../exitCodes.ts';
import type { Http } from '../http.ts';
import { delay, watchChanges } from '../liveChanges.ts';
import type { NativeIo } from './nativeIo.ts';
import { createProgressDisplay, endLine, figuresOf } from './progressDisplay.ts';

export const FOLLOW_MIN_REDRAW_MS = 200;
export const FOLLOW_MAX_QUIET_MS = 5_000;
/** How long a follow waits for a service that does not answer before it gives up (exit 3). */
export const FOLLOW_UNAVAILABLE_MS = 60_000;

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);

/** The exit code of a job's state: 1 for FAILED or STOPPED, else 0. */
export function exitForState(state: string): number {
  return state === 'FAILED' || state === 'STOPPED' ? NATIVE_EXIT.JOB_NOT_SUCCEEDED : NATIVE_EXIT.OK;
}

/** Resolves with `p`, or with `undefined` as soon as `signal` aborts. */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function snapshot(http: Http, id: string): Promise<{ job: JobView; progress: ProgressView }> {
  const [job, progress] = await Promise.all([http.call<JobView>('GET', jobPath(id)), http.call<ProgressView>('GET', `${jobPath(id)}/progress`)]);
  return { job, progress };
}

/** Follows job `id` until it ends (exit 0 or 1) or Ctrl-C (130). */
export async function followJob(http: Http, id: string, io: NativeIo): Promise<number> {
  const stop = new AbortController();
  const offInterrupt = io.onInterrupt?.(() => stop.abort());
  const changes = watchChanges({ events: (jobId, after, signal) => http.events(`${jobPath(jobId)}/events`, after, signal) }, id, stop.signal);
  const display = createProgressDisplay(io.stdout);
  let downSince: number | null = null;
  try {
    for (;;) {
      const drawnAt = Date.now();
      let now: { job: JobView; progress: ProgressView } | undefined;
      try {
        now = await unlessAborted(snapshot(http, id), stop.signal);
        downSince = null;
      } catch (e) {
        // a service restarting: keep the last display and try again, for a while
        if (!(e instanceof CliError) || e.exitCode !== NATIVE_EXIT.UNAVAILABLE) throw e;
        downSince ??= Date.now();
        if (Date.now() - downSince > FOLLOW_UNAVAILABLE_MS) throw e;
      }
      if (stop.signal.aborted) break;
      if (now !== undefined) {
        const f = figuresOf(now.job, now.progress);
        display.update(f);
        if (TERMINAL.has(now.job.state)) {
          display.stop();
          io.stdout.write(endLine(id, f, now.job));
          return exitForState(now.job.state);
        }
      }
      await unlessAborted(changes.next(now === undefined ? 1_000 : FOLLOW_MAX_QUIET_MS), stop.signal);
      await delay(FOLLOW_MIN_REDRAW_MS - (Date.now() - drawnAt), stop.signal);
      if (stop.signal.aborted) break;
    }
    display.stop();
    io.stdout.write('\n');
    io.stderr.write(`detached: job ${id} keeps running (follow it again: jetjobs progress ${id} --follow; stop it: jetjobs stop ${id})\n`);
    return NATIVE_EXIT.DETACHED;
  } finally {
    // an error ends the follow too: a bar left running redraws on a timer that keeps the process
    // alive, and leaves the terminal's line wrapping off (stopping twice is a no-op)
    display.stop();
    offInterrupt?.();
    stop.abort();
  }
}
