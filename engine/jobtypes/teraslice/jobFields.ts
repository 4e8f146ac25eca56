/** Job-level fields of a Teraslice config and their defaults (Teraslice's job-schemas.ts `jobSchema()`). */
import { boolean, duration, integer, oneOf, string, stringArrayOrNull, stringMap, type Fields } from './fields.ts';

/** Most workers a job may ask for (our parallelism cap, MAX_PARALLELISM, is the same). */
export const MAX_WORKERS = 10_000;
/** Most retries: the facade submits max_retries + 1 attempts, and a job allows at most 100. */
export const MAX_RETRIES = 99;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * `workers` defaults to 5 where Teraslice uses min(os.cpus().length, 5): the stored spec must not
 * depend on the machine that normalised it. `apis`, `operations` (and our `recovery`) have their
 * own normalisation (spec.ts).
 */
export const JOB_FIELDS: Fields = {
  name: string({ default: 'Custom Job', maxLength: 1024 }),
  lifecycle: oneOf(['once', 'persistent'] as const, { default: 'once' }),
  workers: integer({ min: 1, max: MAX_WORKERS, default: 5 }),
  slicers: integer({ min: 1, max: MAX_WORKERS, default: 1 }),
  max_retries: integer({ min: 0, max: MAX_RETRIES, default: 3 }),
  probation_window: duration({ default: 300_000, max: 2 ** 31 - 1 }),
  analytics: boolean(true),
  active: boolean(true),
  autorecover: boolean(false),
  assets: stringArrayOrNull(),
  stateful: boolean(false),
  labels: stringMap({ default: null, nonEmpty: false }),
  env_vars: stringMap({ default: {}, nonEmpty: true }),
  log_level: oneOf([null, ...LOG_LEVELS], { default: null }),
};
