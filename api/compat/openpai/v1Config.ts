/**
 * OpenPAI v1 job configs (the seed's `POST /api/v1/jobs` and the PAIV1 SDK's form submit) → an
 * `exec` job spec (docs/research/openpai-facade-plan.md §4.1). The original validated with Joi
 * (`src/rest-server/src/config/job.js`, `convert` on, unknown keys refused); here the same fields
 * are converted as Joi's `convert` did (form values are all strings), then checked with ajv, then
 * given Joi's defaults. Also the other direction, a v1 config as a protocol v2 object, for the v2
 * `/config` of a v1 job (after the original's `middlewares/v2/converter.js`).
 */
import { parse } from 'qs';
import { AppError, MAX_COMMAND_BYTES, MAX_INSTANCES, MAX_ROLES, MAX_SOURCE_CHARS, ROLE_NAME_RE, type ExecRole } from '../../../engine/index.ts';
import { compileChecker, formatPath, JOB_NAME_RE, MAX_RETRY_COUNT } from './protocolSchema.ts';
import { completionCount, type ExecSpecTarget, type ExecSubmission } from './protocolToExec.ts';

/** qs as body-parser's `urlencoded({extended: true})` used it, with limits that throw instead of truncating. */
const FORM_OPTIONS = {
  depth: 5, // taskRoles[0][portList][0][label]
  arrayLimit: 100, // qs's 20 would turn 21 roles into an object
  parameterLimit: 2000,
  allowPrototypes: false,
  plainObjects: true,
  strictDepth: true,
  throwOnLimitExceeded: true,
} as const;

/**
 * Parses an `application/x-www-form-urlencoded` body with qs bracket notation
 * (`taskRoles[0][name]=main`). Every value is a string; `__proto__[x]` is dropped.
 * @throws AppError VALIDATION_FAILED: nesting deeper than 5, more than 2,000 parameters, an array
 *   index of 100 or more.
 */
export function parseV1Form(raw: string): unknown {
  if (typeof raw !== 'string') throw invalid('the form body must be text', 'body');
  try {
    return parse(raw, FORM_OPTIONS);
  } catch (e) {
    // qs reports its limits as RangeErrors whose message says which.
    const reason = e instanceof Error ? e.message.replace(/\.$/, '') : 'the form cannot be read';
    throw new AppError('VALIDATION_FAILED', `form body: ${reason}`, { details: { field: 'body' }, cause: e });
  }
}

export interface V1Port {
  label: string;
  /** @defaultValue 0 */
  beginAt: number;
  /** @defaultValue 1 */
  portNumber: number;
}

export interface V1TaskRole {
  name: string;
  /** @defaultValue 1 */
  taskNumber: number;
  /** @defaultValue 1 */
  cpuNumber: number;
  /** @defaultValue 100 */
  memoryMB: number;
  /** @defaultValue 64 */
  shmMB: number;
  /** @defaultValue 0 */
  gpuNumber: number;
  /** @defaultValue [] */
  portList: V1Port[];
  command: string;
  /** @defaultValue 1 */
  minFailedTaskCount: number | null;
  /** @defaultValue null */
  minSucceededTaskCount: number | null;
}

/** A v1 config after conversion, checks and Joi's defaults: what `/config` on a v1 path shows. */
export interface V1Config {
  jobName: string;
  image: string;
  authFile: string;
  dataDir: string;
  outputDir: string;
  codeDir: string;
  taskRoles: V1TaskRole[];
  gpuType: string;
  killAllOnCompletedTaskNumber?: number;
  /** `''` is read as `default`. */
  virtualCluster: string;
  /** @defaultValue 0 */
  retryCount: number;
}

const ROOT_INTEGERS = new Set(['killAllOnCompletedTaskNumber', 'retryCount']);
const ROLE_INTEGERS = new Set(['taskNumber', 'cpuNumber', 'memoryMB', 'shmMB', 'gpuNumber']);
const ROLE_NULLABLE = new Set(['minFailedTaskCount', 'minSucceededTaskCount']);
const PORT_INTEGERS = new Set(['beginAt', 'portNumber']);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** An integer written as a string: digits that a double holds exactly. */
const INTEGER_TEXT = /^-?\d{1,15}$/;
/** The original's port labels (they named environment variables in the container). */
const V1_PORT_LABEL = '^[A-Za-z0-9._~]{1,64}$';
const MAX_PATH_CHARS = 4096;
const MAX_PORTS = 64;

const nullableCountSchema = { type: ['integer', 'null'], minimum: -1 } as const; // 0 is refused below
const V1_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['jobName', 'image', 'taskRoles'],
  properties: {
    jobName: { type: 'string', pattern: JOB_NAME_RE.source },
    image: { type: 'string', minLength: 1, maxLength: 1024 },
    authFile: { type: 'string', maxLength: MAX_PATH_CHARS },
    dataDir: { type: 'string', maxLength: MAX_PATH_CHARS },
    outputDir: { type: 'string', maxLength: MAX_PATH_CHARS },
    codeDir: { type: 'string', maxLength: MAX_PATH_CHARS },
    taskRoles: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_ROLES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'command'],
        properties: {
          name: { type: 'string', pattern: ROLE_NAME_RE.source },
          taskNumber: { type: 'integer', minimum: 1, maximum: MAX_INSTANCES },
          cpuNumber: { type: 'integer', minimum: 0, maximum: 1024 },
          memoryMB: { type: 'integer', minimum: 1, maximum: 1024 * 1024 * 1024 },
          shmMB: { type: 'integer', minimum: 0, maximum: 1024 * 1024 * 1024 },
          gpuNumber: { type: 'integer', minimum: 0, maximum: 1024 },
          portList: {
            type: 'array',
            maxItems: MAX_PORTS,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['label'],
              properties: {
                label: { type: 'string', pattern: V1_PORT_LABEL },
                beginAt: { type: 'integer', minimum: 0, maximum: 65535 },
                portNumber: { type: 'integer', minimum: 0, maximum: 65535 },
              },
            },
          },
          command: { type: 'string', minLength: 1, maxLength: MAX_COMMAND_BYTES },
          minFailedTaskCount: nullableCountSchema,
          minSucceededTaskCount: nullableCountSchema,
        },
      },
    },
    gpuType: { type: 'string', maxLength: 256 },
    killAllOnCompletedTaskNumber: { type: 'integer', minimum: 0, maximum: MAX_INSTANCES },
    virtualCluster: { type: 'string', maxLength: 256 },
    retryCount: { type: 'integer', minimum: 0, maximum: MAX_RETRY_COUNT },
  },
} as const;

type CheckedV1 = Omit<Partial<V1Config>, 'taskRoles'> & {
  jobName: string;
  image: string;
  taskRoles: (Partial<Omit<V1TaskRole, 'portList'>> & { name: string; command: string; portList?: Partial<V1Port>[] })[];
};

const checkV1Schema = compileChecker<CheckedV1>(V1_SCHEMA, 'the job config', 'body');

export interface V1ConfigToExecOptions {
  /** The submitting user (`spec.userName`, `PAI_USER_NAME`). */
  userName: string;
  /** The job name from the path (`PUT /api/v1/jobs/:jobName`): it wins; a different body `jobName` is an error. */
  jobName?: string;
}

/**
 * Converts a v1 job config (a JSON body, or a form parsed by {@link parseV1Form}) into an exec
 * submission.
 * @returns the submission and the config as checked, with Joi's defaults (what `/config` shows).
 * @throws AppError VALIDATION_FAILED naming the field: not an object; an unknown field (also
 *   `__proto__`, `constructor`); a value of the wrong type (an integer field takes an integer or
 *   its digits as a string; `minFailedTaskCount` / `minSucceededTaskCount` also null, `''` or
 *   `'null'`); a `jobName` outside `^[A-Za-z0-9_-]{1,128}$` or other than the path's; a role name
 *   outside the exec rule (v1's `.`, `~` and leading digits); a number out of range (`taskNumber`
 *   1–10,000, `retryCount` 0–10, …); a count of 0; `shmMB` above `memoryMB`; two roles or two port
 *   labels with one name; more than 10,000 instances in all; an empty command or one with a NUL;
 *   a config over 100 KiB as JSON.
 */
export function v1ConfigToExec(body: unknown, opts: V1ConfigToExecOptions): ExecSubmission & { config: V1Config } {
  const converted = convert(body, opts.jobName);
  const config = withDefaults(checkV1Schema(converted));
  checkConfig(config);
  const text = JSON.stringify(config);
  if (text.length > MAX_SOURCE_CHARS) throw invalid(`the job config is longer than ${MAX_SOURCE_CHARS} characters as JSON`, 'body');

  const taskRoles = config.taskRoles.map((r): ExecRole => {
    const ports = Object.fromEntries(r.portList.map((p) => [p.label, p.portNumber]));
    return {
      name: r.name,
      taskNumber: r.taskNumber,
      commands: [r.command],
      minFailedInstances: completionCount(r.minFailedTaskCount, 1, r.taskNumber),
      minSucceededInstances: completionCount(r.minSucceededTaskCount, null, r.taskNumber),
      resources: { cpu: r.cpuNumber, memoryMb: r.memoryMB, gpu: r.gpuNumber, ...(r.portList.length > 0 ? { ports } : {}) },
    };
  });
  return {
    name: config.jobName,
    virtualCluster: config.virtualCluster,
    spec: {
      taskRoles,
      jobName: config.jobName,
      userName: opts.userName,
      image: config.image,
      ...(config.retryCount > 0 ? { jobRetryCount: config.retryCount } : {}),
      source: { format: 'openpai-v1', text },
    } satisfies ExecSpecTarget,
    config,
  };
}

/**
 * A fresh copy holding Joi's `convert`: integer fields given as digit strings become numbers, the
 * nullable counts read `''` (request's form encoding of null) and `'null'` as null. Everything
 * else is copied as it is, for the schema to judge; keys that could reach a prototype are refused.
 */
function convert(body: unknown, pathJobName: string | undefined): unknown {
  if (!isRecord(body)) return body;
  const root = copyRecord(body, [], (key, v) => (ROOT_INTEGERS.has(key) ? toInteger(v) : v));
  if (pathJobName !== undefined) {
    if (root.jobName !== undefined && root.jobName !== pathJobName) {
      throw invalid(`jobName ${quote(root.jobName)} differs from the job name in the path (${quote(pathJobName)})`, 'jobName');
    }
    root.jobName = pathJobName;
  }
  const roles = root.taskRoles;
  if (Array.isArray(roles) && roles.length <= MAX_ROLES) {
    root.taskRoles = roles.map((role, i) => {
      if (!isRecord(role)) return role;
      const copy = copyRecord(role, ['taskRoles', i], (key, v) => (ROLE_INTEGERS.has(key) ? toInteger(v) : ROLE_NULLABLE.has(key) ? toNullableInteger(v) : v));
      const ports = copy.portList;
      if (Array.isArray(ports) && ports.length <= MAX_PORTS) {
        copy.portList = ports.map((port, j) => (isRecord(port) ? copyRecord(port, ['taskRoles', i, 'portList', j], (key, v) => (PORT_INTEGERS.has(key) ? toInteger(v) : v)) : port));
      }
      return copy;
    });
  }
  return root;
}

function copyRecord(from: Record<string, unknown>, at: (string | number)[], map: (key: string, value: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(from)) {
    if (FORBIDDEN_KEYS.has(key)) throw invalid(`${formatPath([...at, key])} is not an allowed field`, formatPath([...at, key]));
    out[key] = map(key, from[key]);
  }
  return out;
}

function toInteger(v: unknown): unknown {
  return typeof v === 'string' && INTEGER_TEXT.test(v) ? Number(v) : v;
}

function toNullableInteger(v: unknown): unknown {
  return v === '' || v === 'null' ? null : toInteger(v);
}

function withDefaults(c: CheckedV1): V1Config {
  return {
    jobName: c.jobName,
    image: c.image,
    authFile: c.authFile ?? '',
    dataDir: c.dataDir ?? '',
    outputDir: c.outputDir ?? '',
    codeDir: c.codeDir ?? '',
    taskRoles: c.taskRoles.map((r) => ({
      name: r.name,
      taskNumber: r.taskNumber ?? 1,
      cpuNumber: r.cpuNumber ?? 1,
      memoryMB: r.memoryMB ?? 100,
      shmMB: r.shmMB ?? 64,
      gpuNumber: r.gpuNumber ?? 0,
      portList: (r.portList ?? []).map((p) => ({ label: p.label ?? '', beginAt: p.beginAt ?? 0, portNumber: p.portNumber ?? 1 })),
      command: r.command,
      minFailedTaskCount: r.minFailedTaskCount === undefined ? 1 : r.minFailedTaskCount,
      minSucceededTaskCount: r.minSucceededTaskCount ?? null,
    })),
    gpuType: c.gpuType ?? '',
    ...(c.killAllOnCompletedTaskNumber === undefined ? {} : { killAllOnCompletedTaskNumber: c.killAllOnCompletedTaskNumber }),
    virtualCluster: c.virtualCluster === undefined || c.virtualCluster === '' ? 'default' : c.virtualCluster,
    retryCount: c.retryCount ?? 0,
  };
}

/** What Joi's schema said beyond types (`shmMB` ≤ `memoryMB`) and what the engine needs. */
function checkConfig(c: V1Config): void {
  const names = new Set<string>();
  let total = 0;
  c.taskRoles.forEach((r, i) => {
    const at = `taskRoles[${i}]`;
    if (names.has(r.name)) throw invalid(`${at}.name: the role name ${r.name} is used twice`, `${at}.name`);
    names.add(r.name);
    total += r.taskNumber;
    if (r.shmMB > r.memoryMB) throw invalid(`${at}.shmMB (${r.shmMB}) must be at most its memoryMB (${r.memoryMB})`, `${at}.shmMB`);
    for (const key of ['minFailedTaskCount', 'minSucceededTaskCount'] as const) {
      if (r[key] === 0) throw invalid(`${at}.${key} must be at least 1, -1 or null`, `${at}.${key}`);
    }
    if (r.command.trim() === '') throw invalid(`${at}.command is empty`, `${at}.command`);
    if (r.command.includes('\0')) throw invalid(`${at}.command holds a NUL byte`, `${at}.command`);
    const labels = new Set<string>();
    r.portList.forEach((p, j) => {
      if (labels.has(p.label)) throw invalid(`${at}.portList[${j}].label: the label ${p.label} is used twice`, `${at}.portList[${j}].label`);
      labels.add(p.label);
    });
  });
  if (total > MAX_INSTANCES) throw invalid(`taskRoles: ${total} instances in all; at most ${MAX_INSTANCES}`, 'taskRoles');
}

/** v1's directories and the protocol prerequisite types they became in the original's converter. */
const DIR_PREREQUISITES = [
  ['dataDir', 'data'],
  ['outputDir', 'output'],
  ['codeDir', 'script'],
] as const;

/**
 * A v1 config as a protocol v2 object (shown by the v2 `/config` of a v1 job), as the original's
 * converter built it: one `dockerimage` prerequisite named `default`, one per non-empty directory
 * (`dataDir` → `data`, `outputDir` → `output`, `codeDir` → `script`), and a role per v1 role.
 * Unlike the original it adds no deployment of `export PAI_*_DIR` preCommands (our jobs never ran
 * them), and keeps `authFile`, `gpuType` and `killAllOnCompletedTaskNumber` under `extras.openpaiV1`.
 */
export function v1ToProtocol(config: V1Config): Record<string, unknown> {
  const prerequisites: Record<string, unknown>[] = [{ name: 'default', type: 'dockerimage', uri: config.image }];
  const refs: Record<string, string> = {};
  for (const [dir, type] of DIR_PREREQUISITES) {
    const uri = config[dir];
    if (uri === '') continue;
    prerequisites.push({ name: 'default', type, uri: type === 'data' ? [uri] : uri });
    refs[type] = 'default';
  }
  const taskRoles: Record<string, unknown> = {};
  for (const r of config.taskRoles) {
    taskRoles[r.name] = {
      instances: r.taskNumber,
      completion: { minFailedInstances: r.minFailedTaskCount, minSucceededInstances: r.minSucceededTaskCount },
      dockerImage: 'default',
      ...refs,
      extraContainerOptions: { shmMB: r.shmMB },
      resourcePerInstance: {
        cpu: r.cpuNumber,
        memoryMB: r.memoryMB,
        gpu: r.gpuNumber,
        ...(r.portList.length > 0 ? { ports: Object.fromEntries(r.portList.map((p) => [p.label, p.portNumber])) } : {}),
      },
      commands: [r.command],
    };
  }
  const extras: Record<string, unknown> = {};
  if (config.authFile !== '') extras.authFile = config.authFile;
  if (config.gpuType !== '') extras.gpuType = config.gpuType;
  if (config.killAllOnCompletedTaskNumber !== undefined) extras.killAllOnCompletedTaskNumber = config.killAllOnCompletedTaskNumber;
  return {
    protocolVersion: 2,
    name: config.jobName,
    type: 'job',
    prerequisites,
    ...(config.retryCount > 0 ? { jobRetryCount: config.retryCount } : {}),
    taskRoles,
    defaults: { virtualCluster: config.virtualCluster },
    ...(Object.keys(extras).length > 0 ? { extras: { openpaiV1: extras } } : {}),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

function invalid(message: string, field: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { details: { field } });
}
