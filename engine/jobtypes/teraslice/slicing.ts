/**
 * A teraslice job's slicer as an open plan (`openPlan` + `extend`): the reader's slices are cut a
 * few at a time, from a small JSON cursor (payloads.ts), as the engine asks for them. A once job's
 * plan closes when its reader is done; a persistent data_generator's never does.
 *
 * Recovery (`spec.recovery`): the earlier execution's slices run again first, as `r…` tasks, from a
 * `{rerun}` cursor; then, only if `resume`, slicing goes on from `recovery.cursor`.
 */
import type { TaskPlan } from '../../../actors/events.ts';
import type { ExtendContext, PlanContext, PlanResult } from '../jobType.ts';
import { cutGeneratorSlices } from './dataGenerator.ts';
import { cutFileSlices } from './fileSlicer.ts';
import type { FileReaderConfig } from './opTypes.ts';
import {
  isRerunCursor, parseFileCursor, parseGeneratorCursor,
  type FileSlice, type GeneratorSlice, type ReaderCursor,
} from './payloads.ts';
import type { TerasliceSpec } from './spec.ts';
import { rerunTaskId } from './taskIds.ts';

/** Slices the first plan holds (later ones come as the engine wants them). */
export const INITIAL_SLICES = 32;

const isGenerator = (spec: TerasliceSpec): boolean => spec.operations[0]!._op === 'data_generator';

/** Where a reader starts when nothing was cut yet. */
function initialCursor(spec: TerasliceSpec): ReaderCursor {
  return isGenerator(spec) ? { slices: 0, processed: 0 } : { slices: 0, at: null };
}

/** Where slicing goes on after the re-run slices: undefined when it does not (no resume, or the earlier slicer was done). */
function afterReruns(spec: TerasliceSpec): ReaderCursor | undefined {
  const r = spec.recovery;
  if (r === undefined) return initialCursor(spec);
  return r.resume && r.cursor !== undefined ? (r.cursor as ReaderCursor) : undefined;
}

async function readerSlices(spec: TerasliceSpec, cursor: unknown, want: number, ctx: PlanContext): Promise<PlanResult> {
  if (isGenerator(spec)) return cutGeneratorSlices(spec, parseGeneratorCursor(cursor), want);
  return await cutFileSlices(spec.operations[0] as FileReaderConfig, parseFileCursor(cursor), want, ctx);
}

function rerunSlices(spec: TerasliceSpec, from: number, want: number): PlanResult {
  const all = spec.recovery!.slices;
  const to = Math.min(all.length, from + Math.max(1, want));
  const tasks: TaskPlan[] = [];
  for (let i = from; i < to; i++) {
    const payload = all[i]!.payload;
    tasks.push(isGenerator(spec)
      ? { taskId: rerunTaskId(i), payload, items: (payload as GeneratorSlice).count, bytes: 0 }
      : { taskId: rerunTaskId(i), payload, items: 1, bytes: (payload as FileSlice).length });
  }
  if (to < all.length) return { tasks, cursor: { rerun: to } };
  const next = afterReruns(spec);
  return next === undefined ? { tasks } : { tasks, cursor: next };
}

/** The first slices (the re-run ones first, under recovery). */
export async function openTeraslicePlan(spec: TerasliceSpec, ctx: PlanContext): Promise<PlanResult> {
  if (spec.recovery !== undefined && spec.recovery.slices.length > 0) return rerunSlices(spec, 0, INITIAL_SLICES);
  const start = afterReruns(spec);
  return start === undefined ? { tasks: [] } : await readerSlices(spec, start, INITIAL_SLICES, ctx);
}

/** About `ctx.want` more slices from `cursor`. */
export async function extendTeraslicePlan(spec: TerasliceSpec, cursor: unknown, ctx: ExtendContext): Promise<PlanResult> {
  if (isRerunCursor(cursor)) return rerunSlices(spec, cursor.rerun, ctx.want);
  return await readerSlices(spec, cursor, ctx.want, ctx);
}

/**
 * For recovering an execution whose plan was still open: the slices it had not planned yet (the
 * rest of its own re-run slices, when it stopped while re-running) and where its reader would go on
 * (undefined: its reader was done). A plan cursor of a teraslice job is either a reader cursor or
 * `{rerun: n}` (index into that job's `recovery.slices`).
 */
export function unplannedWork(spec: TerasliceSpec, cursor: unknown): { slices: { payload: unknown }[]; cursor?: ReaderCursor } {
  if (cursor === undefined) return { slices: [] };
  if (!isRerunCursor(cursor)) return { slices: [], cursor: cursor as ReaderCursor };
  const next = afterReruns(spec);
  return { slices: (spec.recovery?.slices ?? []).slice(cursor.rerun), ...(next !== undefined ? { cursor: next } : {}) };
}
