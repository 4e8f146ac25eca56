/**
 * Normalising a job's `operations`: each `_op` must be one we run (operations.ts), its declared
 * fields get their defaults, undeclared keys are dropped with a warning; the reader comes first.
 */
import { AppError } from '../../errors.ts';
import { API_NAME_FIELD, COMMON_FIELDS, opDef, SUPPORTED_OPS, unknownOpMessage, type OpDef } from './operations.ts';
import { applyFields, fail, FieldError, type FieldScope } from './fields.ts';
import type { DataGeneratorConfig, OpConfig } from './opTypes.ts';

/** Most operations a job may have. */
export const MAX_OPERATIONS = 100;

const READERS = SUPPORTED_OPS.filter((op) => opDef(op)?.kind === 'reader');

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'Array';
  return typeof v === 'object' ? 'Object' : typeof v;
}

/**
 * @param apiSettings the settings of each entry of `apis` by name, folded under an operation whose
 *   `_api_name` names it (the operation's own keys win), as file-assets v3 did with its APIs.
 */
export function normalizeOperations(raw: unknown, apiSettings: ReadonlyMap<string, Record<string, unknown>>, job: FieldScope): OpConfig[] {
  if (!Array.isArray(raw) || raw.length < 2) throw fail(job, 'operations', 'Operations need to be of type array with at least two operations in it');
  if (raw.length > MAX_OPERATIONS) throw fail(job, 'operations', `at most ${MAX_OPERATIONS} operations are supported`);
  const ops = (raw as unknown[]).map((entry, i) => normalizeOp(entry, i, apiSettings, job));
  ops.forEach((op, i) => {
    const kind = opDef(op._op)!.kind;
    if (i === 0 && kind !== 'reader') throw fail(job, 'operations', `the first operation must be a reader (${READERS.join(', ')}), got ${op._op}`);
    if (i > 0 && kind === 'reader') throw fail(job, 'operations', `${op._op} is a reader and can only be the first operation`);
    if (kind === 'exporter' && i !== ops.length - 1) throw fail(job, 'operations', `${op._op} must be the last operation here`);
  });
  checkGenerator(ops[0]!, job);
  return ops;
}

function normalizeOp(entry: unknown, i: number, apiSettings: ReadonlyMap<string, Record<string, unknown>>, job: FieldScope): OpConfig {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw fail(job, 'operations', `Invalid Operation config in operations, got ${typeName(entry)}`);
  }
  const given = entry as Record<string, unknown>;
  const name = given._op;
  if (typeof name !== 'string') throw fail(job, `operations[${i}]._op`, 'This field is required and must be of type string');
  const def: OpDef | undefined = opDef(name);
  if (def === undefined) throw new AppError('VALIDATION_FAILED', unknownOpMessage(name), { details: { field: `operations[${i}]._op` } });
  const scope: FieldScope = { prefix: `Validation failed for operation config: ${name} - `, shown: `operation ${name} (operations[${i}])`, warnings: job.warnings };
  let apiName: string | undefined;
  if (given._api_name !== undefined && given._api_name !== null) {
    try {
      apiName = API_NAME_FIELD.parse(given._api_name) as string;
    } catch (e) {
      if (e instanceof FieldError) throw fail(scope, '_api_name', e.message);
      throw e;
    }
  }
  let merged = apiName !== undefined && apiSettings.has(apiName) ? { ...apiSettings.get(apiName), ...given } : given;
  // older specs (elasticsearch_data_generator's era) name the date field `date_field_name`
  if (name === 'data_generator' && merged['date_field_name'] !== undefined && merged['date_key'] === undefined) {
    const { date_field_name: dateKey, ...rest } = merged;
    merged = { ...rest, date_key: dateKey };
  }
  const fields = applyFields(merged, { ...COMMON_FIELDS, ...def.fields }, scope, ['_op', '_api_name']);
  return { _op: name, ...fields, ...(apiName !== undefined ? { _api_name: apiName } : {}) } as OpConfig;
}

/** data_generator's own job-level checks (standard-assets' `validateJob` and schema). */
function checkGenerator(op: OpConfig, job: FieldScope): void {
  if (op._op !== 'data_generator') return;
  const scope: FieldScope = { ...job, prefix: 'Validation failed for operation config: data_generator - ' };
  if (op.id_start_key !== null && op.set_id === null) {
    throw fail(scope, 'id_start_key', 'Invalid data_generator configuration, id_start_key must be used with set_id parameter, please set the missing parameters');
  }
  if (op.stress_test && op.delay > 0) throw fail(scope, 'delay', 'delay cannot be used with stress_test');
  const start = dateOf(op, 'start', scope);
  const end = dateOf(op, 'end', scope);
  if (start !== undefined && end !== undefined && start >= end) throw fail(scope, 'start', 'Invalid start and end times, start must be before end');
}

function dateOf(op: DataGeneratorConfig, key: 'start' | 'end', scope: FieldScope): number | undefined {
  const v = op[key];
  if (v === null) return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw fail(scope, key, `is not a valid date: value was ${JSON.stringify(v)}`);
  return t;
}
