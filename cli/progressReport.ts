/**
 * The report `job load --progress` prints, after Alluxio's `LoadJob` progress report (layout in
 * docs/compat/alluxio.md, `job` command line): the text block with literal tabs, and the JSON of
 * `--format JSON` with Alluxio's field names. Pure: it formats what the API answered.
 */
import type { FailuresView, JobView, ProgressView } from './apiTypes.ts';
import { getSizeFromBytes, jacksonDouble, javaFixed2 } from './javaFormat.ts';
import { toAlluxioPath } from './alluxioPath.ts';

/** The job types the `job` command addresses by path. */
export type PathJobType = 'load' | 'free' | 'copy' | 'move';
export const PATH_JOB_TYPES: readonly PathJobType[] = ['load', 'free', 'copy', 'move'];

/** Words of the report per type: load's are Alluxio's; the others follow the same pattern. */
export const REPORT_WORDS: Readonly<Record<PathJobType, { verbing: string; bytes: string; failureRate: string }>> = {
  load: { verbing: 'loading', bytes: 'Bytes Loaded', failureRate: 'Block load failure rate' },
  free: { verbing: 'freeing', bytes: 'Bytes Freed', failureRate: 'Free failure rate' },
  copy: { verbing: 'copying', bytes: 'Bytes Copied', failureRate: 'Copy failure rate' },
  move: { verbing: 'moving', bytes: 'Bytes Moved', failureRate: 'Move failure rate' },
};

/** One failed file (or task) and why, for `--verbose` and `--file-status FAILURE`. */
export interface FailedFile {
  file: string;
  reason: string;
}

/** Everything the report shows, in Alluxio's terms. */
export interface ProgressReport {
  type: PathJobType;
  /** The Alluxio path the job was addressed by. */
  path: string;
  jobState: string;
  /** The job's failure: our failure code stands where Alluxio prints the exception class. */
  failure: { code: string; message: string } | null;
  verificationEnabled: boolean;
  processedFileCount: number;
  /** Null until the job is planned. */
  totalFileCount: number | null;
  loadedByteCount: number;
  totalByteCount: number | null;
  /** Bytes per second; null when no time has passed (the line is then left out). */
  throughputBytesPerSec: number | null;
  failurePercentage: number;
  failedFileCount: number;
  /** Listed under the report when asked for (`--verbose`, `--file-status FAILURE`), else null. */
  failedFiles: FailedFile[] | null;
}

/** The first line, printed by Alluxio's CLI before the report. */
export function progressHeading(type: PathJobType, path: string): string {
  return `Progress for ${REPORT_WORDS[type].verbing} path '${path}':`;
}

/** The whole text block, heading included, each line ending in `\n`. */
export function formatProgressText(r: ProgressReport): string {
  const words = REPORT_WORDS[r.type];
  const lines = [
    progressHeading(r.type, r.path),
    `\tSettings:\tbandwidth: unlimited\tverify: ${r.verificationEnabled}`,
    `\tJob State: ${r.jobState}${r.failure === null ? '' : ` (${r.failure.code}: ${r.failure.message})`}`,
    `\tFiles Processed: ${r.processedFileCount}${r.totalFileCount === null ? '' : ` out of ${r.totalFileCount}`}`,
    `\t${words.bytes}: ${getSizeFromBytes(r.loadedByteCount)}${r.totalByteCount === null ? '' : ` out of ${getSizeFromBytes(r.totalByteCount)}`}`,
  ];
  if (r.throughputBytesPerSec !== null) lines.push(`\tThroughput: ${getSizeFromBytes(r.throughputBytesPerSec)}/s`);
  lines.push(`\t${words.failureRate}: ${javaFixed2(r.failurePercentage)}%`, `\tFiles Failed: ${r.failedFileCount}`);
  for (const f of r.failedFiles ?? []) lines.push(`\t\t${f.file}: ${f.reason}`);
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * `--format JSON`: Alluxio's report object as Jackson writes it (field order kept, nulls left
 * out, doubles with a fraction). `mFailedFilesWithReasons` only when the files were asked for.
 */
export function formatProgressJson(r: ProgressReport, verbose: boolean): string {
  const fields: [string, string | null][] = [
    ['mVerbose', JSON.stringify(verbose)],
    ['mJobState', JSON.stringify(r.jobState)],
    ['mVerificationEnabled', JSON.stringify(r.verificationEnabled)],
    ['mProcessedFileCount', String(r.processedFileCount)],
    ['mTotalFileCount', r.totalFileCount === null ? null : String(r.totalFileCount)],
    ['mLoadedByteCount', String(r.loadedByteCount)],
    ['mTotalByteCount', r.totalByteCount === null ? null : String(r.totalByteCount)],
    ['mFailurePercentage', jacksonDouble(r.failurePercentage)],
    ['mFailedFileCount', String(r.failedFileCount)],
    ['mFailedFilesWithReasons', r.failedFiles === null ? null : JSON.stringify(Object.fromEntries(r.failedFiles.map((f) => [f.file, f.reason])))],
  ];
  return `{${fields.filter(([, v]) => v !== null).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** Whether the job's spec asks for verification (load: `verify`, default true; copy/move always verify by size). */
export function verificationEnabled(type: PathJobType, spec: Record<string, unknown>): boolean {
  if (type === 'load') return spec['verify'] !== false;
  return type === 'copy' || type === 'move';
}

/** The report from the job, its progress and (when the files were asked for) its failures. */
export function toProgressReport(type: PathJobType, path: string, job: JobView, progress: ProgressView, failures: FailuresView | null): ProgressReport {
  const planned = progress.tasksTotal > 0;
  const processed = progress.itemsDone + progress.itemsFailed;
  return {
    type,
    path,
    jobState: progress.state,
    failure: progress.state === 'FAILED' ? job.error : null,
    verificationEnabled: verificationEnabled(type, job.spec),
    processedFileCount: processed,
    totalFileCount: planned ? progress.itemsTotal : null,
    loadedByteCount: progress.bytesDone,
    totalByteCount: planned ? progress.bytesTotal : null,
    throughputBytesPerSec: progress.elapsedMs > 0 ? progress.throughputBytesPerSec : null,
    failurePercentage: processed === 0 ? 0 : (progress.itemsFailed / processed) * 100,
    failedFileCount: progress.itemsFailed,
    failedFiles: failures === null ? null : failedFilesOf(failures),
  };
}

/** Failed items under their Alluxio path, then tasks that failed for good. */
function failedFilesOf(failures: FailuresView): FailedFile[] {
  const files = failures.items.map((i) => ({ file: toAlluxioPath(i.item), reason: i.error }));
  const tasks = failures.tasks.map((t) => ({
    file: `task ${t.taskId}`,
    reason: t.error === null ? 'failed' : `${t.error.code}: ${t.error.message}`,
  }));
  return [...files, ...tasks];
}
