import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { AppError, isAppError } from '../errors.ts';
import type { FileRoots, JobType } from './jobType.ts';
import type { Caller } from '../serviceTypes.ts';

export { builtinJobTypes } from './builtin.ts';

/** Ajv errors kept in an INVALID_SPEC error's details. */
const MAX_DETAIL_ERRORS = 5;
const TYPE_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** The job types a process knows, with their compiled spec validators. */
export interface JobTypeRegistry {
  get(name: string): JobType | undefined;
  /** Registered names, sorted. */
  names(): string[];
  /**
   * Checks `spec` against the type's JSON Schema (no coercion, no defaults filled in, so the
   * stored spec is what the user sent) and then its `checkSpec`.
   * With `caller` (a submission, a re-run), also the type's `admitSpec`.
   * @returns `spec`, unchanged, typed as an object.
   * @throws AppError UNKNOWN_JOB_TYPE (message lists the known names), INVALID_SPEC (message names
   *   the failing field, details carry the trimmed Ajv errors) or PATH_OUTSIDE_ROOT.
   */
  validateSpec(name: string, spec: unknown, roots: FileRoots, caller?: Caller): Record<string, unknown>;
}

/**
 * Builds a registry; each schema is compiled once, here. Throws on a duplicate or malformed
 * name and on a schema with an object that does not set `additionalProperties: false`.
 */
export function createJobTypeRegistry(types: readonly JobType[]): JobTypeRegistry {
  const ajv = new Ajv({ strict: true, coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false });
  const byName = new Map<string, { type: JobType; validate: ValidateFunction }>();
  for (const type of types) {
    if (!TYPE_NAME.test(type.name)) throw new Error(`job type name ${JSON.stringify(type.name)} must match ${TYPE_NAME}`);
    if (byName.has(type.name)) throw new Error(`job type ${type.name} is registered twice`);
    assertClosed(type.specSchema, type.name);
    byName.set(type.name, { type, validate: ajv.compile(type.specSchema) });
  }
  const names = [...byName.keys()].sort();

  return {
    get: (name) => byName.get(name)?.type,
    names: () => [...names],
    validateSpec(name, spec, roots, caller) {
      const entry = byName.get(name);
      if (entry === undefined) {
        throw new AppError('UNKNOWN_JOB_TYPE', `unknown job type ${JSON.stringify(name)}; known types: ${names.join(', ')}`);
      }
      if (!entry.validate(spec)) {
        const errors = entry.validate.errors ?? [];
        const first = errors[0];
        const message = first === undefined ? 'spec is invalid' : describe(first);
        throw new AppError('INVALID_SPEC', message, { details: { field: fieldOf(first), errors: errors.slice(0, MAX_DETAIL_ERRORS).map(trim) } });
      }
      const checked = spec as Record<string, unknown>;
      try {
        entry.type.checkSpec?.(checked, roots);
      } catch (e) {
        if (isAppError(e)) throw e;
        // e.g. EACCES while resolving a path: the spec names something we cannot use.
        throw new AppError('INVALID_SPEC', `spec cannot be checked: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (caller !== undefined) entry.type.admitSpec?.(checked, caller);
      return checked;
    },
  };
}

/** Every object schema must be closed, so a typo in a field name is an error, not ignored. */
function assertClosed(schema: unknown, where: string): void {
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Record<string, unknown>;
  if ((s.type === 'object' || 'properties' in s) && s.additionalProperties !== false) {
    throw new Error(`job type ${where}: every object schema needs additionalProperties: false`);
  }
  if (typeof s.properties === 'object' && s.properties !== null) {
    for (const [key, sub] of Object.entries(s.properties)) assertClosed(sub, `${where}.${key}`);
  }
  if (s.items !== undefined) assertClosed(s.items, `${where}[]`);
}

/** `/a/0/b` → `spec.a.0.b` (JSON Pointer unescaped). */
function fieldOf(err: ErrorObject | undefined): string {
  const segments = (err?.instancePath ?? '').split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const prop = err?.keyword === 'required' ? err.params.missingProperty : err?.keyword === 'additionalProperties' ? err.params.additionalProperty : undefined;
  return ['spec', ...segments, ...(typeof prop === 'string' ? [prop] : [])].join('.');
}

function describe(err: ErrorObject): string {
  const field = fieldOf(err);
  if (err.keyword === 'required') return `${field} is required`;
  if (err.keyword === 'additionalProperties') return `${field} is not an allowed field`;
  if (err.keyword === 'pattern') return `${field} contains characters that are not allowed`;
  return `${field} ${err.message ?? 'is invalid'}`;
}

function trim(err: ErrorObject): { path: string; keyword: string; message: string; params: Record<string, unknown> } {
  return { path: err.instancePath, keyword: err.keyword, message: err.message ?? '', params: err.params as Record<string, unknown> };
}
