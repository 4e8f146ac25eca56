/**
 * Alluxio's JobConfig (the body of `POST /api/v1/master/job/run`) → a native submission. `@type`
 * comes in three spellings (clients.md §4.1): the class name of 2.2+ (`alluxio.job.plan.load.LoadConfig`),
 * of 2.0/2.1 (`alluxio.job.load.LoadConfig`) and the bare names of one enterprise branch (`Load`,
 * `Move`, `Persist`). Unknown properties are ignored, as Jackson does for these classes.
 * PersistConfig (write a cached file to the under storage) is a `persist` job: the cache to the
 * files root, `overwrite` false unless given, as in Alluxio.
 * Alluxio paths are absolute in Alluxio's namespace: `/` is our files root.
 */
import { AppError, type SubmitRequest } from '../../../engine/index.ts';

export type AlluxioPlan = 'Load' | 'Migrate' | 'Persist';

const PLAN_BY_TYPE: Readonly<Record<string, AlluxioPlan>> = {
  'alluxio.job.plan.load.LoadConfig': 'Load',
  'alluxio.job.plan.migrate.MigrateConfig': 'Migrate',
  'alluxio.job.plan.persist.PersistConfig': 'Persist',
  'alluxio.job.load.LoadConfig': 'Load',
  'alluxio.job.migrate.MigrateConfig': 'Migrate',
  'alluxio.job.persist.PersistConfig': 'Persist',
  Load: 'Load',
  Migrate: 'Migrate',
  Move: 'Migrate',
  Persist: 'Persist',
};

/** The longest Alluxio path accepted (the native schema's limit applies after translation too). */
const MAX_PATH_CHARS = 4096;

/** `/a/b` (or `alluxio://host:port/a/b`) → `a/b` under our files root; `/` → `.`. */
export function nativePath(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new AppError('VALIDATION_FAILED', `${field} is required (an absolute Alluxio path)`);
  if (value.length > MAX_PATH_CHARS) throw new AppError('VALIDATION_FAILED', `${field} is longer than ${MAX_PATH_CHARS} characters`);
  const withoutScheme = value.replace(/^alluxio:\/\/[^/]*/, '');
  if (!withoutScheme.startsWith('/')) throw new AppError('VALIDATION_FAILED', `${field} must be an absolute path, got ${JSON.stringify(value.slice(0, 64))}`);
  const rel = withoutScheme.replace(/^\/+/, '');
  return rel === '' ? '.' : rel;
}

/** `a/b` → `/a/b`: a native path shown in Alluxio's namespace. */
export function alluxioPath(native: unknown): string {
  if (typeof native !== 'string' || native === '.' || native === '') return '/';
  return '/' + native.replace(/^\.\//, '');
}

/** What `run` submits for a JobConfig, and the plan name JobInfo shows. */
export function submissionOf(body: unknown): { plan: AlluxioPlan; request: SubmitRequest } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AppError('VALIDATION_FAILED', 'the body must be a JobConfig object with "@type"');
  const cfg = body as Record<string, unknown>;
  const type = cfg['@type'];
  if (typeof type !== 'string') throw new AppError('VALIDATION_FAILED', 'the JobConfig has no "@type"');
  const plan = Object.hasOwn(PLAN_BY_TYPE, type) ? PLAN_BY_TYPE[type] : undefined;
  if (plan === undefined) throw new AppError('VALIDATION_FAILED', `unknown job type ${JSON.stringify(type.slice(0, 128))} (LoadConfig, MigrateConfig or PersistConfig)`);
  switch (plan) {
    case 'Load':
      return { plan, request: { type: 'load', name: 'Load', spec: { path: nativePath('filePath', cfg['filePath']) } } };
    case 'Migrate': {
      const spec: Record<string, unknown> = { src: nativePath('source', cfg['source']), dst: nativePath('destination', cfg['destination']) };
      if (cfg['overwrite'] !== undefined) {
        if (typeof cfg['overwrite'] !== 'boolean') throw new AppError('VALIDATION_FAILED', 'overwrite must be true or false');
        spec['overwrite'] = cfg['overwrite'];
      }
      if (cfg['deleteSource'] !== undefined && typeof cfg['deleteSource'] !== 'boolean') throw new AppError('VALIDATION_FAILED', 'deleteSource must be true or false');
      // the bare `Move` of the enterprise branch always deletes the source
      const move = cfg['deleteSource'] === true || type === 'Move';
      return { plan, request: { type: move ? 'move' : 'copy', name: 'Migrate', spec } };
    }
    case 'Persist': {
      // `mountId` and `ufsPath` say where in Alluxio's under storage the file goes; ours is the
      // files root, always at `filePath`, so they are checked for their type (as Jackson would) and ignored.
      if (cfg['ufsPath'] !== undefined && cfg['ufsPath'] !== null && typeof cfg['ufsPath'] !== 'string') throw new AppError('VALIDATION_FAILED', 'ufsPath must be a string');
      if (cfg['mountId'] !== undefined && cfg['mountId'] !== null && typeof cfg['mountId'] !== 'number') throw new AppError('VALIDATION_FAILED', 'mountId must be a number');
      const spec: Record<string, unknown> = { path: nativePath('filePath', cfg['filePath']) };
      if (cfg['overwrite'] !== undefined) {
        if (typeof cfg['overwrite'] !== 'boolean') throw new AppError('VALIDATION_FAILED', 'overwrite must be true or false');
        spec['overwrite'] = cfg['overwrite'];
      }
      return { plan, request: { type: 'persist', name: 'Persist', spec } };
    }
  }
}

/** The plan name of a native job (JobInfo `name`). */
export function planName(type: string): string {
  if (type === 'load') return 'Load';
  if (type === 'persist') return 'Persist';
  if (type === 'copy' || type === 'move') return 'Migrate';
  return type.charAt(0).toUpperCase() + type.slice(1);
}
