/**
 * The engine behind the API, assembled from its parts: commands become CAS appends of decided events
 * (commandHandler.ts, submission.ts, bulkSubmission.ts); reads come from the projection, or the log when it lags
 * (jobReader.ts, queries.ts, jobList.ts, clusterStatus.ts). Every call is scoped to its Caller
 * (access.ts): a non-admin sees and controls only the jobs it owns, and any other job is
 * JOB_NOT_FOUND (404, never 403).
 */
import type { Clock, Random } from '../clock.ts';
import type { Config } from '../config.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { FileRoots } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import type { Liveness } from '../liveness/liveness.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { effectiveClusters, type VirtualClusterDef } from '../quota/shares.ts';
import type { JobService, ServiceInfo } from '../serviceTypes.ts';
import { AppError } from '../errors.ts';
import { createJobExplainer } from '../explain/jobExplainer.ts';
import { createActivityRecorder } from '../activity/activityRecorder.ts';
import { createClusterStatus } from './clusterStatus.ts';
import { createCommandHandler } from './commandHandler.ts';
import { createJobList } from './jobList.ts';
import { createJobReader } from './jobReader.ts';
import { createJobQueries } from './queries.ts';
import { createBulkSubmission } from './bulkSubmission.ts';
import { checkParallelism, createSubmission, createSubmissionSteps } from './submission.ts';
import { createSubmissionPlanner } from './submissionPlan.ts';

export interface JobServiceDeps {
  config: Pick<Config, 'waitingJobCapacity' | 'failureDetectionTimeoutMs' | 'stopGraceMs' | 'runningJobCapacity' | 'maxTasksPerWorker' | 'webhookAllowPrivate' | 'defaultBatchSize' | 'defaultPartitionSizeBytes'>;
  eventLog: EventLog;
  projection: JobProjection;
  liveness: Liveness;
  registry: JobTypeRegistry;
  roots: FileRoots;
  clock: Clock;
  random: Random;
  info: () => ServiceInfo;
  checks: () => Record<string, boolean>;
  /** The effective virtual clusters (`effectiveClusters(defined)`). @defaultValue only `default` */
  virtualClusters?: () => readonly VirtualClusterDef[];
}

/** The engine behind the API: commands become CAS appends; reads come from the projection. */
export function createJobService(deps: JobServiceDeps): JobService {
  const { config, registry } = deps;
  const defaultClusters = effectiveClusters([]);
  const virtualClusters = deps.virtualClusters ?? (() => defaultClusters);
  const reader = createJobReader(deps);
  const { command, redeliver } = createCommandHandler(deps, reader);
  const submissionDeps = { ...deps, virtualClusters };
  const steps = createSubmissionSteps(submissionDeps, reader);
  const { submit, rerun } = createSubmission(submissionDeps, reader, steps);
  const status = createClusterStatus({ ...deps, virtualClusters });
  const explainer = createJobExplainer({ ...deps, virtualClusters });
  const activity = createActivityRecorder({ projection: deps.projection, clock: deps.clock });

  return {
    submit,
    submitMany: createBulkSubmission(deps, reader, steps),
    checkSubmission: (req, caller) => void steps.validate(req, caller),
    planSubmission: createSubmissionPlanner(deps, steps),
    ...createJobQueries(deps, reader),
    list: createJobList(deps),
    stop: (id, by) => command(id, { kind: 'stop', graceMs: by.graceMs ?? config.stopGraceMs, ...(by.force ? { force: true } : {}) }, by),
    pause: (id, by) => command(id, { kind: 'pause' }, by),
    resume: (id, by) => command(id, { kind: 'resume' }, by),
    recover: (id, by) => command(id, { kind: 'recover', mode: by.mode ?? 'failed' }, by),
    setActive: (id, active, by) => command(id, { kind: 'setActive', active }, by),
    async setParallelism(id, parallelism, by) {
      checkParallelism(parallelism);
      return command(id, { kind: 'setParallelism', parallelism }, by);
    },
    rerun,
    redeliver,
    async explain(id, caller) {
      await reader.loadVisible(id, caller);
      // the projection's entry: the facts around it (queues, counts) are the projection's too
      const e = deps.projection.get(id);
      if (e === undefined) throw new AppError('NOT_READY', `job ${id} is not in this process's projection yet`);
      return explainer(e);
    },
    virtualClusters: status.virtualClusters,
    workers: status.workers,
    overview: async () => ({ ...activity.view(), ...status.processes() }),
    jobTypes: () => registry.names().map((name) => ({ name, specSchema: registry.get(name)!.specSchema })),
    info: deps.info,
    async readiness() {
      const checks = deps.checks();
      return { ready: Object.values(checks).every(Boolean), checks };
    },
  };
}
