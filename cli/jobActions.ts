/**
 * What each `jetjobs job …` command does, over the native API: jobs are addressed by
 * (type, path) as in Alluxio (seed 004), the path being the one in the job's spec.
 */
import type { JobView } from './apiTypes.ts';
import { TERMINAL_STATES } from './apiTypes.ts';
import { identityKey, PATH_LABEL, pathHash, pathSelector } from './alluxioIdentity.ts';
import { normalizeNative, toAlluxioPath, toNativePath } from './alluxioPath.ts';
import type { JetjobsClient } from './client.ts';
import { CliError, EXIT, type ExitCode } from './exitCodes.ts';
import { delay, watchChanges } from './liveChanges.ts';
import { formatProgressJson, formatProgressText, toProgressReport, type PathJobType } from './progressReport.ts';

/** `--follow` redraws at most this often, however fast events come. */
export const FOLLOW_MIN_REDRAW_MS = 250;
/** `--follow` redraws at least this often, events or not (a stream that is down, or a quiet job's throughput). */
export const FOLLOW_MAX_QUIET_MS = 5_000;
/** Recorded as the reason of the commands the CLI sends (the job's history shows it). */
const REASON = 'jetjobs job command line';

/** Where the command writes; `isTTY` chooses redrawing over plain lines for `--follow`. */
export interface CliIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
}

export interface PathJobOptions {
  type: PathJobType;
  /** As given: an absolute Alluxio path. */
  path: string;
  dst?: string;
  batchSize?: number;
  verify: boolean;
  action: 'submit' | 'progress' | 'stop';
  format: 'TEXT' | 'JSON';
  verbose: boolean;
  /** `FAILURE`: list the failed files under the report. */
  fileStatus?: 'FAILURE';
  follow: boolean;
}

const TITLE: Readonly<Record<PathJobType, string>> = { load: 'Load', free: 'Free', copy: 'Copy', move: 'Move' };

/** The field of a type's spec that holds the path it is addressed by. */
function pathField(type: PathJobType): 'path' | 'src' {
  return type === 'copy' || type === 'move' ? 'src' : 'path';
}

/**
 * The most recent job of `type` whose spec path (copy/move: `src`) is `nativePath`, active or not,
 * among the jobs that carry the path's identity label (those the Alluxio faces and this command
 * submit): the service reads only that path's jobs.
 */
export async function findJob(client: JetjobsClient, type: PathJobType, nativePath: string): Promise<JobView | null> {
  const field = pathField(type);
  const matches = (job: JobView) => job.type === type && typeof job.spec[field] === 'string' && normalizeNative(job.spec[field]) === nativePath;
  const seen = await client.listJobs({ type, active: 'all', label: pathSelector(nativePath) }, matches);
  const last = seen.at(-1);
  return last !== undefined && matches(last) ? last : null;
}

function notFound(type: PathJobType, path: string): CliError {
  return new CliError(EXIT.NOT_FOUND, `no ${type} job found for path '${path}'`);
}

/** `job load|free|copy|move --path P …`. */
export async function runPathJob(client: JetjobsClient, o: PathJobOptions, io: CliIo): Promise<ExitCode> {
  checkFlags(o);
  const nativePath = toNativePath(o.path);
  if (o.action === 'submit') return submit(client, o, nativePath, io);
  const job = await findJob(client, o.type, nativePath);
  if (job === null) throw notFound(o.type, o.path);
  if (o.action === 'stop') return stop(client, o, job, io);
  return o.follow ? follow(client, o, job, io) : showProgress(client, o, job, io);
}

function checkFlags(o: PathJobOptions): void {
  const bad = (why: string) => new CliError(EXIT.INVALID_INPUT, why);
  const copying = o.type === 'copy' || o.type === 'move';
  if (o.action === 'submit' && copying && o.dst === undefined) throw bad(`job ${o.type} --submit needs --dst`);
  if (o.dst !== undefined && !copying) throw bad(`--dst is for copy and move, not ${o.type}`);
  if (o.type === 'free' && (o.batchSize !== undefined || o.verify)) throw bad('job free takes neither --batch-size nor --verify');
  if (o.action !== 'submit' && (o.dst !== undefined || o.batchSize !== undefined || o.verify)) {
    throw bad('--dst, --batch-size and --verify go with --submit');
  }
  if (o.action !== 'progress' && (o.follow || o.format !== 'TEXT' || o.fileStatus !== undefined || o.verbose)) {
    throw bad('--follow, --format, --file-status and --verbose go with --progress');
  }
}

/** Tries when the job a key names finished between the look and the submit. */
const SUBMIT_ATTEMPTS = 3;

/**
 * Submits the job of (type, path) unless one is active. As the EE facade does, it sends an
 * idempotency key derived from the path and its last job, so two identical submissions at the same
 * moment (two terminals, a script run twice) make one job.
 */
async function submit(client: JetjobsClient, o: PathJobOptions, nativePath: string, io: CliIo): Promise<ExitCode> {
  const body = { type: o.type, spec: specOf(o, nativePath), labels: { [PATH_LABEL]: pathHash(nativePath) } };
  for (let attempt = 0; attempt < SUBMIT_ATTEMPTS; attempt++) {
    const existing = await findJob(client, o.type, nativePath);
    if (existing !== null && !TERMINAL_STATES.has(existing.state)) return alreadyRunning(o, existing, io);
    const { job, created } = await client.submit(body, identityKey(o.type, nativePath, existing?.submitSeq ?? 0));
    if (created) {
      io.stdout.write(`${TITLE[o.type]} '${o.path}' is successfully submitted. JobId: ${job.id}\n`);
      return EXIT.OK;
    }
    // the key's job exists: an identical submission at the same moment made it, or it finished since we looked
    if (!TERMINAL_STATES.has(job.state)) return alreadyRunning(o, job, io);
  }
  throw new CliError(EXIT.REFUSED, `${o.type} jobs of path '${o.path}' keep finishing and starting while this one is submitted; nothing submitted, try again`);
}

function alreadyRunning(o: PathJobOptions, job: JobView, io: CliIo): ExitCode {
  io.stdout.write(`${TITLE[o.type]} already running for path '${o.path}' (job ${job.id}, ${job.state}); nothing submitted\n`);
  return EXIT.OK;
}

function specOf(o: PathJobOptions, nativePath: string): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (o.type === 'copy' || o.type === 'move') {
    spec['src'] = nativePath;
    spec['dst'] = toNativePath(o.dst ?? '');
  } else {
    spec['path'] = nativePath;
  }
  if (o.batchSize !== undefined) spec['batchSize'] = o.batchSize;
  if (o.type === 'load') spec['verify'] = o.verify; // Alluxio verifies only when asked; our load's default is true
  return spec;
}

async function stop(client: JetjobsClient, o: PathJobOptions, job: JobView, io: CliIo): Promise<ExitCode> {
  if (TERMINAL_STATES.has(job.state)) {
    throw new CliError(EXIT.NOT_FOUND, `cannot find a running ${o.type} job for path '${o.path}': it might have been stopped or finished (job ${job.id}, ${job.state})`);
  }
  await client.stop(job.id, REASON);
  io.stdout.write(`${TITLE[o.type]} '${o.path}' is successfully stopped. JobId: ${job.id}\n`);
  return EXIT.OK;
}

/** The report as printed, and the state it shows. */
async function render(client: JetjobsClient, o: PathJobOptions, id: string): Promise<{ text: string; state: string }> {
  const wantFiles = o.verbose || o.fileStatus === 'FAILURE';
  const [job, progress, failures] = await Promise.all([client.job(id), client.progress(id), wantFiles ? client.failures(id) : null]);
  const report = toProgressReport(o.type, o.path, job, progress, failures);
  const text = o.format === 'JSON' ? `${formatProgressJson(report, o.verbose)}\n` : formatProgressText(report);
  return { text, state: report.jobState };
}

function exitFor(state: string): ExitCode {
  return state === 'FAILED' || state === 'STOPPED' ? EXIT.JOB_NOT_SUCCEEDED : EXIT.OK;
}

async function showProgress(client: JetjobsClient, o: PathJobOptions, job: JobView, io: CliIo): Promise<ExitCode> {
  const { text, state } = await render(client, o, job.id);
  io.stdout.write(text);
  return exitFor(state);
}

/**
 * `--follow`: redraw in place on a terminal, else print each report that differs from the last. The
 * job's live event stream says when something changed (a redraw follows, at most every
 * FOLLOW_MIN_REDRAW_MS); without events it redraws every FOLLOW_MAX_QUIET_MS, so a stream that is
 * down (reopened after RECONNECT_MS, resuming after the last event seen) only slows the display.
 */
async function follow(client: JetjobsClient, o: PathJobOptions, job: JobView, io: CliIo): Promise<ExitCode> {
  const stop = new AbortController();
  const changes = watchChanges(client, job.id, stop.signal);
  try {
    let shown: string | null = null;
    for (;;) {
      const drawn = Date.now();
      const { text, state } = await render(client, o, job.id);
      if (text !== shown) {
        const erase = io.stdout.isTTY === true && shown !== null ? `\x1b[${lineCount(shown)}A\x1b[J` : '';
        io.stdout.write(erase + text);
        shown = text;
      }
      if (TERMINAL_STATES.has(state)) return exitFor(state);
      await changes.next(FOLLOW_MAX_QUIET_MS);
      await delay(FOLLOW_MIN_REDRAW_MS - (Date.now() - drawn), stop.signal);
    }
  } finally {
    stop.abort();
  }
}

function lineCount(text: string): number {
  return text.split('\n').length - 1;
}

/** `job list` filters, already checked. */
export interface ListOptions {
  states?: string[];
  type?: PathJobType;
  coordinator?: string;
}

/** `job list`: one tab-separated line per job, newest first, under a header. */
export async function listJobs(client: JetjobsClient, o: ListOptions, io: CliIo): Promise<ExitCode> {
  const query: Record<string, string> = { active: 'all' };
  if (o.states !== undefined) query['state'] = o.states.join(',');
  if (o.type !== undefined) query['type'] = o.type;
  const jobs = (await client.listJobs(query)).filter((j) => o.coordinator === undefined || j.coordinatorId === o.coordinator);
  const lines = ['JOB ID\tTYPE\tPATH\tSTATE\tCOORDINATOR'];
  for (const j of jobs) lines.push([j.id, j.type.toUpperCase(), jobPath(j), j.state, j.coordinatorId ?? '-'].join('\t'));
  io.stdout.write(lines.map((l) => `${l}\n`).join(''));
  return EXIT.OK;
}

/** A job's (type, path) path in Alluxio's namespace; `-` for types without one. */
function jobPath(job: JobView): string {
  const p = job.spec['src'] ?? job.spec['path'];
  return typeof p === 'string' ? toAlluxioPath(p) : '-';
}

/** `job rerun --type T --path P`: a new job like the most recent one of (type, path). */
export async function rerunJob(client: JetjobsClient, type: PathJobType, path: string, io: CliIo): Promise<ExitCode> {
  const job = await findJob(client, type, toNativePath(path));
  if (job === null) throw notFound(type, path);
  const fresh = await client.rerun(job.id, REASON);
  io.stdout.write(`${TITLE[type]} '${path}' is successfully re-run. JobId: ${fresh.id} (re-run of ${job.id})\n`);
  return EXIT.OK;
}
