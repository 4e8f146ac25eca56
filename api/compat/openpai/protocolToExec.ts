/**
 * OpenPAI protocol v2 text → an `exec` job spec (docs/research/openpai-facade-plan.md §4.2): load
 * (protocolYaml.ts), validate (protocolSchema.ts), render the `<% … %>` names in each role's
 * commands as the original server did (`middlewares/v2/protocol.js` `render`, mustache tags
 * `<%` `%>`), add the default deployment's pre- and postCommands, and map the fields.
 *
 * The commands stay a list instead of the original's `' && '`-joined string: the engine runs them
 * with `set -e`, which stops at the first failure as `&&` does.
 *
 * Secrets never enter the spec (it is stored in the job's events and shown by the native API): each
 * command is rendered twice, with the secrets (what runs) and with every secret value as `******`
 * (what the spec holds and shows). When the two differ, the commands that run and the secret values
 * go in `sealed`, for the caller to keep in the document store and name in `spec.sealed`
 * (engine/jobtypes/exec/sealed.ts).
 */
import { AppError, MAX_COMMAND_BYTES, MAX_COMMANDS, MAX_SOURCE_CHARS, type ExecRole, type ExecSealedDocument, type ExecSpec } from '../../../engine/index.ts';
import { JOB_NAME_RE, validateProtocol, type ProtocolPrerequisite, type ProtocolTaskRole } from './protocolSchema.ts';
import { loadProtocolYaml, maskSecrets, MASKED_SECRETS } from './protocolYaml.ts';

export { JOB_NAME_RE };


/**
 * The exec spec with the job-level `jobRetryCount` (engine change E2, plan §4.3), which ExecSpec
 * does not declare yet; once it does, this is ExecSpec itself.
 */
export type ExecSpecTarget = ExecSpec & { jobRetryCount?: number };

/** What the facade submits for one OpenPAI job. */
export interface ExecSubmission {
  /** The OpenPAI job name (label `openpai/name`, `spec.jobName`). */
  name: string;
  /** `defaults.virtualCluster`, or `default`. */
  virtualCluster: string;
  spec: ExecSpecTarget;
}

export interface ProtocolToExecOptions {
  /** The submitting user (`spec.userName`, `PAI_USER_NAME`). */
  userName: string;
}

/** What protocolToExec gives: the submission, the protocol as `/config` shows it, and the sealed commands when secrets are rendered into any. */
export interface ProtocolSubmission extends ExecSubmission {
  /** The validated protocol, its `secrets` masked as `/config` shows them. */
  protocol: Record<string, unknown>;
  /**
   * Set when a command renders differently with the secrets than with them masked: the commands
   * that run (per role, in the spec's order) and the secret values to hide in their output. The
   * spec's commands are then the masked ones; `spec.sealed` is the caller's to set.
   */
  sealed?: Omit<ExecSealedDocument, 'owner'>;
}

/**
 * Converts a protocol v2 text into an exec submission.
 * @returns the submission, the protocol as shown, and the sealed commands when secrets render into a command.
 * @throws AppError VALIDATION_FAILED naming the field or the YAML position: text the YAML loader
 *   refuses (protocolYaml.ts), a protocol the schema or the cross checks refuse (protocolSchema.ts),
 *   a `<% %>` tag other than a name or not closed, a command that renders empty or longer than
 *   64 KiB, more than 100 commands once the deployment's are added, a masked text over 100 KiB.
 */
export function protocolToExec(text: string, opts: ProtocolToExecOptions): ProtocolSubmission {
  const protocol = validateProtocol(loadProtocolYaml(text));
  const source = maskSecrets(text);
  if (source.length > MAX_SOURCE_CHARS) throw invalid(`the protocol is longer than ${MAX_SOURCE_CHARS} characters once its secrets are masked`, 'protocol');

  const prerequisites = indexPrerequisites(protocol.prerequisites ?? []);
  const deploymentName = protocol.defaults?.deployment;
  const deploymentIndex = deploymentName === undefined ? -1 : (protocol.deployments ?? []).findIndex((d) => d.name === deploymentName);
  const deployment = deploymentIndex < 0 ? undefined : protocol.deployments?.[deploymentIndex];

  const shownSecrets = maskValues(protocol.secrets);
  const sealedCommands: string[][] = [];
  let anySealed = false;
  const taskRoles = Object.entries(protocol.taskRoles).map(([name, role]): ExecRole => {
    const field = `taskRoles.${name}`;
    const instances = role.instances ?? 1;
    const extra = deployment?.taskRoles[name];
    const commands = [...(extra?.preCommands ?? []), ...role.commands, ...(extra?.postCommands ?? [])];
    if (commands.length > MAX_COMMANDS) {
      throw invalid(`${field}.commands: ${commands.length} commands with the deployment's pre- and postCommands; at most ${MAX_COMMANDS}`, `${field}.commands`);
    }
    const context: Record<string, unknown> = {
      $parameters: protocol.parameters,
      $secrets: protocol.secrets,
      $script: prerequisiteRef(prerequisites, 'script', role.script),
      $output: prerequisiteRef(prerequisites, 'output', role.output),
      $data: prerequisiteRef(prerequisites, 'data', role.data),
    };
    const fields = commands.map((_, i) => commandField(name, role, deploymentIndex, extra, i));
    const rendered = commands.map((c, i) => renderCommand(c, context, fields[i]!));
    const shownContext = { ...context, $secrets: shownSecrets };
    const display = commands.map((c, i) => renderShownCommand(c, shownContext, fields[i]!));
    if (display.some((c, i) => c !== rendered[i])) anySealed = true;
    sealedCommands.push(rendered);
    const resources = role.resourcePerInstance;
    const out: ExecRole = {
      name,
      taskNumber: instances,
      commands: display,
      minFailedInstances: completionCount(role.completion?.minFailedInstances, 1, instances),
      minSucceededInstances: completionCount(role.completion?.minSucceededInstances, null, instances),
      resources: {
        cpu: resources.cpu,
        memoryMb: resources.memoryMB,
        gpu: resources.gpu,
        ...(resources.ports === undefined ? {} : { ports: { ...resources.ports } }),
      },
    };
    const image = prerequisiteRef(prerequisites, 'dockerimage', role.dockerImage)?.uri; // checked to exist
    if (typeof image === 'string') out.image = image;
    if (role.taskRetryCount !== undefined) out.taskRetryCount = role.taskRetryCount;
    return out;
  });

  const spec: ExecSpecTarget = { taskRoles, jobName: protocol.name, userName: opts.userName, source: { format: 'openpai-v2', text: source } };
  if ((protocol.jobRetryCount ?? 0) > 0) spec.jobRetryCount = protocol.jobRetryCount;
  const shown: Record<string, unknown> = { ...protocol };
  if (Object.hasOwn(shown, 'secrets')) shown.secrets = MASKED_SECRETS;
  const submission: ProtocolSubmission = { name: protocol.name, virtualCluster: protocol.defaults?.virtualCluster ?? 'default', spec, protocol: shown };
  if (anySealed) submission.sealed = { commands: sealedCommands, redact: secretValues(protocol.secrets) };
  return submission;
}

/** `secrets` with every value (string, number, boolean) as `******`, its shape kept (null stays null). */
export function maskValues(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map(maskValues);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValues(v)]));
  return MASKED_SECRETS;
}

/** Every value in `secrets` as a command would show it (numbers and booleans as text), once, without empty ones. */
export function secretValues(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object') Object.values(v).forEach(walk);
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.add(String(v));
  };
  walk(value);
  out.delete('');
  return [...out];
}

/**
 * A completion count as the engine takes it: OpenPAI's -1 is null, a count above the role's
 * instances could never be reached (FrameworkController treats it as unset), so null too.
 */
export function completionCount(value: number | null | undefined, fallback: number | null, instances: number): number | null {
  const v = value === undefined ? fallback : value;
  return v === null || v < 1 || v > instances ? null : v;
}

type PrerequisiteIndex = Map<string, Map<string, ProtocolPrerequisite>>;

function indexPrerequisites(items: readonly ProtocolPrerequisite[]): PrerequisiteIndex {
  const byType: PrerequisiteIndex = new Map();
  for (const item of items) {
    const names = byType.get(item.type) ?? new Map<string, ProtocolPrerequisite>();
    names.set(item.name, item);
    byType.set(item.type, names);
  }
  return byType;
}

function prerequisiteRef(index: PrerequisiteIndex, type: string, name: string | undefined): ProtocolPrerequisite | undefined {
  return name === undefined ? undefined : index.get(type)?.get(name);
}

/** Where the i-th command of the combined list came from, for messages. */
function commandField(name: string, role: ProtocolTaskRole, deployment: number, extra: { preCommands?: string[] } | undefined, i: number): string {
  const pre = extra?.preCommands?.length ?? 0;
  if (i < pre) return `deployments[${deployment}].taskRoles.${name}.preCommands[${i}]`;
  if (i < pre + role.commands.length) return `taskRoles.${name}.commands[${i - pre}]`;
  return `deployments[${deployment}].taskRoles.${name}.postCommands[${i - pre - role.commands.length}]`;
}

const OPEN = '<%';
const CLOSE = '%>';
/** Mustache tag types the original parsed and then dropped (sections, partials, unescaped, delimiters). */
const UNSUPPORTED_TAG = new Set(['#', '^', '/', '>', '{', '&', '=']);

/**
 * Renders one command: text is copied, `<% name %>` is replaced by the value at that name
 * (`$parameters.a.b[0]`: `[n]` is read as `.n`; own properties only; missing or null → ''),
 * `<%! comment %>` is dropped. The result is trimmed, as the original trimmed each command.
 */
export function renderCommand(template: string, context: Record<string, unknown>, field: string): string {
  return render(template, context, field, false);
}

/**
 * Renders one command for display, with masked secrets: like renderCommand, except that what only
 * the masks could make wrong is made right instead of refused (`******` is longer than a short
 * secret: a command past 64 KiB is cut; one that renders empty reads `******`). Call after
 * renderCommand accepted the same template with the real values.
 */
export function renderShownCommand(template: string, context: Record<string, unknown>, field: string): string {
  return render(template, context, field, true);
}

function render(template: string, context: Record<string, unknown>, field: string, lenient: boolean): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const open = template.indexOf(OPEN, pos);
    if (open < 0) {
      out += template.slice(pos);
      break;
    }
    out += template.slice(pos, open);
    const close = template.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) throw invalid(`${field}: the tag <% at character ${open + 1} is not closed with %>`, field);
    const inner = template.slice(open + OPEN.length, close).trim();
    const kind = inner.charAt(0);
    if (UNSUPPORTED_TAG.has(kind)) {
      throw invalid(`${field}: <%${kind} … %> is not supported; only names such as <% $parameters.x %> are rendered`, field);
    }
    if (kind !== '!') out += show(lookup(context, inner), MAX_COMMAND_BYTES - out.length, field);
    if (out.length > MAX_COMMAND_BYTES) break;
    pos = close + CLOSE.length;
  }
  let result = out.trim();
  if (lenient) {
    result = result.slice(0, MAX_COMMAND_BYTES).trim();
    if (result === '') result = MASKED_SECRETS;
  }
  if (result.length > MAX_COMMAND_BYTES) throw invalid(`${field} is longer than ${MAX_COMMAND_BYTES} characters once rendered`, field);
  if (result === '') throw invalid(`${field} is empty once rendered`, field);
  if (result.includes('\0')) throw invalid(`${field} holds a NUL byte once rendered`, field);
  return result;
}

/** The value at a dotted name, through own properties only (never the prototype chain). */
function lookup(context: Record<string, unknown>, name: string): unknown {
  if (name === '') return undefined;
  const parts = name.replace(/\[(\d+)\]/g, '.$1').split('.');
  let at: unknown = context;
  for (const part of parts) {
    if (part === '' || at === null || at === undefined) return undefined;
    if (typeof at === 'object') {
      if (!Object.hasOwn(at, part)) return undefined;
      at = (at as Record<string, unknown>)[part];
    } else if (typeof at === 'string') {
      at = part === 'length' ? at.length : /^\d+$/.test(part) ? at[Number(part)] : undefined;
    } else {
      return undefined;
    }
  }
  return at;
}

/**
 * A value as the original's `result += value` wrote it: null or missing → '', arrays joined with
 * ',', mappings → `[object Object]`; except that a whole prerequisite (`<% $script %>`) is its
 * `uri`. Stops early once longer than `room` (the caller then refuses the command).
 */
function show(value: unknown, room: number, field: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    let s = '';
    for (let i = 0; i < value.length && s.length <= room; i++) s += (i > 0 ? ',' : '') + show(value[i], room - s.length, field);
    return s;
  }
  if (isPrerequisite(value)) return show(value.uri, room, field);
  return '[object Object]';
}

function isPrerequisite(v: unknown): v is ProtocolPrerequisite {
  return typeof v === 'object' && v !== null && Object.hasOwn(v, 'type') && Object.hasOwn(v, 'uri') && Object.hasOwn(v, 'name');
}

function invalid(message: string, field: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { details: { field } });
}
