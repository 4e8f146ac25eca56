/**
 * The spec of a `teraslice` job: a Teraslice job config, validated, with every default filled in
 * (what Teraslice stores in an execution record), plus our `recovery` field. The Teraslice facade
 * calls `normalizeTerasliceSpec` before it submits; a native client may submit a normalised spec
 * directly (the registry checks it against TERASLICE_SPEC_SCHEMA, then `checkTerasliceSpec` runs
 * the checks a schema cannot express).
 *
 * Deviations, on purpose:
 * - `workers` defaults to 5: Teraslice uses min(os.cpus().length, 5), which would make the stored
 *   spec depend on the machine that normalised it. It only caps the job's parallelism here.
 * - `slicers` above 1 is accepted and recorded, but one slicer (the job's open plan) cuts slices.
 * - `assets` is recorded only: operations come from the table in operations.ts, never from code
 *   an asset bundle brings.
 * - Undeclared keys are dropped (Teraslice keeps them and logs a warning); each gives a warning.
 */
import { AppError } from '../../errors.ts';
import type { FileRoots } from '../jobType.ts';
import { resolveInside } from '../paths.ts';
import { applyFields, fail, MAX_ENTRIES, type FieldScope } from './fields.ts';
import { JOB_FIELDS, type LOG_LEVELS } from './jobFields.ts';
import { normalizeOperations } from './opConfigs.ts';
import { MAX_SLICE_RECORDS } from './operations.ts';
import type { OpConfig, ReaderConfig } from './opTypes.ts';
import { normalizeRecovery } from './recovery.ts';
import { generatorSliceSize } from './sliceSize.ts';

export type * from './opTypes.ts';
export { TERASLICE_SPEC_SCHEMA } from './specSchema.ts';
export { JOB_FIELDS, MAX_RETRIES, MAX_WORKERS } from './jobFields.ts';
export { MAX_RECOVERY_SLICES } from './recovery.ts';

/** An entry of `apis`: only its name is kept (its settings are folded into the operations that name it). */
export type ApiConfig = { _name: string };

/**
 * The engine's own field, set by the facade's `_recover`: the slices of an earlier execution to run
 * again first (their payloads as it planned them); then, only if `resume`, slicing goes on from
 * `cursor` (that execution's plan cursor; absent: its slicer had finished, nothing more).
 */
/** Where a re-run slice first ran: its output file keeps that slice's name, so a recovery rewrites it instead of writing a second copy. */
export type SliceOrigin = { exId: string; taskId: string };
export type RecoverySpec = { slices: { payload: unknown; origin?: SliceOrigin }[]; resume: boolean; cursor?: unknown };

/** A normalised Teraslice job config (every field present). */
export type TerasliceSpec = {
  name: string;
  lifecycle: 'once' | 'persistent';
  workers: number;
  slicers: number;
  max_retries: number;
  probation_window: number;
  analytics: boolean;
  active: boolean;
  autorecover: boolean;
  assets: string[] | null;
  apis: ApiConfig[];
  stateful: boolean;
  labels: Record<string, string> | null;
  env_vars: Record<string, string>;
  log_level: (typeof LOG_LEVELS)[number] | null;
  operations: OpConfig[];
  recovery?: RecoverySpec;
};

const jobScope = (name: string, warnings: string[]): FieldScope => ({ prefix: `Validation failed for job config: ${name} - `, shown: 'job', warnings });

/**
 * Validates a Teraslice job config and fills in every default.
 * @returns the normalised spec and a warning for each undeclared key that was dropped.
 * @throws AppError VALIDATION_FAILED with Teraslice's message where it has one (an unknown
 *   operation: "Unable to find module for operation: <name>", naming the ones we run).
 */
export function normalizeTerasliceSpec(raw: unknown): { spec: TerasliceSpec; warnings: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AppError('VALIDATION_FAILED', 'a Teraslice job config must be a JSON object');
  const body = raw as Record<string, unknown>;
  const warnings: string[] = [];
  const nameOnly = applyFields({ name: body.name }, { name: JOB_FIELDS.name! }, jobScope('Custom Job', []));
  const scope = jobScope(nameOnly.name as string, warnings);
  const fields = applyFields(body, JOB_FIELDS, scope, ['apis', 'operations', 'recovery']);
  const { apis, apiSettings } = normalizeApis(body.apis, scope);
  const operations = normalizeOperations(body.operations, apiSettings, scope);
  const spec = { ...fields, apis, operations } as TerasliceSpec;
  checkAcrossOps(spec, scope);
  if (body.recovery !== undefined) spec.recovery = normalizeRecovery(body.recovery, operations[0] as ReaderConfig, scope);
  return { spec, warnings };
}

/** `apis`: each needs a unique `_name`; its other settings go to the operations whose `_api_name` names it. */
function normalizeApis(raw: unknown, scope: FieldScope): { apis: ApiConfig[]; apiSettings: Map<string, Record<string, unknown>> } {
  const apiSettings = new Map<string, Record<string, unknown>>();
  if (raw === undefined || raw === null) return { apis: [], apiSettings };
  if (!Array.isArray(raw)) throw fail(scope, 'apis', 'must be of type array');
  if (raw.length > MAX_ENTRIES) throw fail(scope, 'apis', `must have at most ${MAX_ENTRIES} entries`);
  const apis: ApiConfig[] = [];
  for (const entry of raw as unknown[]) {
    const name = (entry as { _name?: unknown } | null)?._name;
    if (typeof entry !== 'object' || entry === null || typeof name !== 'string' || name === '' || name.length > 256) throw fail(scope, 'apis', 'API requires an _name');
    if (apiSettings.has(name)) throw fail(scope, 'apis', `Duplicate API configurations for ${name} found`);
    const settings = { ...(entry as Record<string, unknown>) };
    delete settings._name;
    apiSettings.set(name, settings);
    apis.push({ _name: name });
  }
  return { apis, apiSettings };
}

/** Sizing and the checks Teraslice's job validation makes across fields. */
function checkAcrossOps(spec: TerasliceSpec, scope: FieldScope): void {
  const reader = spec.operations[0]!;
  if (reader._op === 'file_reader' && spec.lifecycle !== 'once') {
    throw fail(scope, 'lifecycle', 'file_reader runs in once jobs only (lifecycle persistent is not supported with it)');
  }
  if (reader._op === 'data_generator') {
    const perSlice = generatorSliceSize(spec);
    if (perSlice > MAX_SLICE_RECORDS) {
      throw fail(scope, 'operations', `a data_generator slice would hold ${perSlice} records, more than ${MAX_SLICE_RECORDS}; give the last operation a smaller size (e.g. file_exporter size) or lower the generator's size`);
    }
  }
  for (const [i, op] of spec.operations.entries()) {
    if ('_api_name' in op && op._api_name !== undefined && !spec.apis.some((a) => a._name === op._api_name)) {
      throw fail(scope, `operations[${i}]`, `Operation ${op._op} refers to api "${op._api_name}" which is not in apis`);
    }
  }
}

/**
 * The semantic checks the registry's schema cannot make, on a spec that passed the schema: it must
 * normalise without errors, and every path must stay inside the files root through symlinks too.
 * @throws AppError VALIDATION_FAILED or PATH_OUTSIDE_ROOT.
 */
export function checkTerasliceSpec(spec: TerasliceSpec, roots: FileRoots): void {
  normalizeTerasliceSpec(spec);
  for (const op of spec.operations) {
    if (op._op === 'file_reader' || op._op === 'file_exporter') resolveInside(roots.dataDir, op.path);
  }
}
