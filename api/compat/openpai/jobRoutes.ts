/**
 * OpenPAI's job routes, all three generations (docs/compat/openpai.md "Jobs"): the seed's v1 paths
 * (`/api/v1/jobs[/:jobName[/config|/ssh|/executionType]]`), the user-scoped v1 paths of the PAIV1
 * SDK (`/api/v1/user/:user/jobs…`, and its misspelt config path), and v2 (`/api/v2/jobs…` with
 * `user~job` ids and protocol-v2 YAML). Each route parses, calls the engine through jobIdentity.ts,
 * and answers with jobViews.ts; errors go out in the path's generation (errors.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, isAppError, SYSTEM_CALLER, type By, type Caller, type ExecSpec, type JobView, type PlanView } from '../../../engine/index.ts';
import { presentCaller, readerCaller, submitterCaller, tokenCaller } from './auth.ts';
import { MAX_TEXT_BODY_BYTES } from './body.ts';
import type { OpenPaiContext } from './context.ts';
import { badParameters, forbidden, noJob, PaiError, type Generation } from './errors.ts';
import { NAME_LABEL, DuplicateJobError, execute, findJob, findSeedJob, openpaiName, removeJob, splitFrameworkName, submitNamed, type NamedSubmission } from './jobIdentity.ts';
import { applyV2List, parseV2ListQuery } from './jobListQuery.ts';
import { v1ListItem, v1SeedDetail, v1UserDetail, v2Detail, v2JobAttempt, v2TaskDetail } from './jobViews.ts';
import { dumpProtocol, loadProtocolYaml } from './protocolYaml.ts';
import { protocolToExec } from './protocolToExec.ts';
import { addTag, deleteTag, tagsOf } from './tags.ts';
import { v1ConfigToExec, v1ToProtocol, type V1Config } from './v1Config.ts';

/** An instance's path below a job (getTask, getTaskLogs). */
const TASK_PATH = '/api/v2/jobs/:frameworkName/attempts/:attempt/taskRoles/:taskRoleName/taskIndex/:taskIndex';
type TaskLogParams = { frameworkName: string; attempt: string; taskRoleName: string; taskIndex: string; taskAttempt: string };
/** The logs of an instance attempt: each stream apart, and both interleaved as written. */
const LOG_STREAMS = ['stdout', 'stderr', 'all'] as const;
/** What `tailMode=true` gives of a stream. */
const LOG_TAIL_BYTES = 16 * 1024;

/** Jobs a listing reads at most (the Teraslice facade's bound); `totalCount` counts within them. */
const LIST_READ_MAX = 10_000;

const by = (caller: Caller, what: string): By => ({ caller, reason: `OpenPAI ${what}` });

/** The generation's answer to a refused submission (plan §1.4): v1 `JobUpdateError`, v2 the SDK's codes. */
function submitError(gen: Generation, err: unknown, user: string, name: string, virtualCluster?: string): unknown {
  if (err instanceof DuplicateJobError) {
    return new PaiError({ status: 400, name: 'JobUpdateError', message: `job update error: job ${name} exists` }, { status: 409, name: 'ConflictJobError', message: `Job ${user}~${name} already exists.` });
  }
  if (!(err instanceof AppError) || err instanceof PaiError) return err;
  const v1 = (status: number) => ({ status, name: 'JobUpdateError', message: `job update error: ${err.message}` });
  switch (err.code) {
    case 'VALIDATION_FAILED':
    case 'INVALID_SPEC':
    case 'INVALID_JSON':
      return new PaiError(v1(400), { status: 400, name: 'InvalidProtocolError', message: err.message });
    case 'VIRTUAL_CLUSTER_NOT_FOUND':
      return new PaiError(v1(400), { status: 400, name: 'NoVirtualClusterError', message: virtualCluster === undefined ? err.message : `Virtual cluster ${virtualCluster} is not found.` });
    case 'VIRTUAL_CLUSTER_FORBIDDEN':
    case 'FORBIDDEN':
      return new PaiError(v1(403), { status: 403, name: 'ForbiddenUserError', message: err.message });
    default:
      return err;
  }
}

/** The value of an executionType body: START or STOP (any case); 400 otherwise. */
function executionValue(gen: Generation, body: unknown): 'START' | 'STOP' {
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['value'] : undefined;
  const v = typeof value === 'string' ? value.toUpperCase() : '';
  if (v === 'START' || v === 'STOP') return v;
  const message = 'executionType: the body must be {"value": "START" | "STOP"}';
  throw gen === 'v1' ? new PaiError({ status: 400, name: 'JobExecuteError', message: `job execute error: ${message}` }) : badParameters(message);
}

/** A user-scoped path's user for a write: the caller, or anyone for an admin (403 otherwise, as the original). */
function checkPathUser(caller: Caller, user: string): void {
  if (caller.role !== 'admin' && caller.user !== user) throw forbidden(`you cannot act on the jobs of ${user}.`);
}

/** The plan of a job, for the task statuses (empty for a compacted job). */
async function tasksOf(cx: OpenPaiContext, job: JobView): Promise<PlanView['tasks']> {
  try {
    return (await cx.service.plan(job.id, SYSTEM_CALLER, { outcomes: true })).tasks;
  } catch (err) {
    if (isAppError(err, 'JOB_COMPACTED')) return [];
    throw err;
  }
}

/** The OpenPAI jobs (exec jobs with an OpenPAI name) `caller` may list (owner filter for admins), newest first, at most LIST_READ_MAX read. */
async function listJobs(cx: OpenPaiContext, caller: Caller, owner: string | undefined): Promise<JobView[]> {
  const out: JobView[] = [];
  let cursor: string | undefined;
  do {
    const page = await cx.service.list({ type: 'exec', limit: 1000, ...(owner !== undefined ? { owner } : {}), ...(cursor !== undefined ? { cursor } : {}) }, caller);
    // a native exec job has no OpenPAI name: it could be listed but never opened by one
    out.push(...page.jobs.filter((j) => j.labels[NAME_LABEL] !== undefined));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && out.length < LIST_READ_MAX);
  return out.slice(0, LIST_READ_MAX);
}

/** `?username=` of a v1 listing, checked. */
function usernameQuery(request: FastifyRequest): string | undefined {
  const u = (request.query as Record<string, unknown>)['username'];
  if (u === undefined || u === '') return undefined;
  if (typeof u !== 'string') throw badParameters('username must be a single user name');
  return u;
}

/** The v1 config of a job for `/config` on a v1 path: the submitted v1 config, or the protocol object. */
/** The generation's "no config" answer. */
const noConfig = (job: JobView) =>
  new PaiError({ status: 404, name: 'JobNotFound', message: `could not find the config of job ${openpaiName(job)}` }, { status: 404, name: 'NoJobConfigError', message: `Config of job ${job.owner}~${openpaiName(job)} is not found.` });

/**
 * The config a job was submitted with: a v1 config (checked again: a native submission may carry a
 * `source` the facade never wrote) or a v2 protocol's text (its object loads); NoJobConfigError for
 * a job with none, or with one that does not read back.
 */
function storedConfig(job: JobView): { v1: V1Config } | { v2: string; protocol: unknown } {
  const source = (job.spec as ExecSpec).source;
  try {
    if (source?.format === 'openpai-v1') return { v1: v1ConfigToExec(JSON.parse(source.text), { userName: job.owner }).config };
    if (source?.format === 'openpai-v2') return { v2: source.text, protocol: loadProtocolYaml(source.text) };
  } catch {
    // not what the facade keeps: as if there were none
  }
  throw noConfig(job);
}

export function registerJobRoutes(app: FastifyInstance, cx: OpenPaiContext): void {
  const { service } = cx;
  const reader = (request: FastifyRequest) => readerCaller(request, cx.anonymousReads);

  // ---- submission, both v1 flavours and v2 ----

  async function submitV1(request: FastifyRequest, caller: Caller, pathName?: string): Promise<JobView> {
    const body = request.body;
    let sub: NamedSubmission | undefined;
    let name = pathName ?? '';
    try {
      const parsed = v1ConfigToExec(body, { userName: caller.user, ...(pathName !== undefined ? { jobName: pathName } : {}) });
      name = parsed.name;
      sub = { name: parsed.name, virtualCluster: parsed.virtualCluster, spec: parsed.spec, by: 'v1' };
      return await submitNamed(service, cx.documents, by(caller, 'v1 submit'), sub);
    } catch (err) {
      throw submitError('v1', err, caller.user, name);
    }
  }

  async function submitV2(request: FastifyRequest, caller: Caller): Promise<JobView> {
    const body = request.body;
    // the SDK and the CLI send text/yaml; JSON is YAML too
    const text = typeof body === 'string' ? body : body !== undefined && body !== null && typeof body === 'object' ? JSON.stringify(body) : '';
    // the JSON parser takes up to 1 MiB; a protocol is at most what the text parser takes, whatever its type
    if (text.length > MAX_TEXT_BODY_BYTES) throw PaiError.of(413, 'InvalidParametersError', 'InvalidParametersError', `request entity too large: a protocol is at most ${MAX_TEXT_BODY_BYTES} bytes`);
    let name = '';
    let virtualCluster: string | undefined;
    try {
      const parsed = protocolToExec(text, { userName: caller.user });
      name = parsed.name;
      virtualCluster = parsed.virtualCluster;
      const sub: NamedSubmission = { name: parsed.name, virtualCluster: parsed.virtualCluster, spec: parsed.spec, by: 'v2', ...(parsed.sealed !== undefined ? { sealed: parsed.sealed } : {}) };
      return await submitNamed(service, cx.documents, by(caller, 'v2 submit'), sub);
    } catch (err) {
      throw submitError('v2', err, caller.user, name, virtualCluster);
    }
  }

  // ---- the seed's v1 ----

  app.get('/api/v1/jobs', async (request) => {
    const caller = reader(request);
    const username = usernameQuery(request);
    const owner = caller.role === 'admin' ? username : username ?? caller.user;
    const jobs = caller.role === 'admin' || username === undefined || username === caller.user ? await listJobs(cx, caller, owner) : [];
    return jobs.map(v1ListItem);
  });

  app.post('/api/v1/jobs', async (request, reply) => {
    const caller = submitterCaller(request);
    const job = await submitV1(request, caller);
    return reply.code(201).send({ message: `update job ${openpaiName(job)} successfully` });
  });

  app.get<{ Params: { jobName: string } }>('/api/v1/jobs/:jobName', async (request) => {
    const job = await findSeedJob(service, reader(request), request.params.jobName, presentCaller(request)?.user);
    return v1SeedDetail(job);
  });

  app.put<{ Params: { jobName: string } }>('/api/v1/jobs/:jobName', async (request, reply) => {
    const caller = submitterCaller(request);
    const job = await submitV1(request, caller, request.params.jobName);
    return reply.code(201).send({ message: `update job ${openpaiName(job)} successfully` });
  });

  app.delete<{ Params: { jobName: string } }>('/api/v1/jobs/:jobName', async (request) => {
    const caller = submitterCaller(request);
    const job = await findSeedJob(service, caller, request.params.jobName);
    await removeJob(service, cx.documents, by(caller, 'v1 delete'), job);
    return { message: `deleted job ${openpaiName(job)} successfully` };
  });

  app.get<{ Params: { jobName: string } }>('/api/v1/jobs/:jobName/config', async (request) => {
    const job = await findSeedJob(service, reader(request), request.params.jobName, presentCaller(request)?.user);
    return v1Config(job);
  });

  app.get<{ Params: { jobName: string } }>('/api/v1/jobs/:jobName/ssh', async (request) => {
    await findSeedJob(service, reader(request), request.params.jobName, presentCaller(request)?.user);
    // instances are processes on the worker host, not containers: there is nothing to ssh into
    return { containers: [], keyPair: null };
  });

  app.put<{ Params: { jobName: string } }>('/api/v1/jobs/:jobName/executionType', async (request) => {
    const caller = submitterCaller(request);
    const value = executionValue('v1', request.body);
    const job = await findSeedJob(service, caller, request.params.jobName);
    await execute(service, by(caller, `executionType ${value}`), job, value);
    return { message: `execute job ${openpaiName(job)} successfully` };
  });

  /** A v1 path's config of a job: what was submitted, as JSON (a v2 job: its protocol object). */
  function v1Config(job: JobView): unknown {
    const stored = storedConfig(job);
    return 'v1' in stored ? stored.v1 : stored.protocol;
  }

  // ---- user-scoped v1 (PAIV1) ----

  app.get<{ Params: { user: string } }>('/api/v1/user/:user/jobs', async (request) => {
    const caller = reader(request);
    const { user } = request.params;
    if (caller.role !== 'admin' && caller.user !== user) return [];
    return (await listJobs(cx, caller, user)).map(v1ListItem);
  });

  app.post<{ Params: { user: string } }>('/api/v1/user/:user/jobs', async (request, reply) => {
    const caller = submitterCaller(request);
    checkPathUser(caller, request.params.user);
    const job = await submitV1(request, caller);
    return reply.code(201).send({ message: `update job ${openpaiName(job)} successfully` });
  });

  app.get<{ Params: { user: string; job: string } }>('/api/v1/user/:user/jobs/:job', async (request) => {
    const job = await findJob(service, reader(request), request.params.user, request.params.job);
    return v1UserDetail(job, await tasksOf(cx, job));
  });

  app.delete<{ Params: { user: string; job: string } }>('/api/v1/user/:user/jobs/:job', async (request) => {
    const caller = submitterCaller(request);
    const job = await findJob(service, caller, request.params.user, request.params.job);
    await removeJob(service, cx.documents, by(caller, 'v1 delete'), job);
    return { message: `deleted job ${openpaiName(job)} successfully` };
  });

  app.put<{ Params: { user: string; job: string } }>('/api/v1/user/:user/jobs/:job/executionType', async (request) => {
    const caller = submitterCaller(request);
    const value = executionValue('v1', request.body);
    const job = await findJob(service, caller, request.params.user, request.params.job);
    await execute(service, by(caller, `executionType ${value}`), job, value);
    return { message: `execute job ${openpaiName(job)} successfully` };
  });

  app.get<{ Params: { user: string; job: string } }>('/api/v1/user/:user/jobs/:job/ssh', async (request) => {
    await findJob(service, reader(request), request.params.user, request.params.job);
    return { containers: [], keyPair: null };
  });

  // PAIV1's getConfig asks this path (an SDK bug, served on purpose)
  app.get<{ Params: { user: string; job: string } }>('/api/v1/jobs/:user/jobs/:job/config', async (request) => {
    const job = await findJob(service, reader(request), request.params.user, request.params.job);
    return v1Config(job);
  });

  // ---- v2 ----

  app.post('/api/v2/jobs', async (request, reply) => {
    const caller = submitterCaller(request);
    const job = await submitV2(request, caller);
    return reply.code(202).send({ status: 202, message: `Update job ${openpaiName(job)} for user ${caller.user} successfully.` });
  });

  app.get('/api/v2/jobs', async (request) => {
    const caller = tokenCaller(request);
    const q = parseV2ListQuery(request.query as Record<string, unknown>);
    // the engine filters one owner; applyV2List the rest of the query (several usernames too)
    const owner = caller.role !== 'admin' ? caller.user : q.usernames?.length === 1 ? q.usernames[0] : undefined;
    const jobs = caller.role !== 'admin' && q.usernames !== null && !q.usernames.includes(caller.user) ? [] : await listJobs(cx, caller, owner);
    return applyV2List(jobs, (job) => tagsOf(cx.documents, job), q);
  });

  /** The job of a `user~job` id the caller may see (404 NoJobError otherwise). */
  async function framework(request: FastifyRequest<{ Params: { frameworkName: string } }>, caller: Caller): Promise<JobView> {
    const split = splitFrameworkName(request.params.frameworkName);
    if (split === undefined) throw noJob(...userAndName(request.params.frameworkName));
    return findJob(service, caller, split.user, split.name);
  }

  app.get<{ Params: { frameworkName: string } }>('/api/v2/jobs/:frameworkName', async (request) => {
    const job = await framework(request, tokenCaller(request));
    return v2Detail(job, await tasksOf(cx, job), tagsOf(cx.documents, job));
  });

  app.get<{ Params: { frameworkName: string; attempt: string } }>('/api/v2/jobs/:frameworkName/attempts/:attempt', async (request) => {
    const job = await framework(request, tokenCaller(request));
    if (request.params.attempt !== String(retriesOf(job))) throw noJob(job.owner, openpaiName(job));
    return v2Detail(job, await tasksOf(cx, job), tagsOf(cx.documents, job));
  });

  // getTask: one instance with its current attempt (earlier attempts are not kept apart; plan §2.3, partial)
  app.get<{ Params: { frameworkName: string; attempt: string; taskRoleName: string; taskIndex: string } }>('/api/v2/jobs/:frameworkName/attempts/:attempt/taskRoles/:taskRoleName/taskIndex/:taskIndex/attempts', async (request) => {
    const job = await framework(request, tokenCaller(request));
    const { attempt, taskRoleName, taskIndex } = request.params;
    if (attempt !== String(retriesOf(job))) throw noJob(job.owner, openpaiName(job));
    const task = (await tasksOf(cx, job)).map((t) => v2TaskDetail(job, t)).find((d) => d !== undefined && d.taskRoleName === taskRoleName && String(d.taskIndex) === taskIndex);
    if (task === undefined) {
      // the original's answer (models/v2/task.js): NoJobError naming the task
      const message = `Task not found in Job ${job.owner}~${openpaiName(job)} with jobAttemptIndex ${attempt}, taskRoleName ${taskRoleName.slice(0, 128)} and taskIndex ${taskIndex.slice(0, 16)}.`;
      throw new PaiError({ status: 404, name: 'JobNotFound', message }, { status: 404, name: 'NoJobError', message });
    }
    return task;
  });

  /** The instance of a task path, or NoTaskLogError (the logs routes' 404). */
  async function instanceTask(request: FastifyRequest<{ Params: TaskLogParams }>): Promise<{ job: JobView; taskId: string; firstAttempt: number }> {
    const job = await framework(request, tokenCaller(request));
    const { attempt, taskRoleName, taskIndex } = request.params;
    const found = attempt === String(retriesOf(job))
      ? (await tasksOf(cx, job)).find((t) => {
          const d = v2TaskDetail(job, t);
          return d !== undefined && d.taskRoleName === taskRoleName && String(d.taskIndex) === taskIndex;
        })
      : undefined;
    if (found === undefined) {
      const message = `Log of task ${taskRoleName.slice(0, 128)}[${taskIndex.slice(0, 16)}] of job ${job.owner}~${openpaiName(job)} attempt ${attempt.slice(0, 16)} is not found.`;
      throw new PaiError({ status: 404, name: 'JobNotFound', message }, { status: 404, name: 'NoTaskLogError', message });
    }
    return { job, taskId: found.taskId, firstAttempt: found.firstAttempt };
  }

  // getTaskLogs: where an instance's output is, as the original's log manager links (here: the routes below, same token)
  app.get<{ Params: TaskLogParams }>(`${TASK_PATH}/attempts/:taskAttempt/logs`, async (request) => {
    await instanceTask(request);
    const here = `${request.protocol}://${request.host}${request.url.split('?', 1)[0]}`;
    return { locations: LOG_STREAMS.map((name) => ({ name, uri: `${here}/${name}` })) };
  });

  // one stream of an attempt's output as text (tailMode=true: its last 16 KiB)
  app.get<{ Params: TaskLogParams & { stream: string }; Querystring: { tailMode?: string } }>(`${TASK_PATH}/attempts/:taskAttempt/logs/:stream`, async (request, reply) => {
    const { job, taskId, firstAttempt } = await instanceTask(request);
    const { stream, taskAttempt } = request.params;
    if (!(LOG_STREAMS as readonly string[]).includes(stream) || !/^\d{1,9}$/.test(taskAttempt)) throw badParameters(`logs: the stream is one of ${LOG_STREAMS.join(', ')} and the attempt a number`);
    if (cx.taskLogs === undefined) throw new PaiError({ status: 404, name: 'JobNotFound', message: 'task logs are not kept by this service' }, { status: 404, name: 'NoTaskLogError', message: 'Task logs are not kept by this service.' });
    const tail = request.query.tailMode === 'true';
    // OpenPAI's task attempt ids count from 0 within the job attempt; the engine's go on from the run's first
    const read = await cx.taskLogs.read(job.id, taskId, {
      attempt: firstAttempt + Number(taskAttempt),
      ...(stream === 'all' ? {} : { stream: stream as 'stdout' | 'stderr' }),
      ...(tail ? { tailBytes: LOG_TAIL_BYTES } : {}),
    });
    return reply.type('text/plain; charset=utf-8').send(read.chunks.map((c) => c.text).join(''));
  });

  app.get<{ Params: { frameworkName: string } }>('/api/v2/jobs/:frameworkName/config', async (request, reply) => {
    const job = await framework(request, tokenCaller(request));
    const stored = storedConfig(job);
    const text = 'v2' in stored ? stored.v2 : dumpProtocol(v1ToProtocol(stored.v1));
    return reply.type('text/yaml; charset=utf-8').send(text);
  });

  app.put<{ Params: { frameworkName: string } }>('/api/v2/jobs/:frameworkName/executionType', async (request, reply) => {
    const caller = submitterCaller(request);
    const value = executionValue('v2', request.body);
    const job = await framework(request, caller);
    await execute(service, by(caller, `executionType ${value}`), job, value);
    return reply.code(202).send({ status: 202, message: `Execute job ${openpaiName(job)} successfully.` });
  });

  app.put<{ Params: { frameworkName: string } }>('/api/v2/jobs/:frameworkName/tag', async (request) => {
    const caller = submitterCaller(request);
    const job = await framework(request, caller);
    const tag = tagValue(request.body);
    await addTag(cx.documents, job, tag);
    return { message: `Add tag ${tag} for job ${openpaiName(job)} successfully.` };
  });

  app.delete<{ Params: { frameworkName: string } }>('/api/v2/jobs/:frameworkName/tag', async (request) => {
    const caller = submitterCaller(request);
    const job = await framework(request, caller);
    const tag = tagValue(request.body);
    if (!(await deleteTag(cx.documents, job, tag))) {
      throw new PaiError({ status: 404, name: 'NoTagError', message: `Tag ${tag} is not found for job ${openpaiName(job)} .` });
    }
    return { message: `Delete tag ${tag} from job ${openpaiName(job)} successfully.` };
  });

  app.get<{ Params: { frameworkName: string } }>('/api/v2/jobs/:frameworkName/events', async (request) => {
    await framework(request, tokenCaller(request));
    // no Kubernetes events: instances are processes (partial, docs/compat/openpai.md)
    return { totalCount: 0, data: [] };
  });

  // the health of the job-history service, not of a job: the original checks the token only (the SDK's suite sends undefined~undefined)
  app.get('/api/v2/jobs/:frameworkName/job-attempts/healthz', async (request) => {
    tokenCaller(request);
    return { message: 'ok' };
  });

  app.get<{ Params: { frameworkName: string } }>('/api/v2/jobs/:frameworkName/job-attempts', async (request) => {
    const job = await framework(request, tokenCaller(request));
    return [v2JobAttempt(job, await tasksOf(cx, job))];
  });

  app.get<{ Params: { frameworkName: string; attempt: string } }>('/api/v2/jobs/:frameworkName/job-attempts/:attempt', async (request) => {
    const job = await framework(request, tokenCaller(request));
    if (request.params.attempt !== String(retriesOf(job))) throw noJob(job.owner, openpaiName(job));
    return v2JobAttempt(job, await tasksOf(cx, job));
  });
}

function retriesOf(job: JobView): number {
  return (job as { retries?: number }).retries ?? 0;
}

/** The two halves of a malformed `user~job` for the not-found message. */
function userAndName(frameworkName: string): [string, string] {
  const at = frameworkName.indexOf('~');
  const cut = (s: string) => s.slice(0, 128);
  return at < 0 ? ['', cut(frameworkName)] : [cut(frameworkName.slice(0, at)), cut(frameworkName.slice(at + 1))];
}

/** A tag body `{value}`: 1..256 visible characters. */
function tagValue(body: unknown): string {
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['value'] : undefined;
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(value)) throw badParameters('tag: the body must be {"value": "<tag>"} (1 to 256 visible ASCII characters)');
  return value;
}

