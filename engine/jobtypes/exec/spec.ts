/**
 * The `exec` job spec: task roles, each a list of shell commands run as `taskNumber` instances
 * (OpenPAI's jobs), with completion policies per role and limits per instance.
 */
import { DOCUMENT_ID_RE } from '../../documents/documentStore.ts';
import { AppError } from '../../errors.ts';

export interface ExecRole {
  /** Letters, digits and `_`, starting with a letter or `_` (OpenPAI's task role names). */
  name: string;
  /** Instances of the role: each is one task, one process. */
  taskNumber: number;
  /** Shell commands, run in order by `/bin/sh` with `set -e` (the first that fails ends the instance). */
  commands: string[];
  /**
   * The job fails once this many instances of the role failed (OpenPAI's minFailedInstances /
   * completion.minFailedTaskCount). @defaultValue 1; null: failures of this role never fail the job
   */
  minFailedInstances?: number | null;
  /**
   * The job ends as succeeded once this many instances of the role succeeded, its other instances
   * killed (minSucceededInstances / completion.minSucceededTaskCount; OpenPAI's -1 is null here).
   * @defaultValue null: the job ends when every instance has
   */
  minSucceededInstances?: number | null;
  /** Extra environment of this role's instances. */
  env?: Record<string, string>;
  /** Recorded and shown: the container image of this role's instances (OpenPAI's per-role `dockerImage`); overrides the job's `image`. */
  image?: string;
  /** Like the job's `taskRetryCount`, for this role's instances (overrides it). */
  taskRetryCount?: number;
  /** Address-space limit of this role's instances, MiB (overrides the job's `memoryLimitMb`); at most `scriptMemoryLimitMb`. */
  memoryLimitMb?: number;
  /** Recorded and shown, no effect: what the submitter asked for each instance (OpenPAI's `resourcePerInstance`). */
  resources?: ExecResources;
}

/** What one instance asked for (recorded, not enforced: only `memoryLimitMb` limits an instance). */
export interface ExecResources {
  cpu?: number;
  memoryMb?: number;
  gpu?: number;
  /** Port label → how many ports (OpenPAI's `ports`, v1's `portList`). */
  ports?: Record<string, number>;
}

export type ExecSpec = {
  taskRoles: ExecRole[];
  /** `PAI_JOB_NAME` (a facade sets it; the native API: the job's name is not known to the worker). */
  jobName?: string;
  /** `PAI_USER_NAME`. */
  userName?: string;
  /** Recorded and shown: the container image the original would run the commands in. */
  image?: string;
  /** A failed instance (non-zero exit, a limit) runs again this many times before it counts as failed. @defaultValue 0 */
  taskRetryCount?: number;
  /**
   * A job that would fail runs again this many times as a whole, every instance a new attempt
   * (OpenPAI's `jobRetryCount`; JobRetried). @defaultValue 0
   */
  jobRetryCount?: number;
  /** Wall-clock limit of each instance; at most (and by default) `scriptTimeLimitMs`. */
  timeLimitMs?: number;
  /** Address-space limit of each instance, MiB; at most (and by default) `scriptMemoryLimitMb`. */
  memoryLimitMb?: number;
  /** Extra environment of every instance. */
  env?: Record<string, string>;
  /**
   * Recorded only: the text the job was submitted as (the OpenPAI facade keeps the submitted v1
   * config or v2 protocol here to answer `/config`). Never given to the instances.
   */
  source?: ExecSource;
  /**
   * The commands that run are sealed: kept in the document store (namespace `execsealed`, this id;
   * sealed.ts), not in the spec, because they hold secrets. The roles' `commands` are then what is
   * shown (the OpenPAI facade writes each secret as `******`), and the secret values in the
   * document are hidden in the instances' output and messages.
   */
  sealed?: { id: string };
};

/** A submission's original text (`ExecSpec.source`). */
export interface ExecSource {
  format: (typeof SOURCE_FORMATS)[number];
  /** At most MAX_SOURCE_CHARS characters. */
  text: string;
}

export const MAX_ROLES = 32;
export const MAX_INSTANCES = 10_000;
export const MAX_COMMANDS = 100;
export const MAX_COMMAND_BYTES = 64 * 1024;
/** `source.text` cap, in characters (100 KiB): every process's projection holds every job's spec. */
export const MAX_SOURCE_CHARS = 100 * 1024;
export const SOURCE_FORMATS = ['openpai-v1', 'openpai-v2'] as const;
export const ROLE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ENV_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';
/** Names the engine sets: a spec may not override them. */
const RESERVED_ENV = /^(PAI_|JETJOBS_|PATH$|HOME$|TMPDIR$|LANG$)/;

const envSchema = {
  type: 'object',
  additionalProperties: false,
  patternProperties: { [ENV_NAME]: { type: 'string', maxLength: 8192 } },
  maxProperties: 64,
} as const;

const imageSchema = { type: 'string', maxLength: 1024 } as const;
const taskRetryCountSchema = { type: 'integer', minimum: 0, maximum: 10 } as const;
const memoryLimitMbSchema = { type: 'integer', minimum: 32, maximum: 1024 * 1024 } as const;

/** Recorded numbers, bounded so a spec stays small and sums (a VC's resources used) stay exact. */
const resourcesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cpu: { type: 'number', minimum: 0, maximum: 1_000_000 },
    memoryMb: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 },
    gpu: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    ports: {
      type: 'object',
      additionalProperties: false,
      patternProperties: { '^[A-Za-z0-9_.~-]{1,64}$': { type: 'integer', minimum: 0, maximum: 65_535 } },
      maxProperties: 64,
    },
  },
} as const;

export const EXEC_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['taskRoles'],
  properties: {
    taskRoles: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_ROLES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'taskNumber', 'commands'],
        properties: {
          name: { type: 'string', pattern: ROLE_NAME_RE.source },
          taskNumber: { type: 'integer', minimum: 1, maximum: MAX_INSTANCES },
          commands: { type: 'array', minItems: 1, maxItems: MAX_COMMANDS, items: { type: 'string', minLength: 1, maxLength: MAX_COMMAND_BYTES } },
          minFailedInstances: { type: ['integer', 'null'], minimum: 1 },
          minSucceededInstances: { type: ['integer', 'null'], minimum: 1 },
          env: envSchema,
          image: imageSchema,
          taskRetryCount: taskRetryCountSchema,
          memoryLimitMb: memoryLimitMbSchema,
          resources: resourcesSchema,
        },
      },
    },
    jobName: { type: 'string', maxLength: 256 },
    userName: { type: 'string', maxLength: 256 },
    image: imageSchema,
    taskRetryCount: taskRetryCountSchema,
    jobRetryCount: { type: 'integer', minimum: 0, maximum: 10 },
    timeLimitMs: { type: 'integer', minimum: 1000, maximum: 2 ** 31 - 1 },
    memoryLimitMb: memoryLimitMbSchema,
    env: envSchema,
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['format', 'text'],
      properties: {
        format: { type: 'string', enum: SOURCE_FORMATS },
        text: { type: 'string', maxLength: MAX_SOURCE_CHARS },
      },
    },
    sealed: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: { id: { type: 'string', pattern: DOCUMENT_ID_RE.source } },
    },
  },
} as const;

/** What the schema cannot say: distinct role names, the instance total, NUL-free commands, no reserved env names, limits within the settings. */
export function checkExecSpec(spec: ExecSpec, limits: { timeLimitMs: number; memoryLimitMb: number }): void {
  const names = new Set<string>();
  let total = 0;
  for (const r of spec.taskRoles) {
    if (names.has(r.name)) throw new AppError('INVALID_SPEC', `spec.taskRoles: the role name ${r.name} is used twice`, { details: { field: 'spec.taskRoles' } });
    names.add(r.name);
    total += r.taskNumber;
    if (r.commands.some((c) => c.includes('\0') || c.trim() === '')) throw new AppError('INVALID_SPEC', `spec.taskRoles.${r.name}.commands: a command is empty or holds a NUL byte`);
    if (r.minFailedInstances != null && r.minFailedInstances > r.taskNumber) throw new AppError('INVALID_SPEC', `spec.taskRoles.${r.name}.minFailedInstances is above its taskNumber`);
    if (r.minSucceededInstances != null && r.minSucceededInstances > r.taskNumber) throw new AppError('INVALID_SPEC', `spec.taskRoles.${r.name}.minSucceededInstances is above its taskNumber`);
    checkEnv(r.env, `spec.taskRoles.${r.name}.env`);
    if (r.memoryLimitMb !== undefined && r.memoryLimitMb > limits.memoryLimitMb) throw new AppError('INVALID_SPEC', `spec.taskRoles.${r.name}.memoryLimitMb must be at most ${limits.memoryLimitMb} (the scriptMemoryLimitMb setting)`, { details: { field: `spec.taskRoles.${r.name}.memoryLimitMb` } });
  }
  if (total > MAX_INSTANCES) throw new AppError('INVALID_SPEC', `spec.taskRoles: ${total} instances in all; at most ${MAX_INSTANCES}`);
  checkEnv(spec.env, 'spec.env');
  if (spec.timeLimitMs !== undefined && spec.timeLimitMs > limits.timeLimitMs) throw new AppError('INVALID_SPEC', `spec.timeLimitMs must be at most ${limits.timeLimitMs} (the scriptTimeLimitMs setting)`);
  if (spec.memoryLimitMb !== undefined && spec.memoryLimitMb > limits.memoryLimitMb) throw new AppError('INVALID_SPEC', `spec.memoryLimitMb must be at most ${limits.memoryLimitMb} (the scriptMemoryLimitMb setting)`);
}

function checkEnv(env: Record<string, string> | undefined, field: string): void {
  for (const [k, v] of Object.entries(env ?? {})) {
    if (RESERVED_ENV.test(k)) throw new AppError('INVALID_SPEC', `${field}.${k}: PAI_*, JETJOBS_*, PATH, HOME, TMPDIR and LANG are set by the service`);
    if (v.includes('\0')) throw new AppError('INVALID_SPEC', `${field}.${k} holds a NUL byte`);
  }
}
