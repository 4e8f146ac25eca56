/** The `script` job spec: which uploaded binary to run, its entry point, its config and limits. */
import { AppError } from '../../errors.ts';
import { BINARY_NAME_RE } from '../../binaries/binaryStore.ts';
import { RUNTIMES, type Runtime } from './runtimes.ts';

export type ScriptSpec = {
  /** Name of a binary in the binary store (Spark Jobserver's `appName`). */
  binary: string;
  /** The entry point in the binary: an export (JavaScript), `module.Class` (Python), a class (Java). */
  classPath: string;
  /**
   * The runtime to use; absent: chosen on the worker from the binary's content type. Given, it is
   * checked at submission (a runtime this service does not have is refused there).
   */
  runtime?: Runtime;
  /** The job config handed to `validate` and `runJob` (any JSON object). @defaultValue {} */
  config?: Record<string, unknown>;
  /** Wall-clock limit; at most (and by default) the `scriptTimeLimitMs` setting. */
  timeLimitMs?: number;
  /** Address-space limit of the task's processes, MiB; at most (and by default) `scriptMemoryLimitMb`. */
  memoryLimitMb?: number;
  /** Recorded and shown: the Spark context the job was started in. */
  context?: string;
  /** Recorded and shown: Spark's `spark.proxy.user` (no impersonation happens). */
  proxyUser?: string;
};

/** Serialized size cap of `config` (it travels in the JobSubmitted event). */
export const MAX_CONFIG_JSON_BYTES = 256 * 1024;
/** Java class names, Python `module.Class`, JavaScript export names (dots and `$` allowed). */
export const CLASS_PATH_RE = /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/;

export const SCRIPT_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['binary', 'classPath'],
  properties: {
    binary: { type: 'string', pattern: BINARY_NAME_RE.source },
    classPath: { type: 'string', maxLength: 512, pattern: CLASS_PATH_RE.source },
    runtime: { enum: [...RUNTIMES] },
    config: { description: 'any JSON object' },
    timeLimitMs: { type: 'integer', minimum: 1000, maximum: 2 ** 31 - 1 },
    memoryLimitMb: { type: 'integer', minimum: 32, maximum: 1024 * 1024 },
    context: { type: 'string', maxLength: 256 },
    proxyUser: { type: 'string', maxLength: 256 },
  },
} as const;

/** The checks the schema cannot express: `config` an object of bounded size, limits within the settings. */
export function checkScriptSpec(spec: ScriptSpec, limits: { timeLimitMs: number; memoryLimitMb: number }): void {
  const c = spec.config;
  if (c !== undefined && (c === null || typeof c !== 'object' || Array.isArray(c))) {
    throw new AppError('INVALID_SPEC', 'spec.config must be a JSON object');
  }
  if (c !== undefined && Buffer.byteLength(JSON.stringify(c)) > MAX_CONFIG_JSON_BYTES) {
    throw new AppError('INVALID_SPEC', `spec.config must serialize to at most ${MAX_CONFIG_JSON_BYTES} bytes`);
  }
  if (spec.timeLimitMs !== undefined && spec.timeLimitMs > limits.timeLimitMs) {
    throw new AppError('INVALID_SPEC', `spec.timeLimitMs must be at most ${limits.timeLimitMs} (the scriptTimeLimitMs setting)`);
  }
  if (spec.memoryLimitMb !== undefined && spec.memoryLimitMb > limits.memoryLimitMb) {
    throw new AppError('INVALID_SPEC', `spec.memoryLimitMb must be at most ${limits.memoryLimitMb} (the scriptMemoryLimitMb setting)`);
  }
}
