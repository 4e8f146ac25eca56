/**
 * A dry run of a submission (`POST /jobs:plan`, the command line's `submit --dry-run`): the request
 * validated exactly as `submit` validates it, then planned by its job type as a coordinator would
 * plan it on claim, and nothing written. The plan is the one the job would get now: a tree that
 * changes before the real claim plans differently.
 */
import type { Config } from '../config.ts';
import { AppError, isAppError } from '../errors.ts';
import type { FileRoots, PlanContext } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import type { Caller, SubmissionPlan, SubmitRequest } from '../serviceTypes.ts';
import type { SubmissionSteps } from './submission.ts';

/** Most tasks a dry run lists (the totals count them all; `truncated` says when more). */
export const MAX_PLANNED_TASKS_SHOWN = 1000;
/** A dry run's planning gives up after this (a tree too large to list in a request). */
export const DRY_RUN_PLAN_TIMEOUT_MS = 20_000;
/** The job id a dry run plans under (no job exists; a type that names things after its job sees this). */
const DRY_RUN_JOB_ID = '00000000-0000-0000-0000-000000000000';

export interface SubmissionPlanDeps {
  config: Pick<Config, 'defaultBatchSize' | 'defaultPartitionSizeBytes'>;
  registry: JobTypeRegistry;
  roots: FileRoots;
}

export function createSubmissionPlanner(deps: SubmissionPlanDeps, steps: Pick<SubmissionSteps, 'validate'>): (req: SubmitRequest, caller: Caller) => Promise<SubmissionPlan> {
  const defaults = { batchSize: deps.config.defaultBatchSize, partitionSizeBytes: deps.config.defaultPartitionSizeBytes };
  return async (req, caller) => {
    const v = steps.validate(req, caller);
    const type = deps.registry.get(req.type);
    if (type === undefined) throw new AppError('UNKNOWN_JOB_TYPE', `unknown job type ${JSON.stringify(req.type)}`);
    const spec = v.body['spec'] as Record<string, unknown>;
    const ctx: PlanContext = { jobId: DRY_RUN_JOB_ID, roots: deps.roots, signal: AbortSignal.timeout(DRY_RUN_PLAN_TIMEOUT_MS), defaults };
    let planned;
    try {
      planned = type.openPlan !== undefined ? await type.openPlan(spec, ctx) : { tasks: await type.plan(spec, ctx) };
    } catch (err) {
      if (ctx.signal.aborted) throw new AppError('VALIDATION_FAILED', `planning took longer than ${DRY_RUN_PLAN_TIMEOUT_MS} ms; nothing was planned`);
      // What the claim would fail the job with (JobFailed PLAN_FAILED or the type's code), answered now instead.
      if (isAppError(err)) throw err;
      throw new AppError('INVALID_SPEC', `the job type could not plan this spec: ${err instanceof Error ? err.message : String(err)}`);
    }
    const { tasks } = planned;
    return {
      request: { ...v.body, virtualCluster: v.virtualCluster, owner: v.owner },
      planOpen: 'cursor' in planned && planned.cursor !== undefined,
      tasksTotal: tasks.length,
      itemsTotal: tasks.reduce((n, t) => n + t.items, 0),
      bytesTotal: tasks.reduce((n, t) => n + t.bytes, 0),
      tasks: tasks.slice(0, MAX_PLANNED_TASKS_SHOWN).map(({ taskId, items, bytes }) => ({ taskId, items, bytes })),
      truncated: tasks.length > MAX_PLANNED_TASKS_SHOWN,
    };
  };
}
