/**
 * A job's progress as `progress --follow` and `submit` show it: done/total, bytes, throughput, ETA
 * and failures. On a terminal a live bar drawn by cli-progress (docs/decisions/0015); elsewhere
 * (a pipe, a file, CI) plain lines, one per change and at most one every PLAIN_LINE_MIN_MS.
 */
import { SingleBar } from 'cli-progress';
import type { JobView, ProgressView } from '../apiTypes.ts';
import { printable } from '../http.ts';
import { formatBytes, formatDuration } from './output.ts';

/** Plain lines come at most this often (a state change or the end is printed at once). */
export const PLAIN_LINE_MIN_MS = 1_000;

/** Types whose items are files (docs/api.md, job types). */
const FILE_TYPES = new Set(['load', 'free', 'copy', 'move', 'persist']);

/** What a progress line shows, from the job and its progress (pure). */
export interface Figures {
  state: string;
  unit: 'files' | 'items' | 'tasks';
  done: number;
  total: number;
  failed: number;
  bytesDone: number;
  bytesTotal: number;
  throughputBytesPerSec: number;
  elapsedMs: number;
  /** Expected time left; null when unknown (nothing done yet, or finished). */
  etaMs: number | null;
}

export function figuresOf(job: JobView, p: ProgressView): Figures {
  const byItems = FILE_TYPES.has(job.type) || p.itemsTotal > 0;
  const tasksDone = (job.progress.tasksSucceeded ?? 0) + (job.progress.tasksFailed ?? 0);
  const done = byItems ? p.itemsDone + p.itemsFailed : tasksDone;
  const total = byItems ? p.itemsTotal : p.tasksTotal;
  const failed = byItems ? p.itemsFailed + (job.progress.tasksFailed ?? 0) : job.progress.tasksFailed ?? 0;
  let etaMs: number | null = null;
  if (p.state === 'RUNNING' && total > 0) {
    if (p.bytesTotal > 0 && p.throughputBytesPerSec > 0) etaMs = ((p.bytesTotal - p.bytesDone) / p.throughputBytesPerSec) * 1000;
    else if (done > 0 && p.elapsedMs > 0) etaMs = ((total - done) * p.elapsedMs) / done;
  }
  return {
    state: p.state, unit: byItems ? (FILE_TYPES.has(job.type) ? 'files' : 'items') : 'tasks', done, total, failed,
    bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, throughputBytesPerSec: p.throughputBytesPerSec, elapsedMs: p.elapsedMs, etaMs,
  };
}

function percent(f: Figures): string {
  return f.total > 0 ? `${Math.floor((100 * f.done) / f.total)}%` : '-';
}

function bytesPart(f: Figures): string {
  return f.bytesTotal > 0 ? `${formatBytes(f.bytesDone)}/${formatBytes(f.bytesTotal)}` : '';
}

/** The fields after the bar: `412/1000 files  40.2 KiB/97.7 KiB  3.1 MiB/s  ETA 12s  0 failed`. */
export function detailText(f: Figures): string {
  return [
    `${f.done}/${f.total} ${f.unit}`,
    bytesPart(f),
    f.bytesTotal > 0 ? `${formatBytes(f.throughputBytesPerSec)}/s` : '',
    f.etaMs === null ? '' : `ETA ${formatDuration(f.etaMs)}`,
    `${f.failed} failed`,
  ].filter((s) => s !== '').join('  ');
}

/** One plain line: `RUNNING  41%  412/1000 files  …`. */
export function plainLine(f: Figures): string {
  return `${f.state.padEnd(9)} ${percent(f).padStart(4)}  ${detailText(f)}\n`;
}

/** The line after the end: `SUCCEEDED in 3.2s: 1000/1000 files  97.7 KiB/97.7 KiB  0 failed` (and the error). */
export function endLine(id: string, f: Figures, job: JobView): string {
  const error = job.error === null ? '' : `\n  ${job.error.code}: ${printable(job.error.message)}`;
  return `job ${id} ${f.state} after ${formatDuration(f.elapsedMs)}: ${f.done}/${f.total} ${f.unit}${f.bytesTotal > 0 ? `, ${formatBytes(f.bytesDone)}` : ''}, ${f.failed} failed${error}\n`;
}

/** Where progress goes: a terminal (with what cli-progress needs of one) or a plain stream. */
export interface ProgressOut {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface ProgressDisplay {
  update(f: Figures): void;
  /** Leaves the bar (or the last line) as it is; nothing is drawn after. */
  stop(): void;
}

/** A live bar on a terminal, plain lines elsewhere. `now` is injected for the plain lines' rate. */
export function createProgressDisplay(out: ProgressOut, now: () => number = Date.now): ProgressDisplay {
  return out.isTTY === true ? createBar(out as NodeJS.WritableStream) : createPlainLines(out, now);
}

function createBar(stream: NodeJS.WritableStream): ProgressDisplay {
  const bar = new SingleBar({
    stream,
    format: '{state} {bar} {percent} {detail}',
    barsize: 30,
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    hideCursor: false, // nothing to restore if the process is interrupted
    gracefulExit: false, // SIGINT is ours: detach (exit 130)
    linewrap: false,
    fps: 5,
  });
  let started = false;
  return {
    update(f) {
      const payload = { state: f.state.padEnd(9), percent: percent(f).padStart(4), detail: detailText(f) };
      // cli-progress needs a total above 0; before the plan the bar stays empty
      const total = Math.max(f.total, 1);
      if (!started) {
        bar.start(total, f.done, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(f.done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function createPlainLines(out: ProgressOut, now: () => number): ProgressDisplay {
  let shown = '';
  let shownState = '';
  let shownAt = -Infinity;
  let pending: Figures | null = null;
  const print = (f: Figures) => {
    const line = plainLine(f);
    if (line === shown) return;
    out.write(line);
    shown = line;
    shownState = f.state;
    shownAt = now();
    pending = null;
  };
  return {
    update(f) {
      if (f.state !== shownState || now() - shownAt >= PLAIN_LINE_MIN_MS) print(f);
      else pending = f;
    },
    stop() {
      if (pending !== null) print(pending);
    },
  };
}
