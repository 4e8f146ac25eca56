/**
 * New jobs: a submission (validated by its job type, in a virtual cluster the caller may use, while
 * the queue has room) or a re-run of a finished one becomes a JobSubmitted, appended with CAS on the
 * new job's empty subject. An idempotency key derives the job id, so a repeated request finds the
 * job it made before instead of a second one. Many submissions at once: bulkSubmission.ts, on the
 * same steps (SubmissionSteps).
 */
import { createHash } from 'node:crypto';
import type { JobSubmittedData } from '../../actors/events.ts';
import { TERMINAL_STATES } from '../../actors/events.ts';
import { decideFolded, type CommandMeta } from '../../actors/decide.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import type { JobSnapshot } from '../../actors/jobFold.ts';
import type { Clock, Random } from '../clock.ts';
import type { Config } from '../config.ts';
import { AppError, isAppError } from '../errors.ts';
import type { AppendResult, BatchItem, EventLog } from '../eventlog/eventLog.ts';
import { validateCallbackUrl } from '../hooks/callbackUrl.ts';
import { validateLabels } from './labels.ts';
import type { FileRoots } from '../jobtypes/jobType.ts';
import type { JobTypeRegistry } from '../jobtypes/registry.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { DEFAULT_VIRTUAL_CLUSTER, type VirtualClusterDef } from '../quota/shares.ts';
import type { Caller, JobService, JobView, SubmitRequest } from '../serviceTypes.ts';
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

/** The answer to a key used before with another request. */
export function idempotencyKeyReused(): AppError {
  return new AppError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request');
}

/** A submission that passed validation: the request as hashed, and what is not part of the request. */
export interface ValidSubmission {
  /** The request with its defaults filled in (only non-default optional fields): what `requestHash` covers. */
  body: Record<string, unknown>;
  requestHash: string;
  virtualCluster: string;
  owner: string;
}

/** A submission ready to append: its JobSubmitted data (id and request hash included) and its msg id. */
export interface PreparedSubmission {
  data: JobSubmittedData;
  /** `submit:<jobId>:<requestHash>`: the same request appended again is a duplicate, not a second record. */
  msgId: string;
  /** The key the job id was derived from, if any: a CAS loss then means the key's job exists already. */
  idempotencyKey?: string;
}

/** What a prepared submission appends, and the state its JobSubmitted folds to. */
export interface DecidedSubmission {
  item: BatchItem;
  state: JobSnapshot;
}

/**
 * The steps of a submission, shared by `submit` and `submitMany` (bulkSubmission.ts):
 * validate → check the queue's room → build the data (the job id) → decide → append (one or a
 * batch) → hand the folded state to the projection (or, on a CAS loss, find the key's job).
 */
export interface SubmissionSteps {
  /** The virtual cluster a submission runs in (default `default`), after checking it exists and the caller may use it. */
  checkVirtualCluster(caller: Caller, requested: string | undefined): string;
  /** Validates `req` (job type, virtual cluster, callback, labels, parallelism) for `caller`; throws the AppError POST /jobs answers. */
  validate(req: SubmitRequest, caller: Caller): ValidSubmission;
  /** The new job's data: its id derived from the idempotency key (per owner), else random; `origin`: the API it came through. */
  build(v: ValidSubmission, idempotencyKey?: string, origin?: string): PreparedSubmission;
  /** Jobs the waiting queue has room for now (0 or more). */
  queueRoom(): number;
  /** The QUEUE_FULL error. */
  queueFull(): AppError;
  /** The JobSubmitted record, appended with CAS on the new job's empty subject and the msg id. */
  decide(p: PreparedSubmission, meta: CommandMeta): DecidedSubmission;
  /** After the append: hands a new record's folded state to the projection; true when it is new (not a duplicate). */
  stored(p: PreparedSubmission, r: AppendResult, state: JobSnapshot): boolean;
  /**
   * After a failed append: when the id came from an idempotency key and the subject was taken (CONFLICT),
   * the key's job (an identical request) or IDEMPOTENCY_KEY_REUSED; any other error is thrown again.
   */
  existing(p: PreparedSubmission, err: unknown): Promise<{ job: JobView; created: false }>;
}

export function createSubmissionSteps(deps: SubmissionDeps, reader: JobReader): SubmissionSteps {
  const { config, projection, registry, roots, random, virtualClusters } = deps;

  function checkVirtualCluster(caller: Caller, requested: string | undefined): string {
    const name = requested ?? DEFAULT_VIRTUAL_CLUSTER;
    if (!virtualClusters().some((d) => d.name === name)) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `no virtual cluster ${name}`);
    if (!canUseVirtualCluster(caller, name)) throw new AppError('VIRTUAL_CLUSTER_FORBIDDEN', `you have no access to virtual cluster ${name}`);
    return name;
  }

  return {
    checkVirtualCluster,
    validate(req, caller) {
      const spec = registry.validateSpec(req.type, req.spec, roots, caller);
      const virtualCluster = checkVirtualCluster(caller, req.virtualCluster);
      const callbackUrl = req.callbackUrl === undefined ? undefined : validateCallbackUrl(req.callbackUrl, config.webhookAllowPrivate);
      const labels = req.labels === undefined ? undefined : validateLabels(req.labels);
      if (req.parallelism !== undefined) checkParallelism(req.parallelism);
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
      return { body, requestHash: hashOf(body), virtualCluster, owner };
    },
    build(v, key, origin) {
      return prepared(key !== undefined ? idempotentJobId(v.owner, key) : random.uuid(), v, key, origin);
    },
    queueRoom: () => Math.max(0, config.waitingJobCapacity - projection.countByState('WAITING')),
    queueFull: () => new AppError('QUEUE_FULL', `${config.waitingJobCapacity} jobs are waiting already; retry later`),
    decide(p, meta) {
      const d = decideFolded({ kind: 'submit', data: p.data }, undefined, meta);
      if (!d.ok) throw new AppError('INVALID_TRANSITION', d.message);
      return { item: { subject: jobEvSubject(p.data.jobId), events: d.events, opts: { expectedLastSubjectSeq: 0, msgId: p.msgId } }, state: d.state };
    },
    stored(p, r, state) {
      if (!r.duplicate) projection.prefolded(r.seq, p.data.jobId, undefined, state);
      return !r.duplicate;
    },
    async existing(p, err) {
      if (!isAppError(err, 'CONFLICT') || p.idempotencyKey === undefined) throw err;
      const found = await reader.load(p.data.jobId, true);
      if ((found.snapshot.context as JobContext).requestHash !== p.data.requestHash) {
        throw idempotencyKeyReused();
      }
      return { job: toView(found.snapshot, found.submitSeq), created: false };
    },
  };
}

function hashOf(body: Record<string, unknown>): string {
  return createHash('sha256').update(canonical(body)).digest('hex');
}

/** A new job's data: the request body (what the hash covers), then its virtual cluster, hash, owner, idempotency key and origin. */
function prepared(jobId: string, v: ValidSubmission, idempotencyKey?: string, origin?: string): PreparedSubmission {
  const { body, virtualCluster, requestHash, owner } = v;
  const key = idempotencyKey !== undefined ? { idempotencyKey } : {};
  const data = { jobId, ...body, virtualCluster, requestHash, owner, ...key, ...(origin !== undefined ? { origin } : {}) } as JobSubmittedData;
  return { data, msgId: `submit:${jobId}:${requestHash}`, ...key };
}

export function createSubmission(
  deps: SubmissionDeps,
  reader: JobReader,
  steps: SubmissionSteps = createSubmissionSteps(deps, reader),
): Pick<JobService, 'submit' | 'rerun'> {
  const { eventLog, registry, roots, clock, random } = deps;

  function checkQueueRoom(): void {
    if (steps.queueRoom() < 1) throw steps.queueFull();
  }

  /** Appends a new job's JobSubmitted (CAS on an empty subject). */
  async function create(p: PreparedSubmission, meta: CommandMeta): Promise<{ job: JobView; created: boolean }> {
    const { item, state } = steps.decide(p, meta);
    const r = await eventLog.append(item.subject, item.events, item.opts);
    const created = steps.stored(p, r, state);
    try {
      return { job: await reader.viewAfter(p.data.jobId, r.seq), created };
    } catch (err) {
      // Written and acked: answer with the job as written, not with an error after the write (a client
      // would submit again and make a second job). A duplicate's stored state is not ours to show.
      if (!created || !isAppError(err, 'UNAVAILABLE')) throw err;
      return { job: toView(state, r.seq), created };
    }
  }

  return {
    async submit(req, opts) {
      const v = steps.validate(req, opts.caller);
      checkQueueRoom();
      const p = steps.build(v, opts.idempotencyKey, opts.origin);
      try {
        return await create(p, commandMeta(opts, clock));
      } catch (err) {
        // the key's job exists already: the same request again, or a different one reusing the key
        return steps.existing(p, err);
      }
    },

    async rerun(id, by) {
      const { snapshot } = await reader.loadVisible(id, by.caller);
      const c = snapshot.context as JobContext;
      const state = snapshot.value;
      if (!TERMINAL_STATES.has(state)) throw new AppError('INVALID_TRANSITION', `rerun: job ${id} is ${state}; only a finished job can be re-run`);
      if (!c.active) throw new AppError('INVALID_TRANSITION', `rerun: job ${id} is inactive; activate it first`);
      const spec = registry.validateSpec(c.type, c.spec, roots, by.caller);
      const virtualCluster = steps.checkVirtualCluster(by.caller, c.virtualCluster);
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
      const p = prepared(random.uuid(), { body, requestHash: hashOf(body), virtualCluster, owner: c.owner }, undefined, by.origin);
      return (await create(p, commandMeta(by, clock, id))).job;
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
