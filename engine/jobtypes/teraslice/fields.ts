/**
 * Field definitions for Teraslice configs (the job and each operation): one place holds a field's
 * default, its JSON Schema and the check of a given value, so the normalised spec and the schema
 * that re-accepts it cannot drift apart. Messages follow Teraslice's formats where it has them
 * ("must be valid integer greater than zero").
 */
import { AppError } from '../../errors.ts';

/** A value a field refuses; the caller adds where (job or operation, field name). */
export class FieldError extends Error {}

/** Longest plain string a config field may hold. */
export const MAX_STRING_LENGTH = 1024;
/** Most entries in an array or map field (assets, env_vars, labels, apis). */
export const MAX_ENTRIES = 100;

type Schema = Readonly<Record<string, unknown>>;

/** One config field. `required` fields have no default. */
export interface Field<T = unknown> {
  readonly required?: true;
  readonly default?: T;
  /** JSON Schema of the normalised value. */
  readonly schema: Schema;
  /** Checks a given value (`null` included) and answers its normalised form; throws FieldError. */
  parse(value: unknown): T;
}

const describe = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.slice(0, 64)) : JSON.stringify(v) ?? String(v));

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** An integer in [min, max]; `nullable` also takes null (kept as null). */
export function integer(opts: { min: number; max: number; default?: number | null; nullable?: boolean; message?: string }): Field<number | null> {
  const message = opts.message ?? (opts.min === 1 ? 'must be valid integer greater than zero' : opts.min === 0 ? 'must be valid integer greater than or equal to zero' : `must be an integer >= ${opts.min}`);
  return {
    ...(opts.default !== undefined ? { default: opts.default } : { required: true as const }),
    schema: { type: 'integer', minimum: opts.min, maximum: opts.max, ...(opts.nullable ? { nullable: true } : {}) },
    parse(v) {
      if (v === null && opts.nullable) return null;
      if (!isInt(v) || v < opts.min) throw new FieldError(`${message}: value was ${describe(v)}`);
      if (v > opts.max) throw new FieldError(`must be at most ${opts.max}: value was ${v}`);
      return v;
    },
  };
}

/** A number (fractions allowed) in [min, max]. */
export function number(opts: { min: number; max: number; default: number }): Field<number> {
  return {
    default: opts.default,
    schema: { type: 'number', minimum: opts.min, maximum: opts.max },
    parse(v) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < opts.min || v > opts.max) {
        throw new FieldError(`must be a number from ${opts.min} to ${opts.max}: value was ${describe(v)}`);
      }
      return v;
    },
  };
}

export function boolean(def: boolean): Field<boolean> {
  return {
    default: def,
    schema: { type: 'boolean' },
    parse(v) {
      if (typeof v !== 'boolean') throw new FieldError(`must be of type Boolean: value was ${describe(v)}`);
      return v;
    },
  };
}

/** A bounded string; `default: null` makes it nullable. */
export function string(opts: { default?: string | null; maxLength?: number; minLength?: number } = {}): Field<string | null> {
  const maxLength = opts.maxLength ?? MAX_STRING_LENGTH;
  const minLength = opts.minLength ?? 0;
  const nullable = opts.default === null;
  return {
    ...(opts.default !== undefined ? { default: opts.default } : { required: true as const }),
    schema: { type: 'string', minLength, maxLength, ...(nullable ? { nullable: true } : {}) },
    parse(v) {
      if (v === null && nullable) return null;
      if (typeof v !== 'string') throw new FieldError('This field is required and must be of type string');
      if (v.length < minLength) throw new FieldError('must not be empty');
      if (v.length > maxLength) throw new FieldError(`must be at most ${maxLength} characters long`);
      return v;
    },
  };
}

/**
 * One of `values`. `refused` names values Teraslice knows but we do not run, with the reason.
 * `nullAs`: a null given is taken as that value (Teraslice fields whose default null means it).
 */
export function oneOf<T extends string | null>(values: readonly T[], opts: { default: T; refused?: Readonly<Record<string, string>>; nullAs?: T }): Field<T> {
  const nullable = values.includes(null as T);
  const strings = values.filter((v) => v !== null);
  return {
    default: opts.default,
    schema: { type: 'string', enum: [...values], ...(nullable ? { nullable: true } : {}) },
    parse(v) {
      if (v === null && opts.nullAs !== undefined) return opts.nullAs;
      if (values.includes(v as T)) return v as T;
      const refused = typeof v === 'string' && opts.refused !== undefined && Object.hasOwn(opts.refused, v) ? opts.refused[v] : undefined;
      if (refused !== undefined) throw new FieldError(refused);
      throw new FieldError(`must be one of the following: ${strings.join(',')}${nullable ? ' (or null)' : ''}: value was ${describe(v)}`);
    },
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** Milliseconds, given as an integer or a string such as "5 minutes" or "100ms" (convict's `duration`). */
export function duration(opts: { default: number; max: number }): Field<number> {
  return {
    default: opts.default,
    schema: { type: 'integer', minimum: 0, maximum: opts.max },
    parse(v) {
      let ms: number | undefined;
      if (isInt(v)) ms = v;
      else if (typeof v === 'string' && v.length <= 64) {
        const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v);
        const unit = m?.[2] === '' ? 1 : DURATION_UNITS[(m?.[2] ?? '').toLowerCase()];
        if (m !== null && unit !== undefined) ms = Number(m[1]) * unit;
      }
      if (ms === undefined || ms < 0) throw new FieldError(`must be a positive integer or human readable string (e.g. 3000, "5 minutes"): value was ${describe(v)}`);
      if (ms > opts.max) throw new FieldError(`must be at most ${opts.max} ms: value was ${describe(v)}`);
      return ms;
    },
  };
}

/** null, or an array of bounded strings (Teraslice's `assets` messages). */
export function stringArrayOrNull(): Field<string[] | null> {
  return {
    default: null,
    schema: { type: 'array', nullable: true, maxItems: MAX_ENTRIES, items: { type: 'string', maxLength: MAX_STRING_LENGTH } },
    parse(v) {
      if (v === null) return null;
      if (!Array.isArray(v)) throw new FieldError('assets need to be of type array');
      if (!v.every((s) => typeof s === 'string')) throw new FieldError('assets needs to be an array of strings');
      if (v.length > MAX_ENTRIES) throw new FieldError(`must have at most ${MAX_ENTRIES} entries`);
      if (v.some((s: string) => s.length > MAX_STRING_LENGTH)) throw new FieldError(`entries must be at most ${MAX_STRING_LENGTH} characters long`);
      return [...(v as string[])];
    },
  };
}

/** A string → string map (`env_vars`, `labels`); `nullable` keeps null (labels' default). */
export function stringMap(opts: { default: Record<string, string> | null; nonEmpty: boolean }): Field<Record<string, string> | null> {
  const nullable = opts.default === null;
  return {
    default: opts.default,
    schema: {
      type: 'object',
      additionalProperties: false,
      maxProperties: MAX_ENTRIES,
      patternProperties: { [`^.{1,${MAX_STRING_LENGTH}}$`]: { type: 'string', maxLength: MAX_STRING_LENGTH } },
      ...(nullable ? { nullable: true } : {}),
    },
    parse(v) {
      if (v === null && nullable) return null;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FieldError('must be object');
      const entries = Object.entries(v);
      if (entries.length > MAX_ENTRIES) throw new FieldError(`must have at most ${MAX_ENTRIES} keys`);
      const out: Record<string, string> = {};
      for (const [k, val] of entries) {
        if (k === '' || k.length > MAX_STRING_LENGTH) throw new FieldError('key must be not empty');
        if (typeof val !== 'string' || (opts.nonEmpty && val === '')) throw new FieldError(`value for key "${k.slice(0, 64)}" must be not empty`);
        if (val.length > MAX_STRING_LENGTH) throw new FieldError(`value for key "${k.slice(0, 64)}" must be at most ${MAX_STRING_LENGTH} characters long`);
        out[k] = val;
      }
      return out;
    },
  };
}

/** A field that only takes null (a Teraslice option we keep at its default). */
export function nullOnly(why: string): Field<null> {
  return {
    default: null,
    schema: { type: 'null' },
    parse(v) {
      if (v !== null) throw new FieldError(why);
      return null;
    },
  };
}

/** Fields of a config, by name. */
export type Fields = Readonly<Record<string, Field>>;

/** Where a field check reports to: its prefix ("Validation failed for job config: x - "). */
export interface FieldScope {
  prefix: string;
  /** Names undeclared keys in warnings ("job", "operation file_reader (operations[1])"). */
  shown: string;
  warnings: string[];
}

/** Most warnings a normalisation returns (a spec with a million unknown keys gets a summary). */
export const MAX_WARNINGS = 100;

export function warn(scope: FieldScope, text: string): void {
  if (scope.warnings.length < MAX_WARNINGS) scope.warnings.push(text);
  else if (scope.warnings.length === MAX_WARNINGS) scope.warnings.push('more undeclared keys were dropped; only the first warnings are listed');
}

export function fail(scope: FieldScope, field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${scope.prefix}${field}: ${message}`, { details: { field } });
}

/**
 * Applies `fields` to `raw`: each declared field checked (or its default, or an error when it is
 * required and missing); undeclared keys dropped with a warning, except those in `keep`, which
 * the caller handles.
 */
export function applyFields(raw: Record<string, unknown>, fields: Fields, scope: FieldScope, keep: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    const given = Object.hasOwn(raw, name) ? raw[name] : undefined;
    if (given === undefined) {
      if (field.required) throw fail(scope, name, 'This field is required');
      out[name] = field.default;
      continue;
    }
    try {
      out[name] = field.parse(given);
    } catch (e) {
      if (e instanceof FieldError) throw fail(scope, name, e.message);
      throw e;
    }
  }
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(fields, key) && !keep.includes(key)) warn(scope, `${scope.shown}: undeclared key ${JSON.stringify(key.slice(0, 64))} was dropped`);
  }
  return out;
}

/** The closed JSON Schema of a config made of `fields` (every field present), plus `extra` properties. */
export function fieldsSchema(fields: Fields, extra: Readonly<Record<string, Schema>> = {}, extraRequired: readonly string[] = []): Record<string, unknown> {
  const properties: Record<string, unknown> = { ...extra };
  for (const [name, f] of Object.entries(fields)) properties[name] = f.schema;
  return { type: 'object', additionalProperties: false, required: [...extraRequired, ...Object.keys(fields)], properties };
}
