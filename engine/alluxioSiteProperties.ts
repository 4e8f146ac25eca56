/**
 * Alluxio's configuration keys (seed 004, "Configuration and Tuning") read from an
 * `alluxio-site.properties` file, as aliases of our settings (docs/compat/alluxio.md, Configuration).
 * The file is Java `.properties` (parsed by `properties-file`, docs/decisions/0007); values use
 * Alluxio's duration and size syntax (its `FormatUtils`). Strict: an unknown key or a malformed
 * value is a ConfigError naming the file and line, since a typo must not be silently ignored.
 */
import { readFileSync } from 'node:fs';
import { Properties } from 'properties-file/parser';
import { checkSetting, ConfigError, resolveConfig, type Config } from './config.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_UNITS: Readonly<Record<string, number>> = {
  '': 1, ms: 1, millisecond: 1,
  s: SECOND, sec: SECOND, second: SECOND,
  m: MINUTE, min: MINUTE, minute: MINUTE,
  h: HOUR, hr: HOUR, hour: HOUR,
  d: DAY, day: DAY,
};

const KIB = 1024;
/** `''` and `b`: bytes; `k`, `kb`, `ki`, `kib`: KiB; and so on up to `p…`: PiB. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  ...Object.fromEntries(['k', 'm', 'g', 't', 'p'].flatMap((p, i) => [p, `${p}b`, `${p}i`, `${p}ib`].map((u) => [u, KIB ** (i + 1)]))),
};

/** Alluxio's rounding guard: `(long) (x + 0.0001)`. */
const ALPHA = 0.0001;

/**
 * An Alluxio duration in ms: an integer and an optional unit, case-insensitive (`500`, `500ms`,
 * `15s`, `1min`, `1H`, `7d`; a bare number is ms). Alluxio also takes a negative number; our
 * settings take none.
 */
export function parseAlluxioDuration(raw: string): number {
  const m = /^(\d+)([a-z]*)$/i.exec(raw);
  const unit = m === null ? undefined : TIME_UNITS[m[2]!.toLowerCase()];
  if (m === null || unit === undefined) throw new ConfigError(`${JSON.stringify(raw)} is not a duration (like 500ms, 15s, 1min, 1h, 7d)`);
  return checkSafe(Number(m[1]) * unit, raw);
}

/**
 * An Alluxio size in bytes: a decimal number and an optional unit, case-insensitive, every unit
 * a power of 1024 (`256MiB`, `64MB`, `64m`, `1.5GB`, `1024`; a bare number is bytes).
 */
export function parseAlluxioSize(raw: string): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([a-z]*)$/i.exec(raw);
  const unit = m === null ? undefined : SIZE_UNITS[m[2]!.toLowerCase()];
  if (m === null || unit === undefined) throw new ConfigError(`${JSON.stringify(raw)} is not a size (like 256MiB, 64MB, 1GB, or bytes)`);
  return checkSafe(Math.floor(Number(m[1]) * unit + ALPHA), raw);
}

function parseAlluxioInteger(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${JSON.stringify(raw)} is not a non-negative integer`);
  return checkSafe(Number(raw), raw);
}

function checkSafe(n: number, raw: string): number {
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${JSON.stringify(raw)} is too large`);
  return n;
}

function parseAny(raw: string): string {
  return raw;
}

type Parse = (raw: string) => number | string;

/** Why an accepted key changes nothing here, as the startup log says it. */
export const IGNORED_REASONS = Object.freeze({
  'event-driven': 'no equivalent: claims follow the job events, nothing polls',
  etcd: 'not applicable: JetStream replaces etcd',
});
export type IgnoredReason = keyof typeof IGNORED_REASONS;

/** What one `alluxio.*` key does here: sets a setting, or is accepted and ignored (still checked). */
export type AlluxioKey =
  | { readonly setting: keyof Config; readonly parse: Parse }
  | { readonly ignored: IgnoredReason; readonly parse: Parse };

/** Seed 004's keys: what each one means here. */
export const ALLUXIO_KEYS: Readonly<Record<string, AlluxioKey>> = Object.freeze({
  'alluxio.coordinator.failure.detection.timeout': { setting: 'failureDetectionTimeoutMs', parse: parseAlluxioDuration },
  'alluxio.coordinator.scheduler.max.tasks.per.worker': { setting: 'maxTasksPerWorker', parse: parseAlluxioInteger },
  'alluxio.coordinator.scheduler.running.job.capacity': { setting: 'runningJobCapacity', parse: parseAlluxioInteger },
  'alluxio.coordinator.scheduler.waiting.job.capacity': { setting: 'waitingJobCapacity', parse: parseAlluxioInteger },
  'alluxio.job.retention.time': { setting: 'retentionMaxAgeMs', parse: parseAlluxioDuration },
  'alluxio.job.cleanup.interval': { setting: 'retentionIntervalMs', parse: parseAlluxioDuration },
  'alluxio.worker.job.load.executor.threads.max': { setting: 'workerConcurrency', parse: parseAlluxioInteger },
  'alluxio.job.batch.size': { setting: 'defaultBatchSize', parse: parseAlluxioInteger },
  'alluxio.worker.load.file.partition.size': { setting: 'defaultPartitionSizeBytes', parse: parseAlluxioSize },
  // Claims follow the JOBS stream's events; nothing polls.
  'alluxio.coordinator.scheduler.interval.time': { ignored: 'event-driven', parse: parseAlluxioDuration },
  'alluxio.coordinator.scheduler.job.etcd.poll.interval': { ignored: 'event-driven', parse: parseAlluxioDuration },
  // JetStream holds what etcd held.
  'alluxio.coordinator.scheduler.etcd.max.retries': { ignored: 'etcd', parse: parseAlluxioInteger },
  'alluxio.coordinator.scheduler.etcd.read.timeout': { ignored: 'etcd', parse: parseAlluxioDuration },
  'alluxio.coordinator.scheduler.etcd.write.timeout': { ignored: 'etcd', parse: parseAlluxioDuration },
  'alluxio.coordinator.scheduler.job.etcd.path': { ignored: 'etcd', parse: parseAny },
  'alluxio.coordinator.job.meta.store.type': { ignored: 'etcd', parse: parseAny },
  'alluxio.etcd.endpoints': { ignored: 'etcd', parse: parseAny },
});

/** Other etcd client keys under this prefix are accepted and ignored too. */
const ETCD_PREFIX = 'alluxio.coordinator.scheduler.etcd.';

/** An accepted key that changes nothing here, for the startup log. */
export interface IgnoredKey {
  key: string;
  line: number;
  reason: IgnoredReason;
}

export interface AlluxioSite {
  /** The settings the file sets: one layer for `resolveConfig`. */
  config: Partial<Config>;
  ignored: IgnoredKey[];
}

/**
 * Parses the text of an `alluxio-site.properties` file. Duplicate keys: the last wins, as in Java.
 * Every value is trimmed and must pass its setting's own checks (relations between settings are
 * `resolveConfig`'s). @throws ConfigError `<file>:<line>: …`
 */
export function parseAlluxioSiteProperties(text: string, file: string): AlluxioSite {
  let props: Properties;
  try {
    props = new Properties(text);
  } catch (err) {
    // the parser's only error: a malformed \uXXXX escape, without its line
    const line = text.split(/\r\n|\r|\n/).findIndex((l) => /(?:^|[^\\])(?:\\\\)*\\u(?![0-9a-fA-F]{4})/.test(l)) + 1;
    throw new ConfigError(`${file}${line > 0 ? `:${line}` : ''}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const config: Record<string, unknown> = {};
  const ignored = new Map<string, IgnoredKey>();
  for (const node of props.getProperties()) {
    const at = `${file}:${node.startingLineNumber}`;
    const entry = ALLUXIO_KEYS[node.key] ?? (node.key.startsWith(ETCD_PREFIX) ? { ignored: 'etcd' as const, parse: parseAny } : undefined);
    if (entry === undefined) {
      const what = node.key.startsWith('alluxio.') ? 'an Alluxio key this service does not know' : 'not an alluxio.* key';
      throw new ConfigError(`${at}: ${JSON.stringify(node.key)} is ${what} (docs/compat/alluxio.md, Configuration)`);
    }
    const raw = node.value.trim();
    try {
      const value = entry.parse(raw);
      if ('setting' in entry) {
        checkSetting(entry.setting, value as never);
        config[entry.setting] = value;
      } else {
        ignored.set(node.key, { key: node.key, line: node.startingLineNumber, reason: entry.ignored });
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new ConfigError(`${at}: ${node.key}: ${err.message}`);
    }
  }
  return { config: config as Partial<Config>, ignored: [...ignored.values()] };
}

/** Reads and parses an `alluxio-site.properties` file. @throws ConfigError */
export function readAlluxioSiteProperties(file: string): AlluxioSite {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`alluxioSiteProperties: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseAlluxioSiteProperties(text, file);
}

/** The resolved configuration of a process and what its properties file left unused. */
export interface StartupConfig {
  config: Readonly<Config>;
  /** Set when `alluxioSiteProperties` names a file. */
  site?: { file: string; ignored: IgnoredKey[] };
}

/**
 * Defaults < the `alluxioSiteProperties` file < environment < flags: the file's path comes from
 * the environment or a flag, and an explicit variable or flag wins over the file.
 * @throws ConfigError
 */
export function resolveStartupConfig(
  env: Partial<Config>,
  flags: Partial<Config>,
  read: (file: string) => AlluxioSite = readAlluxioSiteProperties,
): StartupConfig {
  const file = flags.alluxioSiteProperties ?? env.alluxioSiteProperties ?? null;
  if (file === null) return { config: resolveConfig(env, flags) };
  const site = read(file);
  return { config: resolveConfig(site.config, env, flags), site: { file, ignored: site.ignored } };
}
