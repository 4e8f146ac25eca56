/**
 * End-to-end journeys over real HTTP against a whole service on a real nats-server: identity and
 * job visibility, virtual clusters, job controls, and the OpenAPI document.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, silentLogger, startEngine, type Engine } from '../../../engine/index.ts';
import type { JobView, VirtualClusterStatus } from '../../../engine/serviceTypes.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { startTestNats, type TestNats } from '../../helpers/natsServer.ts';
import { http, startTestService, type TestService } from '../../helpers/service.ts';
import {
  API, anonymous, as, createUser, getJob, history, login, loginRaw, passwordOf, submit, userToken, waitJob, waitState,
  type ApiError,
} from './journeyKit.ts';
import { waitFor } from '../../helpers/wait.ts';

const LOGIN_LIMIT = 6;

describe('journey: access and controls', () => {
  let nats: TestNats;
  let svc: TestService;
  let base: string;
  before(async () => {
    nats = await startTestNats();
    // Small capacities make quotas and pause observable: 4 running-job slots, 2 tasks in flight per worker.
    svc = await startTestService(nats.url, { loginRateLimitPerMinute: LOGIN_LIMIT, runningJobCapacity: 4, maxTasksPerWorker: 2 });
    base = svc.baseUrl;
  });
  after(async () => {
    await svc?.stop();
    await nats?.cleanup();
  });

  it('identity: roles, ownership (404 for others), logout, password change, forged/expired tokens, login rate limit', async () => {
    await createUser(base, 'alice', 'operator');
    await createUser(base, 'oscar', 'operator');
    await createUser(base, 'victor', 'viewer');
    const alice = await login(base, 'alice');
    const oscar = await login(base, 'oscar');
    const victor = await login(base, 'victor');

    const me = await http<{ name: string; role: string }>(base, 'GET', `${API}/auth/me`, undefined, as(alice));
    assert.deepEqual([me.status, me.body.name, me.body.role], [200, 'alice', 'operator']);

    const job = await submit(base, { type: 'sleep', spec: { ms: 0 }, name: 'alice-job' }, alice);
    assert.equal(job.owner, 'alice');

    // a viewer may not submit, and cannot see another user's job
    const vSubmit = await http<ApiError>(base, 'POST', `${API}/jobs`, { type: 'sleep', spec: { ms: 0 } }, as(victor));
    assert.deepEqual([vSubmit.status, vSubmit.body.code], [403, 'FORBIDDEN']);
    const vGet = await http<ApiError>(base, 'GET', `${API}/jobs/${job.id}`, undefined, as(victor));
    assert.deepEqual([vGet.status, vGet.body.code], [404, 'JOB_NOT_FOUND']);

    // another operator: 404 on read and on a command, and the job is not in its list
    const oGet = await http<ApiError>(base, 'GET', `${API}/jobs/${job.id}`, undefined, as(oscar));
    assert.deepEqual([oGet.status, oGet.body.code], [404, 'JOB_NOT_FOUND']);
    const oStop = await http<ApiError>(base, 'POST', `${API}/jobs/${job.id}/stop`, undefined, as(oscar));
    assert.deepEqual([oStop.status, oStop.body.code], [404, 'JOB_NOT_FOUND']);
    const oList = await http<{ jobs: JobView[] }>(base, 'GET', `${API}/jobs?active=all`, undefined, as(oscar));
    assert.equal(oList.status, 200);
    assert.ok(!oList.body.jobs.some((j) => j.id === job.id), 'oscar must not list alice\'s job');
    // the owner and the admin see it
    assert.equal((await getJob(base, job.id, alice)).id, job.id);
    const adminList = await http<{ jobs: JobView[] }>(base, 'GET', `${API}/jobs?active=all`);
    assert.ok(adminList.body.jobs.some((j) => j.id === job.id && j.owner === 'alice'));
    await waitState(base, job.id, 'SUCCEEDED');

    // logout revokes only the token presented
    const second = await login(base, 'alice');
    const out = await http(base, 'POST', `${API}/auth/logout`, undefined, as(second));
    assert.equal(out.status, 204);
    const afterLogout = await http<ApiError>(base, 'GET', `${API}/auth/me`, undefined, as(second));
    assert.deepEqual([afterLogout.status, afterLogout.body.code], [401, 'UNAUTHENTICATED']);
    assert.equal((await http(base, 'GET', `${API}/auth/me`, undefined, as(alice))).status, 200);

    // a password change revokes the old tokens; the old password stops working, the new one works
    const newPassword = 'alice-brand-new-password';
    const change = await http(base, 'PUT', `${API}/users/alice/password`, { password: newPassword, currentPassword: passwordOf('alice') }, as(alice));
    assert.equal(change.status, 204);
    const oldToken = await http<ApiError>(base, 'GET', `${API}/jobs/${job.id}`, undefined, as(alice));
    assert.deepEqual([oldToken.status, oldToken.body.code], [401, 'UNAUTHENTICATED']);
    const oldPw = await loginRaw(base, 'alice', passwordOf('alice'));
    assert.deepEqual([oldPw.status, oldPw.body.code], [401, 'INVALID_CREDENTIALS']);
    const fresh = await login(base, 'alice', newPassword);
    assert.equal((await getJob(base, job.id, fresh)).owner, 'alice');

    // a forged token (right shape, never issued) is 401 with a Bearer challenge
    const forged = `jjt_${randomBytes(32).toString('base64url')}`;
    const f = await http<ApiError>(base, 'GET', `${API}/jobs`, undefined, as(forged));
    assert.deepEqual([f.status, f.body.code], [401, 'UNAUTHENTICATED']);
    assert.match(f.headers.get('www-authenticate') ?? '', /^Bearer/);
    const none = await http<ApiError>(base, 'GET', `${API}/jobs`, undefined, anonymous);
    assert.deepEqual([none.status, none.body.code], [401, 'UNAUTHENTICATED']);

    // a short-lived token works, then expires
    const short = await login(base, 'oscar', passwordOf('oscar'), 1000);
    assert.equal((await http(base, 'GET', `${API}/auth/me`, undefined, as(short))).status, 200);
    const expired = await waitFor(async () => {
      const r = await http<ApiError>(base, 'GET', `${API}/auth/me`, undefined, as(short));
      return r.status === 200 ? undefined : r;
    }, { what: 'the 1 s token to expire', timeoutMs: 5000, intervalMs: 100, retryErrors: true });
    assert.deepEqual([expired.status, expired.body.code], [401, 'UNAUTHENTICATED']);
    assert.equal((await http(base, 'GET', `${API}/auth/me`, undefined, as(oscar))).status, 200, 'the long-lived token still works');

    // password guessing is limited per address and user name: 429 with retry-after
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof loginRaw>> | undefined;
    for (let i = 0; i <= LOGIN_LIMIT; i++) {
      const r = await loginRaw(base, 'mallory', `wrong-password-${i}`);
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.deepEqual(statuses, [...Array<number>(LOGIN_LIMIT).fill(401), 429]);
    assert.equal(limited?.body.code, 'RATE_LIMITED');
    assert.match(limited?.headers.get('retry-after') ?? '', /^\d+$/);
    // other users are not locked out by mallory's attempts
    assert.equal((await loginRaw(base, 'victor', passwordOf('victor'))).status, 200);
  });

  it('virtual clusters: grants, 403/404 on submit, waiting/active counts that follow the jobs', async () => {
    const created = await http<VirtualClusterStatus>(base, 'POST', `${API}/virtual-clusters`, { name: 'gpu', capacity: 30, maxCapacity: 50 });
    assert.equal(created.status, 201);
    assert.deepEqual([created.body.name, created.body.capacity, created.body.maxCapacity], ['gpu', 30, 50]);
    const gina = await userToken(base, 'gina', 'operator');
    const otto = await userToken(base, 'otto', 'operator');
    const grant = await http<{ virtualClusters: string[] }>(base, 'PUT', `${API}/users/gina/virtual-clusters`, { virtualClusters: ['gpu'] });
    assert.equal(grant.status, 200);
    assert.ok(grant.body.virtualClusters.includes('gpu'));

    const forbidden = await http<ApiError>(base, 'POST', `${API}/jobs`, { type: 'sleep', spec: { ms: 0 }, virtualCluster: 'gpu' }, as(otto));
    assert.deepEqual([forbidden.status, forbidden.body.code], [403, 'VIRTUAL_CLUSTER_FORBIDDEN']);
    const unknown = await http<ApiError>(base, 'POST', `${API}/jobs`, { type: 'sleep', spec: { ms: 0 }, virtualCluster: 'nope' }, as(gina));
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'VIRTUAL_CLUSTER_NOT_FOUND']);
    // otto may not even see the cluster
    assert.equal((await http(base, 'GET', `${API}/virtual-clusters/gpu`, undefined, as(otto))).status, 404);

    // 4 slots in all: gpu may use at most ⌊50 % × 4⌋ = 2 at once, the rest wait
    const jobs: JobView[] = [];
    for (let i = 0; i < 4; i++) jobs.push(await submit(base, { type: 'sleep', spec: { ms: 1500 }, virtualCluster: 'gpu', name: `gpu-${i}` }, gina));
    assert.ok(jobs.every((j) => j.virtualCluster === 'gpu'));
    const status = () => http<VirtualClusterStatus>(base, 'GET', `${API}/virtual-clusters/gpu`, undefined, as(gina)).then((r) => r.body);
    const busy = await waitFor(async () => {
      const s = await status();
      return s.numActiveJobs === 2 && s.numPendingJobs === 2 ? s : undefined;
    }, { what: 'gpu to run 2 and hold 2 waiting', intervalMs: 50, retryErrors: true });
    assert.equal(busy.numJobs, 4);
    assert.equal(busy.slots.used, 2);
    const states = await Promise.all(jobs.map((j) => getJob(base, j.id).then((v) => v.state)));
    assert.equal(states.filter((s) => s === 'WAITING').length, 2, `states ${states.join(',')}`);
    // as the first two finish, the waiting ones start
    await waitFor(async () => {
      const s = await status();
      return s.numPendingJobs === 0 && s.numActiveJobs > 0 ? s : undefined;
    }, { what: 'gpu to drain its queue', intervalMs: 50, retryErrors: true });
    await Promise.all(jobs.map((j) => waitState(base, j.id, 'SUCCEEDED')));
    const done = await status();
    assert.deepEqual([done.numActiveJobs, done.numPendingJobs, done.numJobs], [0, 0, 4]);
  });

  it('controls: pause holds progress, resume finishes; rerun links the old job; deactivate hides it', async () => {
    const olga = await userToken(base, 'olga', 'operator');
    // 2 tasks in flight at most (maxTasksPerWorker 2): a pause leaves most of the 8 undone
    const job = await submit(base, { type: 'sleep', spec: { ms: 300, tasks: 8 }, name: 'pausable' }, olga);
    await waitState(base, job.id, 'RUNNING');
    const paused = await http<JobView>(base, 'POST', `${API}/jobs/${job.id}/pause`, { reason: 'lunch' }, as(olga));
    assert.deepEqual([paused.status, paused.body.state], [200, 'PAUSED']);
    // tasks in flight finish (≤ 300 ms); after that nothing moves while paused
    await waitFor(() => svc.engine.worker!.running() === 0, { what: 'the tasks in flight to finish', intervalMs: 20 });
    // a task counts as running until its outcome is stored: the job's view shows those outcomes once the projection has them
    const before = (await history(base, job.id)).filter((e) => e.type === 'TaskSucceeded').length;
    await waitFor(async () => (await getJob(base, job.id)).progress.tasksSucceeded === before, { what: 'the stored outcomes in the job view', timeoutMs: 30_000 });
    // a later job's task goes through the same pool and worker: a task the paused job had
    // dispatched meanwhile would be in the queue before it and would have run first
    const marker = await submit(base, { type: 'sleep', spec: { ms: 10, tasks: 1 }, name: 'marker' }, olga);
    await waitState(base, marker.id, 'SUCCEEDED');
    const held = await getJob(base, job.id);
    assert.equal(held.state, 'PAUSED');
    assert.equal(held.progress.tasksSucceeded, before, 'no progress while paused');
    assert.ok(before < 8, `only part of the work was done before the pause (${before}/8)`);

    const resumed = await http<JobView>(base, 'POST', `${API}/jobs/${job.id}/resume`, { reason: 'back' }, as(olga));
    assert.deepEqual([resumed.status, resumed.body.state], [200, 'RUNNING']);
    const done = await waitState(base, job.id, 'SUCCEEDED');
    assert.equal(done.progress.tasksSucceeded, 8);
    const h = await history(base, job.id);
    const pausedEv = h.find((e) => e.type === 'JobPaused');
    const resumedEv = h.find((e) => e.type === 'JobResumed');
    assert.deepEqual([pausedEv?.meta.actor, pausedEv?.meta.reason], ['user:olga', 'lunch']);
    assert.deepEqual([resumedEv?.meta.actor, resumedEv?.meta.reason], ['user:olga', 'back']);

    // rerun: a new job with the same work and a link back
    const rerun = await http<JobView>(base, 'POST', `${API}/jobs/${job.id}/rerun`, { reason: 'once more' }, as(olga));
    assert.equal(rerun.status, 201);
    // recorded on the new job: who asked, why, and which job it repeats
    const submitted = (await history(base, rerun.body.id)).find((e) => e.type === 'JobSubmitted');
    assert.deepEqual([submitted?.meta.actor, submitted?.meta.reason], ['user:olga', 'once more']);
    assert.notEqual(rerun.body.id, job.id);
    assert.deepEqual([rerun.body.rerunOf, rerun.body.type, rerun.body.name, rerun.body.owner], [job.id, 'sleep', 'pausable', 'olga']);
    assert.deepEqual(rerun.body.spec, job.spec);
    assert.equal(rerun.headers.get('location'), `${API}/jobs/${rerun.body.id}`);
    await waitState(base, rerun.body.id, 'SUCCEEDED');

    // deactivate: hidden from the default list, shown with active=all (and active=false)
    const deact = await http<JobView>(base, 'POST', `${API}/jobs/${job.id}/deactivate`, { reason: 'archived' }, as(olga));
    assert.deepEqual([deact.status, deact.body.active], [200, false]);
    const activeEv = (await history(base, job.id)).find((e) => e.type === 'JobActiveSet');
    assert.deepEqual([activeEv?.meta.actor, activeEv?.meta.reason], ['user:olga', 'archived']);
    const ids = async (q: string) => (await http<{ jobs: JobView[] }>(base, 'GET', `${API}/jobs${q}`, undefined, as(olga))).body.jobs.map((j) => j.id);
    const dflt = await ids('');
    assert.ok(!dflt.includes(job.id) && dflt.includes(rerun.body.id), 'the default list hides the inactive job only');
    assert.ok((await ids('?active=all')).includes(job.id));
    assert.deepEqual(await ids('?active=false'), [job.id]);
    // an inactive job cannot be re-run
    const again = await http<ApiError>(base, 'POST', `${API}/jobs/${job.id}/rerun`, undefined, as(olga));
    assert.deepEqual([again.status, again.body.code], [409, 'INVALID_TRANSITION']);
    const act = await http<JobView>(base, 'POST', `${API}/jobs/${job.id}/activate`, undefined, as(olga));
    assert.deepEqual([act.status, act.body.active], [200, true]);
    assert.ok((await ids('')).includes(job.id));
  });

  it('controls: stop with a grace period stops a running job at the deadline, recorded with actor and reason', async () => {
    const sam = await userToken(base, 'sam', 'operator');
    const job = await submit(base, { type: 'sleep', spec: { ms: 20_000 }, name: 'long' }, sam);
    await waitJob(base, job.id, 'running its task', (j) => j.state === 'RUNNING' && j.progress.tasksTotal === 1);
    const t0 = Date.now();
    const stop = await http<JobView>(base, 'POST', `${API}/jobs/${job.id}/stop`, { graceMs: 800, reason: 'wrong input' }, as(sam));
    assert.equal(stop.status, 200);
    assert.equal(stop.body.state, 'RUNNING', 'a cooperative stop answers with the job still running');
    assert.equal(stop.body.stopRequested?.graceMs, 800);
    const deadline = Date.parse(stop.body.stopRequested?.deadline ?? '');
    const stopped = await waitState(base, job.id, 'STOPPED', 10_000);
    const tookMs = Date.now() - t0;
    assert.ok(tookMs >= 700, `stopped after the grace (${tookMs} ms)`);
    assert.ok(tookMs < 10_000, `stopped long before the task's own end (${tookMs} ms)`);
    assert.ok(Date.parse(stopped.finishedAt ?? '') >= deadline - 50, 'finished at or after the deadline');
    const h = await history(base, job.id);
    const req = h.find((e) => e.type === 'StopRequested');
    const end = h.find((e) => e.type === 'JobStopped');
    assert.deepEqual([req?.meta.actor, req?.meta.reason, req?.data['graceMs']], ['user:sam', 'wrong input', 800]);
    assert.ok(end, 'JobStopped recorded');
    // The owning coordinator ends the job at the deadline and says why (docs/api.md "Stop").
    assert.match(end.meta.actor ?? '', /^coordinator:/);
    assert.match(end.meta.reason ?? '', /grace period over/);
  });

  it('controls: recover re-runs only the tasks whose files were missing, then the job succeeds', async () => {
    // Own service without a worker: the plan is made, then a file disappears before any task runs.
    // One task in flight at a time, in plan order, so the missing file's task (the last) fails last.
    const n2 = await startTestNats();
    const svc2 = await startTestService(n2.url, { roles: ['api', 'coordinator'], maxTasksPerWorker: 1 });
    const workerDir = await mkdtemp(join(tmpdir(), 'jetjobs-worker-'));
    let worker: Engine | undefined;
    try {
      const b2 = svc2.baseUrl;
      const ds = join(svc2.config.filesDir, 'ds1');
      await mkdir(ds, { recursive: true });
      await Promise.all(['a.txt', 'b.txt', 'z.txt'].map((f) => writeFile(join(ds, f), `content of ${f}\n`)));
      const rita = await userToken(b2, 'rita', 'operator');
      const job = await submit(b2, { type: 'load', spec: { path: 'ds1', batchSize: 1 }, name: 'load ds1' }, rita);
      await waitJob(b2, job.id, 'planned', (j) => j.state === 'RUNNING' && j.progress.tasksTotal === 3);
      await rm(join(ds, 'z.txt'));
      worker = await startEngine(
        resolveConfig({
          natsUrl: n2.url, stateDir: workerDir, filesDir: svc2.config.filesDir, cacheDir: svc2.config.cacheDir, roles: ['worker'],
          heartbeatMs: 200, failureDetectionTimeoutMs: 1500, adminToken: TEST_ADMIN_TOKEN,
        }),
        silentLogger,
      );
      const failed = await waitState(b2, job.id, 'FAILED');
      assert.equal(failed.progress.itemsFailed, 1);
      const failures = await http<{ items: { item: string }[] }>(b2, 'GET', `${API}/jobs/${job.id}/failures`, undefined, as(rita));
      assert.ok(JSON.stringify(failures.body).includes('z.txt'), JSON.stringify(failures.body));

      const firstRun = (await history(b2, job.id)).filter((e) => e.type === 'TaskSucceeded').map((e) => e.data['taskId']);
      assert.deepEqual(firstRun.sort(), ['t00000', 't00001', 't00002'], 'every task ran once before the job failed');
      await writeFile(join(ds, 'z.txt'), 'content of z.txt\n');
      const before = (await history(b2, job.id)).length;
      const rec = await http<JobView>(b2, 'POST', `${API}/jobs/${job.id}/recover`, { mode: 'notSucceeded', reason: 'file restored' }, as(rita));
      assert.equal(rec.status, 200);
      assert.equal(rec.body.recoveries, 1);
      const ok = await waitState(b2, job.id, 'SUCCEEDED');
      assert.deepEqual([ok.progress.itemsDone, ok.progress.itemsFailed, ok.progress.tasksSucceeded], [3, 0, 3]);
      const later = (await history(b2, job.id)).slice(before);
      const recovered = later.find((e) => e.type === 'JobRecovered');
      assert.deepEqual([recovered?.meta.actor, recovered?.meta.reason, recovered?.data['tasksReset']], ['user:rita', 'file restored', 1]);
      const rerunTasks = later.filter((e) => e.type === 'TaskSucceeded').map((e) => e.data['taskId']);
      assert.deepEqual(rerunTasks, ['t00002'], "only z.txt's task ran again");
    } finally {
      await worker?.shutdown();
      await svc2.stop();
      await n2.cleanup();
      await rm(workerDir, { recursive: true, force: true });
    }
  });

  it('OpenAPI: /docs and /docs/json are public and list the routes of these journeys', async () => {
    const doc = await http<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(base, 'GET', '/docs/json', undefined, anonymous);
    assert.equal(doc.status, 200);
    assert.match(doc.body.openapi, /^3\./);
    const want: [string, string][] = [
      ['post', '/auth/login'], ['post', '/auth/logout'], ['get', '/auth/me'],
      ['post', '/users'], ['put', '/users/{name}/password'], ['put', '/users/{name}/virtual-clusters'],
      ['post', '/virtual-clusters'], ['get', '/virtual-clusters/{name}'],
      ['post', '/jobs'], ['get', '/jobs'], ['get', '/jobs/{id}'], ['get', '/jobs/{id}/history'], ['get', '/jobs/{id}/failures'],
      ['post', '/jobs/{id}/stop'], ['post', '/jobs/{id}/pause'], ['post', '/jobs/{id}/resume'], ['post', '/jobs/{id}/recover'],
      ['post', '/jobs/{id}/rerun'], ['post', '/jobs/{id}/deactivate'], ['post', '/jobs/{id}/activate'],
      ['get', '/jobs/{id}/events'], ['get', '/events'],
      ['post', '/webhooks'], ['get', '/webhooks/callback-secret'], ['get', '/jobs/{id}/deliveries'], ['post', '/jobs/{id}/deliveries/redeliver'],
    ];
    const missing = want.filter(([m, p]) => doc.body.paths[API + p]?.[m] === undefined).map(([m, p]) => `${m.toUpperCase()} ${p}`);
    assert.deepEqual(missing, []);
    const ui = await fetch(`${base}/docs`);
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-type') ?? '', /text\/html/);
  });
});
