/**
 * `teraslice`: a Teraslice job (a reader, processors, maybe an exporter) run on our engine. The
 * spec is a normalised Teraslice job config (spec.ts); slices are cut as the job goes
 * (slicing.ts) and each runs through the pipeline on a worker (runSlice.ts). The engine retries a
 * failed slice up to the job's maxTaskAttempts (the Teraslice facade sets max_retries + 1).
 */
import type { TaskPlan } from '../../../actors/events.ts';
import { AppError } from '../../errors.ts';
import type { JobType } from '../jobType.ts';
import { runSlice } from './runSlice.ts';
import { extendTeraslicePlan, openTeraslicePlan } from './slicing.ts';
import { checkTerasliceSpec, TERASLICE_SPEC_SCHEMA, type TerasliceSpec } from './spec.ts';

/** Most slices `plan` (the closed form, for tools and tests) collects; the engine uses the open plan. */
export const MAX_CLOSED_PLAN_SLICES = 100_000;

export const terasliceJobType: JobType<TerasliceSpec> = {
  name: 'teraslice',
  instantVerify: true,
  specSchema: TERASLICE_SPEC_SCHEMA,

  checkSpec(spec, roots) {
    checkTerasliceSpec(spec, roots);
  },

  openPlan: openTeraslicePlan,
  extend: extendTeraslicePlan,

  /** Every slice at once: only for once jobs of at most MAX_CLOSED_PLAN_SLICES slices. */
  async plan(spec, ctx) {
    let r = await openTeraslicePlan(spec, ctx);
    const tasks: TaskPlan[] = [...r.tasks];
    while (r.cursor !== undefined) {
      if (tasks.length > MAX_CLOSED_PLAN_SLICES) throw new AppError('INVALID_SPEC', `a teraslice job of more than ${MAX_CLOSED_PLAN_SLICES} slices cannot be planned at once`);
      r = await extendTeraslicePlan(spec, r.cursor, { ...ctx, planned: tasks.length, want: 1000 });
      tasks.push(...r.tasks);
    }
    return tasks;
  },

  run: (spec, payload, ctx) => runSlice(spec, payload, ctx),

  async verify(_spec, ctx) {
    // a once execution processes every slice (the facade submits maxFailedRatio 1), then fails as Teraslice's does
    const n = ctx.tasksFailed;
    if (n > 0) return { ok: false, code: 'SLICE_FAILURES', message: `execution: ${ctx.jobId} had ${n} slice failure${n === 1 ? '' : 's'} during processing` };
    const records = ctx.results.reduce((r, x) => r + x.itemsDone, 0);
    return { ok: true, summary: { slices: ctx.results.length, records } };
  },
};

export { normalizeTerasliceSpec, type TerasliceSpec } from './spec.ts';
export { unplannedWork } from './slicing.ts';
