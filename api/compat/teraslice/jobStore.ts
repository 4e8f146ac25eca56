/**
 * Teraslice jobs (definitions: a job may have no execution yet) as durable documents
 * (engine documents, namespace `teraslice`, id = `job_id`): the job exactly as submitted plus
 * `job_id`, `_context: "job"`, `_created`, `_updated` (and `_deleted`, `_deleted_on`, `active`
 * once set), as GET /jobs/:id answers it, and the owner (a non-admin sees only its own jobs, others
 * are not found, as on the native API). Writes are CAS on the document's revision.
 */
import { randomUUID } from 'node:crypto';
import { AppError, isAppError, type Caller, type DocumentStore } from '../../../engine/index.ts';
import { TerasliceError } from './errors.ts';

export const NAMESPACE = 'teraslice';
/** Most Teraslice jobs kept (each is mirrored in every API process's memory). */
export const MAX_JOBS = 10_000;
/** Largest job kept (its JSON; real job specs are a few KiB). */
export const MAX_JOB_BYTES = 64 * 1024;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** CAS attempts of a read-modify-write before giving up (another writer kept changing the job). */
const CAS_ATTEMPTS = 5;

/** The job as Teraslice shows it. */
export type JobRecord = Record<string, unknown> & { job_id: string; _context: 'job'; _created: string; _updated: string; _deleted?: boolean; _deleted_on?: string; active?: boolean };

interface StoredJob {
  job: JobRecord;
  owner: string;
}

export interface TerasliceJobs {
  /** The record a submit of `spec` would store (a new job_id), not stored yet; 400 if too large to keep. */
  draft(spec: Record<string, unknown>, caller: Caller): JobRecord;
  /** Stores a drafted record. */
  insert(job: JobRecord, caller: Caller): Promise<JobRecord>;
  /** The caller's job (any for admins); 404 otherwise (also for an id that is no UUID). */
  get(jobId: string, caller: Caller): JobRecord;
  /** Jobs the caller sees. */
  list(caller: Caller): JobRecord[];
  /** Jobs the caller sees, each with its owner (one read of the store, for listings across jobs). */
  listOwned(caller: Caller): { job: JobRecord; owner: string }[];
  /** Who owns a job the caller sees (its executions must be that user's: a native job merely labelled with its id is not one). */
  owner(jobId: string, caller: Caller): string;
  /** Read-modify-write of a job the caller sees; `change` may throw to refuse. */
  update(jobId: string, caller: Caller, change: (job: JobRecord) => JobRecord): Promise<JobRecord>;
}

export const jobNotFound = (jobId: string) => new TerasliceError(404, `job ${jobId.slice(0, 64)} was not found`, 'JOB_NOT_FOUND');

export function createTerasliceJobs(documents: DocumentStore, now: () => Date = () => new Date()): TerasliceJobs {
  const sees = (caller: Caller, owner: string) => caller.role === 'admin' || caller.user === owner;

  function read(jobId: string, caller: Caller): { stored: StoredJob; revision: number } {
    if (!UUID_RE.test(jobId)) throw jobNotFound(jobId);
    const v = documents.get<StoredJob>(NAMESPACE, jobId);
    if (v === undefined || !sees(caller, v.value.owner)) throw jobNotFound(jobId);
    return { stored: v.value, revision: v.revision };
  }

  function draft(spec: Record<string, unknown>, caller: Caller): JobRecord {
    // every API process mirrors every job: their number is bounded (deleted jobs count: they are kept)
    if (documents.count(NAMESPACE) >= MAX_JOBS) throw new TerasliceError(409, `this service keeps at most ${MAX_JOBS} Teraslice jobs; none can be added`, 'QUEUE_FULL');
    const at = now().toISOString();
    const job: JobRecord = { ...spec, job_id: randomUUID(), _context: 'job', _created: at, _updated: at };
    // the store's own limit, checked before anything (an execution) is made for the job
    const bytes = Buffer.byteLength(JSON.stringify({ job, owner: caller.user } satisfies StoredJob));
    if (bytes > MAX_JOB_BYTES) throw new TerasliceError(400, `the job is ${bytes} bytes; at most ${MAX_JOB_BYTES} are kept`);
    return job;
  }
  async function insert(job: JobRecord, caller: Caller): Promise<JobRecord> {
    await documents.create(NAMESPACE, job.job_id, { job, owner: caller.user } satisfies StoredJob);
    return job;
  }

  return {
    draft,
    insert,
    get: (jobId, caller) => read(jobId, caller).stored.job,
    owner: (jobId, caller) => read(jobId, caller).stored.owner,
    list: (caller) => documents.list<StoredJob>(NAMESPACE).filter((d) => sees(caller, d.value.owner)).map((d) => d.value.job),
    listOwned: (caller) => documents.list<StoredJob>(NAMESPACE).filter((d) => sees(caller, d.value.owner)).map((d) => d.value),
    async update(jobId, caller, change) {
      for (let attempt = 1; ; attempt++) {
        const { stored, revision } = read(jobId, caller);
        const job = { ...change(stored.job), job_id: jobId, _context: 'job' as const, _created: stored.job._created, _updated: now().toISOString() };
        try {
          await documents.update(NAMESPACE, jobId, { job, owner: stored.owner } satisfies StoredJob, revision);
          return job;
        } catch (err) {
          if (!isAppError(err, 'CONFLICT') || attempt >= CAS_ATTEMPTS) throw err instanceof AppError && err.code === 'CONFLICT' ? new TerasliceError(409, `job ${jobId} changed concurrently; try again`) : err;
        }
      }
    },
  };
}
