/**
 * `recovery`: the engine field the Teraslice facade sets for `_recover` (not a Teraslice field).
 * Its slices are checked here as the reader's payloads, so a bad one is refused at submission
 * rather than failing a task.
 */
import { fail, FieldError, type FieldScope } from './fields.ts';
import type { ReaderConfig } from './opTypes.ts';
import {
  FILE_CURSOR_SCHEMA, FILE_SLICE_SCHEMA, GENERATOR_CURSOR_SCHEMA, GENERATOR_SLICE_SCHEMA,
  parseFileCursor, parseFileSlice, parseGeneratorCursor, parseGeneratorSlice,
} from './payloads.ts';
import type { RecoverySpec } from './spec.ts';

/** Most slices one recovery may re-run. */
export const MAX_RECOVERY_SLICES = 100_000;

export const RECOVERY_SCHEMA = Object.freeze({
  type: 'object',
  additionalProperties: false,
  required: ['slices', 'resume'],
  properties: {
    slices: {
      type: 'array',
      maxItems: MAX_RECOVERY_SLICES,
      items: { type: 'object', additionalProperties: false, required: ['payload'], properties: { payload: { anyOf: [GENERATOR_SLICE_SCHEMA, FILE_SLICE_SCHEMA] } } },
    },
    resume: { type: 'boolean' },
    cursor: { anyOf: [GENERATOR_CURSOR_SCHEMA, FILE_CURSOR_SCHEMA] },
  },
});

export function normalizeRecovery(raw: unknown, reader: ReaderConfig, job: FieldScope): RecoverySpec {
  const scope: FieldScope = { ...job, prefix: 'Validation failed for recovery: ' };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail(scope, 'recovery', 'must be an object');
  const r = raw as Record<string, unknown>;
  const extra = Object.keys(r).find((k) => !['slices', 'resume', 'cursor'].includes(k));
  if (extra !== undefined) throw fail(scope, 'recovery', `has an unknown key ${JSON.stringify(extra.slice(0, 64))}`);
  if (!Array.isArray(r.slices)) throw fail(scope, 'slices', 'must be an array');
  if (r.slices.length > MAX_RECOVERY_SLICES) throw fail(scope, 'slices', `must have at most ${MAX_RECOVERY_SLICES} entries`);
  if (typeof r.resume !== 'boolean') throw fail(scope, 'resume', 'must be of type Boolean');
  const generator = reader._op === 'data_generator';
  const slices = (r.slices as unknown[]).map((s, i) => {
    const keys = typeof s === 'object' && s !== null ? Object.keys(s) : [];
    if (keys.length !== 1 || keys[0] !== 'payload') throw fail(scope, `slices[${i}]`, 'must be an object { payload }');
    return { payload: checked(() => (generator ? parseGeneratorSlice : parseFileSlice)((s as { payload: unknown }).payload), scope, `slices[${i}].payload`) };
  });
  const out: RecoverySpec = { slices, resume: r.resume };
  if (r.cursor !== undefined) out.cursor = checked(() => (generator ? parseGeneratorCursor : parseFileCursor)(r.cursor), scope, 'cursor');
  return out;
}

function checked<T>(parse: () => T, scope: FieldScope, field: string): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof FieldError) throw fail(scope, field, e.message);
    throw e;
  }
}
