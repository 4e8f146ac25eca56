/**
 * The EE coordinator's load (clients.md §4.3): its request body → native `load` submissions, and a
 * native load job → EE's progress JSON. What we cannot know is null or 0 (docs/compat/alluxio.md,
 * "EE coordinator REST").
 */
import { AppError, type JobView, type SubmitRequest } from '../../../engine/index.ts';
import { JOB_NAME_PATTERN } from '../../schemas/common.ts';
import { identityPath, jobAlluxioPath } from './jobIdentity.ts';

/** Paths one request may load (one native job each). */
export const MAX_PATHS = 100;
const NAME_RE = new RegExp(JOB_NAME_PATTERN);

/** One native job of a load request, with the identity path it is found by. */
export interface LoadSubmission {
  path: string;
  request: SubmitRequest;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function optional<T>(o: Record<string, unknown>, key: string, check: (v: unknown) => v is T, what: string): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw new AppError('VALIDATION_FAILED', `options.${key} must be ${what}`);
  return v;
}
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * What the engine refuses in a path by its name alone (engine/jobtypes/paths.ts `lexicalInside`):
 * leaving the root, control characters, backslashes. `path` is an identity path (normalised, relative).
 */
function refusedByName(field: string, path: string): void {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  const why = path === '..' || path.startsWith('../') ? 'leaves the files root' : /[\u0000-\u001f\u007f]/.test(path) ? 'contains control characters' : path.includes('\\') ? 'contains a backslash' : undefined;
  if (why !== undefined) throw new AppError('PATH_OUTSIDE_ROOT', `${field} ${why}`);
}

/** `POST /api/v1/load`'s body → one submission per distinct path. */
export function loadSubmissions(body: unknown): LoadSubmission[] {
  if (!isObject(body)) throw new AppError('VALIDATION_FAILED', 'the body must be a JSON object with "paths" and "options"');
  if (body['index'] !== undefined && body['index'] !== null) throw new AppError('VALIDATION_FAILED', '"index" (loading the paths an index file lists) is not supported: send "paths"');
  const paths = body['paths'];
  if (!Array.isArray(paths) || paths.length === 0) throw new AppError('VALIDATION_FAILED', '"paths" is required: a non-empty list of absolute Alluxio paths');
  if (paths.length > MAX_PATHS) throw new AppError('VALIDATION_FAILED', `"paths" lists more than ${MAX_PATHS} paths`);
  const alias = body['alias'];
  if (alias !== undefined && alias !== null && (typeof alias !== 'string' || alias.length > 200 || !NAME_RE.test(alias))) {
    throw new AppError('VALIDATION_FAILED', '"alias" must be 1 to 200 of A-Z a-z 0-9 _ . : / @ + - and inner spaces');
  }
  const options = body['options'] ?? {};
  if (!isObject(options)) throw new AppError('VALIDATION_FAILED', '"options" must be an object');
  const batchSize = optional(options, 'batchSize', isInt, 'an integer');
  const verify = optional(options, 'verify', isBool, 'true or false');
  // accepted and without effect here (docs/compat/alluxio.md): one cache copy, every file (re)loaded
  optional(options, 'replicas', isInt, 'an integer');
  optional(options, 'skipIfExists', isBool, 'true or false');
  optional(options, 'loadPolicy', isString, 'a string');
  if (optional(options, 'loadMetadataOnly', isBool, 'true or false') === true) throw new AppError('VALIDATION_FAILED', 'options.loadMetadataOnly is not supported: a load here copies the data');
  const filter = optional(options, 'fileFilterRegex', isString, 'a string');
  if (filter !== undefined && filter !== '') throw new AppError('VALIDATION_FAILED', 'options.fileFilterRegex is not supported: a load here takes every file under its path');

  const seen = new Set<string>();
  const out: LoadSubmission[] = [];
  for (const [i, p] of paths.entries()) {
    const path = identityPath(`paths[${i}]`, p);
    // every path checked by name before any is submitted: a request refused for its third path must
    // not have written jobs for the first two (what needs the file system, symlinks, the engine checks)
    refusedByName(`paths[${i}]`, path);
    if (seen.has(path)) continue;
    seen.add(path);
    const spec: Record<string, unknown> = { path, ...(batchSize !== undefined ? { batchSize } : {}), ...(verify !== undefined ? { verify } : {}) };
    out.push({ path, request: { type: 'load', name: typeof alias === 'string' ? alias : 'Load', spec } });
  }
  return out;
}

/** EE's load progress (`GET /api/v1/load?id=`). */
export interface LoadProgress {
  id: string;
  startTime: number;
  state: 'WAITING' | 'RUNNING' | 'VERIFYING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';
  runningState: string | null;
  errorMessage: string | null;
  failedFileListPath: string | null;
  paths: string[];
  index: string | null;
  skipIfExists: boolean;
  loadMetadataOnly: boolean;
  verify: boolean;
  bandwidth: number | null;
  timeElapsedMilliseconds: number;
  loadedBytes: number;
  skippedBytes: number;
  totalBytes: number;
  loadedNonEmptyFiles: number;
  failedFiles: number;
  scannedFiles: number;
  quota: { totalBytes: number | null; remaining: number | null };
  quotaCheckError: string | null;
}

const ms = (iso: string | null) => (iso === null ? undefined : Date.parse(iso));

/** Our states → EE's: the same names, PAUSED (which EE does not have) is RUNNING with runningState PAUSED. */
export function eeState(state: JobView['state']): { state: LoadProgress['state']; runningState: string | null } {
  return state === 'PAUSED' ? { state: 'RUNNING', runningState: 'PAUSED' } : { state, runningState: null };
}

/** A native load job as EE's progress JSON; `nowMs` for the elapsed time of an unfinished job. */
export function toLoadProgress(job: JobView, nowMs: number): LoadProgress {
  const started = ms(job.startedAt);
  const p = job.progress;
  return {
    id: job.id,
    startTime: started ?? ms(job.submittedAt) ?? 0,
    ...eeState(job.state),
    errorMessage: job.error?.message ?? null,
    failedFileListPath: null,
    paths: [jobAlluxioPath(job)],
    index: null,
    skipIfExists: false,
    loadMetadataOnly: false,
    verify: job.spec['verify'] !== false,
    bandwidth: null,
    timeElapsedMilliseconds: started === undefined ? 0 : Math.max(0, (ms(job.finishedAt) ?? nowMs) - started),
    loadedBytes: p.bytesDone,
    skippedBytes: 0,
    totalBytes: p.bytesTotal,
    loadedNonEmptyFiles: p.itemsDone,
    failedFiles: p.itemsFailed,
    scannedFiles: p.itemsTotal,
    quota: { totalBytes: null, remaining: null },
    quotaCheckError: null,
  };
}
