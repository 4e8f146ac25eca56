/**
 * New jobs: a submission (validated by its job type, in a virtual cluster the caller may use, while
 * the queue has room) or a re-run of a finished one becomes a JobSubmitted, appended with CAS on the
 * new job's empty subject. An idempotency key derives the job id, so a repeated request finds the
 * job it made before instead of a second one.
 */
import { createHash } from 'node:crypto';
import type { JobSubmittedData } from '../../actors/events.ts';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { decideFolded, type CommandMeta } from '../../actors/decide.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import type { Clock, Random } from '../clock.ts';
import type { Config } from '../config.ts';
import { AppError, isAppError } from '../errors.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import { validateCallbackUrl } from '../hooks/callbackUrl.ts';
import { validateLabels } from './labels.ts';
import type { FileRoots } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { DEFAULT_VIRTUAL_CLUSTER, type VirtualClusterDef } from '../quota/shares.ts';
import type { Caller, JobService, JobView } from '../serviceTypes.ts';
import { jobEvSubject } from '../subjects.ts';
import { canUseVirtualCluster, ownerOf } from './access.ts';
import { commandMeta } from './commandHandler.ts';
import { toView, type JobReader } from './jobReader.ts';

export interface SubmissionDeps {
  config: Pick<Config, 'waitingJobCapacity' | 'webhookAllowPrivate'>;
  eventLog: EventLog;
  projection: JobProjection;
  registry: JobTypeRegistry;
  roots: FileRoots;
  clock: Clock;
  random: Random;
  /** The effective virtual clusters. */
  virtualClusters: () => readonly VirtualClusterDef[];
}

/** Same bytes for the same request, whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A UUID (version 8, RFC 9562) derived from the owner and the idempotency key. */
export function idempotentJobId(owner: string, key: string): string {
  const h = createHash('sha256').update(`${owner}\0${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function createSubmission(deps: SubmissionDeps, reader: JobReader): Pick<JobService, 'submit' | 'rerun'> {
  const { config, eventLog, projection, registry, roots, clock, random, virtualClusters } = deps;

  /** The virtual cluster a submission runs in, after checking it exists and the caller may use it. */
  function checkVirtualCluster(caller: Caller, requested: string | undefined): string {
    const name = requested ?? DEFAULT_VIRTUAL_CLUSTER;
    if (!virtualClusters().some((d) => d.name === name)) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `no virtual cluster ${name}`);
    if (!canUseVirtualCluster(caller, name)) throw new AppError('VIRTUAL_CLUSTER_FORBIDDEN', `you have no access to virtual cluster ${name}`);
    return name;
  }

  function checkQueueRoom(): void {
    if (projection.countByState('WAITING') >= config.waitingJobCapacity) {
      throw new AppError('QUEUE_FULL', `${config.waitingJobCapacity} jobs are waiting already; retry later`);
    }
  }

  /** Appends a new job's JobSubmitted (CAS on an empty subject). */
  async function create(data: JobSubmittedData, meta: CommandMeta, msgId: string): Promise<{ job: JobView; created: boolean }> {
    const d = decideFolded({ kind: 'submit', data }, undefined, meta);
    if (!d.ok) throw new AppError('INVALID_TRANSITION', d.message);
    const r = await eventLog.append(jobEvSubject(data.jobId), d.events, { expectedLastSubjectSeq: 0, msgId });
    if (!r.duplicate) projection.prefolded(r.seq, data.jobId, undefined, d.state);
    return { job: await reader.viewAfter(data.jobId, r.seq), created: !r.duplicate };
  }

  return {
    async submit(req, opts) {
      const { caller } = opts;
      const spec = registry.validateSpec(req.type, req.spec, roots, caller);
      const virtualCluster = checkVirtualCluster(caller, req.virtualCluster);
      const callbackUrl = req.callbackUrl === undefined ? undefined : validateCallbackUrl(req.callbackUrl, config.webhookAllowPrivate);
      const labels = req.labels === undefined ? undefined : validateLabels(req.labels);
      if (req.parallelism !== undefined) checkParallelism(req.parallelism);
      checkQueueRoom();
      const owner = ownerOf(caller);
      const body: Record<string, unknown> = {
        type: req.type, name: req.name ?? req.type, spec, priority: req.priority ?? 0,
        maxTaskAttempts: req.maxTaskAttempts ?? 3, maxFailedRatio: req.maxFailedRatio ?? 0,
      };
      // Only non-default values join the hash, so a request hashes as it did before these fields existed.
      if (virtualCluster !== DEFAULT_VIRTUAL_CLUSTER) body['virtualCluster'] = virtualCluster;
      if (callbackUrl !== undefined) body['callbackUrl'] = callbackUrl;
      if (req.callbackFormat !== undefined && req.callbackFormat !== 'job') body['callbackFormat'] = req.callbackFormat;
      if (labels !== undefined && Object.keys(labels).length > 0) body['labels'] = labels;
      if (req.parallelism !== undefined) body['parallelism'] = req.parallelism;
      const requestHash = createHash('sha256').update(canonical(body)).digest('hex');
      const jobId = opts.idempotencyKey !== undefined ? idempotentJobId(owner, opts.idempotencyKey) : random.uuid();
      const data = { jobId, ...body, virtualCluster, requestHash, owner, ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}) } as JobSubmittedData;
      try {
        return await create(data, commandMeta(opts, clock), `submit:${jobId}:${requestHash}`);
      } catch (err) {
        // the key's job exists already: the same request again, or a different one reusing the key
        if (!isAppError(err, 'CONFLICT') || opts.idempotencyKey === undefined) throw err;
        const existing = await reader.load(jobId, true);
        if ((existing.snapshot.context as JobContext).requestHash !== requestHash) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request');
        }
        return { job: toView(existing.snapshot, existing.submitSeq), created: false };
      }
    },

    async rerun(id, by) {
      const { snapshot } = await reader.loadVisible(id, by.caller);
      const c = snapshot.context as JobContext;
      const state = snapshot.value;
      if (!TERMINAL_STATES.has(state)) throw new AppError('INVALID_TRANSITION', `rerun: job ${id} is ${state}; only a finished job can be re-run`);
      if (!c.active) throw new AppError('INVALID_TRANSITION', `rerun: job ${id} is inactive; activate it first`);
      const spec = registry.validateSpec(c.type, c.spec, roots, by.caller);
      const virtualCluster = checkVirtualCluster(by.caller, c.virtualCluster);
      checkQueueRoom();
      const body: Record<string, unknown> = {
        type: c.type, name: c.name, spec, priority: c.priority, maxTaskAttempts: c.maxTaskAttempts, maxFailedRatio: c.maxFailedRatio,
        ...(virtualCluster !== DEFAULT_VIRTUAL_CLUSTER ? { virtualCluster } : {}),
        ...(c.callbackUrl !== undefined ? { callbackUrl: c.callbackUrl } : {}),
        ...(c.callbackFormat !== undefined ? { callbackFormat: c.callbackFormat } : {}),
        ...(c.labels !== undefined ? { labels: c.labels } : {}),
        ...(c.parallelism !== undefined ? { parallelism: c.parallelism } : {}),
        rerunOf: id,
      };
      const requestHash = createHash('sha256').update(canonical(body)).digest('hex');
      const jobId = random.uuid();
      const data = { jobId, ...body, virtualCluster, requestHash, owner: c.owner } as JobSubmittedData;
      return (await create(data, commandMeta(by, clock, id), `submit:${jobId}:${requestHash}`)).job;
    },
  };
}

/** Most tasks of one job in flight at once a job may ask for. */
export const MAX_PARALLELISM = 10_000;

/** VALIDATION_FAILED unless `n` is null or an integer 1..MAX_PARALLELISM. */
export function checkParallelism(n: number | null): void {
  if (n !== null && (!Number.isSafeInteger(n) || n < 1 || n > MAX_PARALLELISM)) {
    throw new AppError('VALIDATION_FAILED', `parallelism must be an integer 1..${MAX_PARALLELISM}`);
  }
}
