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

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const TASK_ID_PATTERN = '^[rs][0-9]{6,9}$';
const ORIGIN_SCHEMA = Object.freeze({
  type: 'object', additionalProperties: false, required: ['exId', 'taskId'],
  properties: { exId: { type: 'string', pattern: UUID_PATTERN }, taskId: { type: 'string', pattern: TASK_ID_PATTERN } },
});

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
      items: {
        type: 'object', additionalProperties: false, required: ['payload'],
        properties: { payload: { anyOf: [GENERATOR_SLICE_SCHEMA, FILE_SLICE_SCHEMA] }, origin: ORIGIN_SCHEMA },
      },
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
    if (!keys.includes('payload') || keys.some((k) => k !== 'payload' && k !== 'origin')) throw fail(scope, `slices[${i}]`, 'must be an object { payload, origin? }');
    const entry = s as { payload: unknown; origin?: unknown };
    const payload = checked(() => (generator ? parseGeneratorSlice : parseFileSlice)(entry.payload), scope, `slices[${i}].payload`);
    if (entry.origin === undefined) return { payload };
    const o = entry.origin as Record<string, unknown> | null;
    const ok = typeof o === 'object' && o !== null && !Array.isArray(o) && Object.keys(o).every((k) => k === 'exId' || k === 'taskId') &&
      typeof o['exId'] === 'string' && new RegExp(UUID_PATTERN).test(o['exId']) && typeof o['taskId'] === 'string' && new RegExp(TASK_ID_PATTERN).test(o['taskId']);
    if (!ok) throw fail(scope, `slices[${i}].origin`, 'must be { exId: <execution id>, taskId: <slice task id> }');
    return { payload, origin: { exId: o['exId'] as string, taskId: o['taskId'] as string } };
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
