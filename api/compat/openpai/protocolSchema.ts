/**
 * The OpenPAI protocol v2 JSON Schema (microsoft/pai `src/rest-server/src/config/v2/protocol.js`)
 * with our limits, and the cross checks the original server ran after it
 * (`middlewares/v2/protocol.js` `protocolValidate`). Validation never coerces or fills defaults: the
 * only rewrite is the null spellings of the two `completion` fields (docs/research/openpai-facade-plan.md
 * §4.2 step 3), since JSON_SCHEMA loading leaves a hand-written `~` or empty value a string.
 *
 * Closed like the original (`additionalProperties: false`): the root, each task role, each
 * prerequisite, `completion`, `resourcePerInstance` and its `ports`, and a deployment's roles. Also
 * closed here, where the original was open: a deployment itself. Open as in the original:
 * `parameters`, `secrets`, `extras`, `defaults`, a docker image's `auth` and `extraContainerOptions`
 * (the original meant to close it, but wrote `additionalProperties` inside `properties`).
 */
import { Ajv, type ErrorObject } from 'ajv';
import { AppError, MAX_COMMAND_BYTES, MAX_COMMANDS, MAX_INSTANCES, MAX_ROLES, ROLE_NAME_RE } from '../../../engine/index.ts';

/** OpenPAI job names here: the v2 pattern, at most 128 characters (no dot, which only v1 allowed). */
export const JOB_NAME_RE = /^[A-Za-z0-9_-]{1,128}$/;
/** Names of prerequisites and deployments (the original's `base.json` name). */
const ITEM_NAME_RE = /^[a-zA-Z0-9_-]{1,128}$/;
/** Keys of `resourcePerInstance.ports` (the original's pattern; they name environment variables). */
export const PORT_LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
/** Most prerequisites or deployments in one protocol. */
const MAX_ITEMS = 100;
/** Most ports per role. */
const MAX_PORTS = 100;
/** The engine's limit on a recorded image. */
const MAX_IMAGE_CHARS = 1024;
/** Short strings: references, names of virtual clusters. */
const MAX_SHORT_CHARS = 256;
/** Retries (per role and per job): the engine's range. */
export const MAX_RETRY_COUNT = 10;

/** What the two nullable `completion` fields accept as null when written as a plain scalar. */
const NULL_SPELLINGS = new Set(['', '~', 'null', 'Null', 'NULL']);

export type PrerequisiteType = 'script' | 'output' | 'data' | 'dockerimage';

export interface ProtocolPrerequisite {
  name: string;
  type: PrerequisiteType;
  /** A list for `data`, a string otherwise. */
  uri: string | string[];
  protocolVersion?: 2 | '2';
  version?: string | number;
  contributor?: string;
  description?: string;
  auth?: { username?: string; password?: string; registryuri?: string };
}

export interface ProtocolTaskRole {
  protocolVersion?: 2 | '2';
  /** @defaultValue 1 */
  instances?: number;
  completion?: { minFailedInstances?: number | null; minSucceededInstances?: number | null };
  /** @defaultValue 0 */
  taskRetryCount?: number;
  /** Name of a `dockerimage` prerequisite. */
  dockerImage: string;
  data?: string;
  output?: string;
  script?: string;
  extraContainerOptions?: { shmMB?: number; [key: string]: unknown };
  resourcePerInstance: { cpu: number; memoryMB: number; gpu: number; ports?: Record<string, number> };
  commands: string[];
}

export interface ProtocolDeployment {
  protocolVersion?: 2 | '2';
  name: string;
  taskRoles: Record<string, { preCommands?: string[]; postCommands?: string[] }>;
}

/** A protocol that passed {@link validateProtocol}. */
export interface Protocol {
  protocolVersion: 2 | '2';
  name: string;
  type: 'job';
  version?: string | number;
  contributor?: string;
  description?: string;
  prerequisites?: ProtocolPrerequisite[];
  parameters?: Record<string, unknown>;
  secrets?: Record<string, unknown>;
  /** @defaultValue 0 */
  jobRetryCount?: number;
  /** Role name → role, in document order. */
  taskRoles: Record<string, ProtocolTaskRole>;
  deployments?: ProtocolDeployment[];
  defaults?: { virtualCluster?: string; deployment?: string; [key: string]: unknown };
  extras?: Record<string, unknown>;
}

const protocolVersion = { enum: [2, '2'] } as const;
const baseProperties = {
  protocolVersion,
  name: { type: 'string', pattern: ITEM_NAME_RE.source },
  version: { type: ['string', 'number'] },
  contributor: { type: 'string' },
  description: { type: 'string' },
} as const;
const command = { type: 'string', maxLength: MAX_COMMAND_BYTES } as const;
const commandList = { type: 'array', minItems: 1, maxItems: MAX_COMMANDS, items: command } as const;
const completionCount = { type: ['integer', 'null'], minimum: -1 } as const; // 0 is refused in checkProtocol
const retryCount = { type: 'integer', minimum: 0, maximum: MAX_RETRY_COUNT } as const;
const reference = { type: 'string', maxLength: MAX_SHORT_CHARS } as const;

const roleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dockerImage', 'resourcePerInstance', 'commands'],
  properties: {
    protocolVersion,
    instances: { type: 'integer', minimum: 1, maximum: MAX_INSTANCES },
    completion: {
      type: 'object',
      additionalProperties: false,
      properties: { minFailedInstances: completionCount, minSucceededInstances: completionCount },
    },
    taskRetryCount: retryCount,
    dockerImage: reference,
    data: reference,
    output: reference,
    script: reference,
    extraContainerOptions: { type: 'object', properties: { shmMB: { type: 'integer', minimum: 0 } } },
    resourcePerInstance: {
      type: 'object',
      additionalProperties: false,
      required: ['cpu', 'memoryMB', 'gpu'],
      properties: {
        cpu: { type: 'integer', minimum: 0, maximum: 1024 },
        memoryMB: { type: 'integer', minimum: 1, maximum: 1024 * 1024 * 1024 },
        gpu: { type: 'integer', minimum: 0, maximum: 1024 },
        ports: {
          type: 'object',
          minProperties: 1,
          maxProperties: MAX_PORTS,
          propertyNames: { pattern: PORT_LABEL_RE.source },
          additionalProperties: { type: 'integer', minimum: 0, maximum: 65535 },
        },
      },
    },
    commands: commandList,
  },
} as const;

const prerequisiteSchema = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  required: ['type'],
  properties: { type: { type: 'string' } },
  oneOf: [
    {
      additionalProperties: false,
      required: ['name', 'type', 'uri'],
      properties: { ...baseProperties, type: { enum: ['script', 'output'] }, uri: { type: 'string' } },
    },
    {
      additionalProperties: false,
      required: ['name', 'type', 'uri'],
      properties: { ...baseProperties, type: { const: 'data' }, uri: { type: 'array', items: { type: 'string' } } },
    },
    {
      additionalProperties: false,
      required: ['name', 'type', 'uri'],
      properties: {
        ...baseProperties,
        type: { const: 'dockerimage' },
        auth: { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string' }, registryuri: { type: 'string' } } },
        uri: { type: 'string', minLength: 1, maxLength: MAX_IMAGE_CHARS },
      },
    },
  ],
} as const;

const deploymentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'taskRoles'],
  properties: {
    protocolVersion,
    name: { type: 'string', pattern: ITEM_NAME_RE.source },
    taskRoles: {
      type: 'object',
      minProperties: 1,
      maxProperties: MAX_ROLES,
      propertyNames: { pattern: ROLE_NAME_RE.source },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { preCommands: commandList, postCommands: commandList },
      },
    },
  },
} as const;

/** The protocol v2 schema with our limits (plan §4.2 step 4). */
export const PROTOCOL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['protocolVersion', 'name', 'type', 'taskRoles'],
  properties: {
    protocolVersion,
    name: { type: 'string', pattern: JOB_NAME_RE.source },
    type: { enum: ['job'] },
    version: { type: ['string', 'number'] },
    contributor: { type: 'string' },
    description: { type: 'string' },
    prerequisites: { type: 'array', minItems: 1, maxItems: MAX_ITEMS, items: prerequisiteSchema },
    parameters: { type: 'object' },
    secrets: { type: 'object' },
    jobRetryCount: retryCount,
    taskRoles: {
      type: 'object',
      minProperties: 1,
      maxProperties: MAX_ROLES,
      propertyNames: { pattern: ROLE_NAME_RE.source },
      additionalProperties: roleSchema,
    },
    deployments: { type: 'array', minItems: 1, maxItems: MAX_ITEMS, items: deploymentSchema },
    defaults: { type: 'object', properties: { virtualCluster: reference, deployment: reference } },
    extras: { type: 'object' },
  },
} as const;

/** What each pattern means, for messages (the regex itself helps nobody). */
const PATTERN_TEXT: Record<string, string> = {
  [JOB_NAME_RE.source]: 'letters, digits, _ and -, 1 to 128 characters',
  [ITEM_NAME_RE.source]: 'letters, digits, _ and -, 1 to 128 characters',
  [ROLE_NAME_RE.source]: 'letters, digits and _, starting with a letter or _, at most 64 characters',
  [PORT_LABEL_RE.source]: 'letters, digits and _, starting with a letter or _, at most 64 characters',
};

const ajv = new Ajv({ strict: true, allErrors: false, allowUnionTypes: true, discriminator: true, verbose: true, coerceTypes: false, useDefaults: false });

/**
 * Compiles `schema` once; the returned check throws AppError VALIDATION_FAILED for the first
 * error, its message naming the field (`taskRoles.worker.instances must be >= 1`) and
 * `details.field` holding the path.
 * @param root how messages name the value itself (`the protocol`)
 * @param rootField `details.field` for an error at the root (`protocol`)
 */
export function compileChecker<T>(schema: object, root: string, rootField: string): (value: unknown) => T {
  const validate = ajv.compile(schema);
  return (value) => {
    if (validate(value)) return value as T;
    const err = validate.errors?.[0];
    const field = err === undefined ? '' : fieldOf(err);
    throw new AppError('VALIDATION_FAILED', err === undefined ? `${root} is invalid` : describeError(err, root), { details: { field: field === '' ? rootField : field } });
  };
}

/** `/taskRoles/worker/commands/0` → `taskRoles.worker.commands[0]`, plus the missing or extra key. */
function fieldOf(err: ErrorObject): string {
  const segments = err.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const prop = err.keyword === 'required' ? err.params.missingProperty : err.keyword === 'additionalProperties' ? err.params.additionalProperty : undefined;
  if (typeof prop === 'string') segments.push(prop);
  return formatPath(segments);
}

/** Joins keys as a field path: array indices as `[n]`, odd keys quoted. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number' || /^(0|[1-9][0-9]*)$/.test(s)) out += `[${s}]`;
    else {
      const key = s.length > 64 ? `${s.slice(0, 64)}…` : s;
      const part = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? key : JSON.stringify(key);
      out = out === '' ? part : `${out}.${part}`;
    }
  }
  return out;
}

function describeError(err: ErrorObject, root: string): string {
  const field = fieldOf(err);
  const name = field === '' ? root : field;
  const data: unknown = err.data;
  switch (err.keyword) {
    case 'required':
      return `${name} is required`;
    case 'additionalProperties':
      return `${name} is not an allowed field`;
    case 'pattern': {
      const meaning = PATTERN_TEXT[String(err.params.pattern)] ?? `must match ${String(err.params.pattern)}`;
      if (err.propertyName !== undefined) return `${name}: the name ${quote(err.propertyName)} is not allowed (${meaning})`;
      return `${name} ${quote(data)} is not allowed (${meaning})`;
    }
    case 'enum':
      return `${name} must be one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${name} must be ${JSON.stringify(err.params.allowedValue)}`;
    case 'discriminator':
      return err.params.error === 'mapping'
        ? `${name}.type must be one of "script", "output", "data", "dockerimage"`
        : `${name}.type must be a string`;
    case 'type': {
      const wanted = String(err.params.type).replace(',', ' or ');
      const article = /^[aeiou]/.test(wanted) ? 'an' : 'a';
      const got = typeof data === 'string' ? `, not the string ${quote(data)}` : '';
      return `${name} must be ${wanted === 'object' ? 'a mapping' : `${article} ${wanted}`}${got}`;
    }
    default:
      return `${name} ${err.message ?? 'is invalid'}`;
  }
}

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

function invalid(message: string, field: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { details: { field } });
}

const checkSchema = compileChecker<Protocol>(PROTOCOL_SCHEMA, 'the protocol', 'protocol');

/**
 * Checks a loaded protocol (from `loadProtocolYaml`): the null spellings of the `completion`
 * fields are read as null, then the schema, then what it cannot say (the original's cross checks
 * and our totals).
 * @returns the protocol, typed; a copy where a null spelling was rewritten, else `value` itself.
 * @throws AppError VALIDATION_FAILED naming the field: a schema error; a completion count of 0;
 *   more than 10,000 instances in all; a NUL byte in a command; two prerequisites of one type, or
 *   two deployments, with one name; a role's `dockerImage` / `data` / `output` / `script` naming no
 *   such prerequisite; `defaults.deployment` naming no deployment; a deployment naming no such role.
 */
export function validateProtocol(value: unknown): Protocol {
  const protocol = checkSchema(normalizeNullSpellings(value));
  checkProtocol(protocol);
  return protocol;
}

/** `completion.minFailedInstances: ~` (or '', null, Null, NULL) → null, without touching the input. */
function normalizeNullSpellings(value: unknown): unknown {
  if (!isRecord(value) || !isRecord(value.taskRoles)) return value;
  let roles: Record<string, unknown> | undefined;
  for (const [name, role] of Object.entries(value.taskRoles)) {
    if (!isRecord(role) || !isRecord(role.completion)) continue;
    const completion = role.completion;
    let fixed: Record<string, unknown> | undefined;
    for (const key of ['minFailedInstances', 'minSucceededInstances']) {
      const v = completion[key];
      if (typeof v === 'string' && NULL_SPELLINGS.has(v)) {
        fixed ??= { ...completion };
        fixed[key] = null;
      }
    }
    if (fixed !== undefined) {
      roles ??= { ...value.taskRoles };
      roles[name] = { ...role, completion: fixed };
    }
  }
  return roles === undefined ? value : { ...value, taskRoles: roles };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkProtocol(p: Protocol): void {
  let total = 0;
  for (const [name, role] of Object.entries(p.taskRoles)) {
    total += role.instances ?? 1;
    for (const key of ['minFailedInstances', 'minSucceededInstances'] as const) {
      if (role.completion?.[key] === 0) {
        throw invalid(`taskRoles.${name}.completion.${key} must be at least 1, -1 or null`, `taskRoles.${name}.completion.${key}`);
      }
    }
    checkNoNul(role.commands, `taskRoles.${name}.commands`);
  }
  if (total > MAX_INSTANCES) throw invalid(`taskRoles: ${total} instances in all; at most ${MAX_INSTANCES}`, 'taskRoles');

  // The original's messages, with the field in front.
  const byType = new Map<string, Set<string>>();
  (p.prerequisites ?? []).forEach((item, i) => {
    const names = byType.get(item.type) ?? new Set<string>();
    if (names.has(item.name)) throw invalid(`prerequisites[${i}]: Duplicate ${item.type} prerequisites ${item.name}.`, `prerequisites[${i}].name`);
    names.add(item.name);
    byType.set(item.type, names);
  });
  const deployments = new Set<string>();
  (p.deployments ?? []).forEach((item, i) => {
    if (deployments.has(item.name)) throw invalid(`deployments[${i}]: Duplicate deployments ${item.name}.`, `deployments[${i}].name`);
    deployments.add(item.name);
    for (const [role, commands] of Object.entries(item.taskRoles)) {
      if (!Object.hasOwn(p.taskRoles, role)) throw invalid(`deployments[${i}].taskRoles.${role}: there is no task role ${role}`, `deployments[${i}].taskRoles.${role}`);
      checkNoNul(commands.preCommands ?? [], `deployments[${i}].taskRoles.${role}.preCommands`);
      checkNoNul(commands.postCommands ?? [], `deployments[${i}].taskRoles.${role}.postCommands`);
    }
  });
  for (const [name, role] of Object.entries(p.taskRoles)) {
    for (const field of ['dockerImage', 'data', 'output', 'script'] as const) {
      const ref = role[field];
      if (ref !== undefined && !(byType.get(field.toLowerCase())?.has(ref) ?? false)) {
        throw invalid(`taskRoles.${name}.${field}: Prerequisite ${ref} does not exist.`, `taskRoles.${name}.${field}`);
      }
    }
  }
  const deployment = p.defaults?.deployment;
  if (deployment !== undefined && !deployments.has(deployment)) {
    throw invalid(`defaults.deployment: Default deployment ${deployment} does not exist.`, 'defaults.deployment');
  }
}

function checkNoNul(commands: readonly string[], field: string): void {
  const i = commands.findIndex((c) => c.includes('\0'));
  if (i >= 0) throw invalid(`${field}[${i}] holds a NUL byte`, `${field}[${i}]`);
}
