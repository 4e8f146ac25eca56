/**
 * The `exec` job type (issue 14, the engine part of OpenPAI's jobs) over the native API against a
 * real nats-server and real processes: task roles and instances with OpenPAI's variables, output
 * in the task logs, a role's completion policy deciding the outcome with the exit code recorded,
 * taskRetryCount, jobRetryCount (the job run again as a whole, the old run's instances killed), a
 * stop killing every instance, and sealed commands (the secret-holding commands a facade keeps in the
 * document store: run, hidden in every view and log, kept for reruns and recoveries, and a missing
 * document failing the instance).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { EXEC_SEALED_NAMESPACE, type ExecSealedDocument } from '../../../engine/index.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

const API = '/native/v1';

interface Job { id: string; state: string; retries: number; summary: { exitCode?: number; runsOn?: string; image?: string | null; roles?: { name: string; succeeded: number; failed: number }[] } | null; error: { code: string; message: string; details?: { exitCode: number | null; role: string } } | null }

async function submit(svc: TestService, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Job> {
  const r = await http<Job>(svc.baseUrl, 'POST', `${API}/jobs`, { type: 'exec', name: 'exec-test', spec, ...extra });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

/** Whether process `pid` exists. A pid of 0 would be our own process group, always there: refused. */
function alive(pid: number): boolean {
  assert.ok(Number.isSafeInteger(pid) && pid > 0, `not a pid: ${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The pid an instance put in a file's name (`touch <prefix>-$$`). Not in the file's contents: the
 * shell creates the file before it writes to it, and a read in between finds it empty (Number('')
 * is 0, and `alive(0)` would have waited for our own process group to die: failed once under load).
 */
const pidInName = (name: string): number => Number(/-(\d+)$/.exec(name)?.[1]);

const finished = (svc: TestService, id: string, timeoutMs = 60_000) =>
  waitFor(async () => {
    const j = (await http<Job>(svc.baseUrl, 'GET', `${API}/jobs/${id}`)).body;
    return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(j.state) ? j : undefined;
  }, { what: `job ${id} finished`, timeoutMs, intervalMs: 100 });

describe('exec jobs', { timeout: 180_000 }, () => {
  const ctx = useTestService();
  let drop: string;
  before(async () => {
    // instances run as sandbox uids: they may write only where everyone may
    drop = await mkdtemp(join(tmpdir(), 'jetjobs-exec-drop-'));
    await chmod(drop, 0o777);
  });
  after(async () => {
    await rm(drop, { recursive: true, force: true });
  });

  it('runs 1 ps + 3 worker instances, each with OpenPAI\'s variables; the job succeeds with every role counted', async () => {
    const out = join(drop, 'two-roles');
    const cmd = `env | grep '^PAI_' | sort > ${out}-$PAI_CURRENT_TASK_ROLE_NAME-$PAI_CURRENT_TASK_ROLE_CURRENT_TASK_INDEX && echo "hello from $PAI_CURRENT_TASK_ROLE_NAME $PAI_TASK_INDEX"`;
    const job = await submit(ctx.svc, {
      jobName: 'mnist', userName: 'alice', image: 'ubuntu:22.04',
      taskRoles: [{ name: 'ps', taskNumber: 1, commands: [`mkdir -p ${drop}`, cmd] }, { name: 'worker', taskNumber: 3, commands: [cmd] }],
    });
    const done = await finished(ctx.svc, job.id);
    assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
    assert.deepEqual(done.summary!.roles!.map((r) => [r.name, r.succeeded, r.failed]), [['ps', 1, 0], ['worker', 3, 0]]);
    assert.deepEqual([done.summary!.runsOn, done.summary!.image], ['host', 'ubuntu:22.04'], 'the image is recorded and the API says the commands ran on the host');
    const files = (await readdir(drop)).filter((f) => f.startsWith('two-roles-')).sort();
    assert.deepEqual(files, ['two-roles-ps-0', 'two-roles-worker-0', 'two-roles-worker-1', 'two-roles-worker-2']);
    const env = await readFile(join(drop, 'two-roles-worker-2'), 'utf8');
    for (const line of ['PAI_JOB_NAME=mnist', 'PAI_USER_NAME=alice', 'PAI_CURRENT_TASK_ROLE_NAME=worker', 'PAI_CURRENT_TASK_ROLE_CURRENT_TASK_INDEX=2', 'PAI_TASK_ROLE_COUNT=2', 'PAI_TASK_ROLE_LIST=ps,worker', 'PAI_TASK_ROLE_TASK_COUNT_ps=1', 'PAI_TASK_ROLE_TASK_COUNT_worker=3']) {
      assert.ok(env.split('\n').includes(line), `${line} missing in:\n${env}`);
    }
    const logs = await fetch(`${ctx.svc.baseUrl}${API}/jobs/${job.id}/tasks/t00003/logs?stream=stdout`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    assert.equal(await logs.text(), 'hello from worker 2\n');
  });

  it('a role past its minFailedInstances fails the job with the exit code recorded; a tolerated failure does not', async () => {
    const failing = await submit(ctx.svc, { taskRoles: [{ name: 'worker', taskNumber: 3, commands: ['if [ "$PAI_TASK_INDEX" = 1 ]; then exit 3; fi', 'echo fine'] }] });
    const done = await finished(ctx.svc, failing.id);
    assert.equal(done.state, 'FAILED');
    assert.equal(done.error!.code, 'EXEC_FAILED');
    assert.equal(done.error!.details!.exitCode, 3);
    assert.equal(done.error!.details!.role, 'worker');
    assert.match(done.error!.message, /worker\[1\] exit code 3/);

    const tolerant = await submit(ctx.svc, { taskRoles: [{ name: 'worker', taskNumber: 3, minFailedInstances: 2, commands: ['if [ "$PAI_TASK_INDEX" = 1 ]; then exit 3; fi'] }] });
    const ok = await finished(ctx.svc, tolerant.id);
    assert.equal(ok.state, 'SUCCEEDED', JSON.stringify(ok.error));
    assert.deepEqual(ok.summary!.roles!.map((r) => [r.succeeded, r.failed]), [[2, 1]]);
  });

  it('completion policies decide while instances still run: workers reaching minSucceededInstances end the job (the ps is killed); a failed worker fails it at once', async () => {
    const ended = await submit(ctx.svc, { taskRoles: [
      { name: 'ps', taskNumber: 1, commands: [`touch ${drop}/ps-pid-$$`, 'sleep 300'] },
      { name: 'worker', taskNumber: 3, minSucceededInstances: 3, commands: ['sleep 0.2'] },
    ] });
    const done = await finished(ctx.svc, ended.id);
    assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
    assert.deepEqual(done.summary!.roles!.map((r) => [r.name, r.succeeded, r.failed]), [['ps', 0, 0], ['worker', 3, 0]]);
    // the ps may not have started before the workers ended the job (then it was dropped, never run)
    const psFile = (await readdir(drop)).find((f) => f.startsWith('ps-pid-'));
    if (psFile !== undefined) await waitFor(() => !alive(pidInName(psFile)), { what: 'the ps instance killed', timeoutMs: 30_000 });

    const failed = await submit(ctx.svc, { taskRoles: [
      { name: 'ps', taskNumber: 1, commands: ['sleep 300'] },
      { name: 'worker', taskNumber: 2, commands: ['if [ "$PAI_TASK_INDEX" = 0 ]; then exit 2; fi', 'sleep 300'] },
    ] });
    const f = await finished(ctx.svc, failed.id);
    assert.equal(f.state, 'FAILED');
    assert.equal(f.error!.code, 'EXEC_FAILED');
    assert.equal(f.error!.details!.exitCode, 2);
  });

  it('runs a failed instance again taskRetryCount times', async () => {
    const marker = join(drop, 'retry-marker');
    const job = await submit(ctx.svc, { taskRetryCount: 1, taskRoles: [{ name: 'main', taskNumber: 1, commands: [`if [ ! -e ${marker} ]; then touch ${marker}; exit 7; fi`] }] });
    const done = await finished(ctx.svc, job.id);
    assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
    const tasks = (await http<{ tasks: { attempts: number }[] }>(ctx.svc.baseUrl, 'GET', `${API}/jobs/${job.id}/tasks`)).body.tasks;
    assert.equal(tasks[0]!.attempts, 2);
  });

  it('jobRetryCount: a job that fails in its first run runs again as a whole (every instance a new attempt, the first run\'s still running killed) and succeeds', async () => {
    const dir = await mkdtemp(join(drop, 'job-retry-'));
    await chmod(dir, 0o777);
    const job = await submit(ctx.svc, { jobRetryCount: 1, taskRoles: [
      // a ps that never exits, each run recording its pid
      { name: 'ps', taskNumber: 1, commands: [`touch ${dir}/ps-$(date +%s%N)-$$`, 'sleep 300'] },
      // worker 0 fails in the first run once the ps and worker 1 have started (on a loaded machine worker 1
      // could otherwise start after the retry, and run once); in the second both wait for the test's go;
      // the job ends when both succeeded
      { name: 'worker', taskNumber: 2, minSucceededInstances: 2, commands: [
        `touch ${dir}/worker-$PAI_TASK_INDEX-$(date +%s%N)-$$`,
        `if [ "$PAI_TASK_INDEX" = 0 ] && [ ! -e ${dir}/marker ]; then while ! ls ${dir} | grep -q '^ps-' || ! ls ${dir} | grep -q '^worker-1-'; do sleep 0.1; done; touch ${dir}/marker; exit 5; fi`,
        `while [ -e ${dir}/marker ] && [ ! -e ${dir}/go ]; do sleep 0.1; done`,
      ] },
    ] });
    // retried: the first run's ps is killed while the job still runs (not only when it ends)
    await waitFor(async () => (await http<Job>(ctx.svc.baseUrl, 'GET', `${API}/jobs/${job.id}`)).body.retries === 1, { what: 'the job retried', timeoutMs: 60_000 });
    const firstPs = (await readdir(dir)).filter((f) => f.startsWith('ps-')).sort()[0]!;
    const firstPid = pidInName(firstPs);
    await waitFor(() => !alive(firstPid), { what: 'the first run\'s ps killed by the retry', timeoutMs: 30_000 });
    assert.equal((await http<Job>(ctx.svc.baseUrl, 'GET', `${API}/jobs/${job.id}`)).body.state, 'RUNNING', 'killed by the retry, not by the job\'s end');
    await writeFile(join(dir, 'go'), '');
    const done = await finished(ctx.svc, job.id);
    assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
    assert.equal(done.retries, 1);
    const files = await readdir(dir);
    assert.equal(files.filter((f) => f.startsWith('worker-1-')).length, 2, 'the other instance ran again too');
    assert.equal(files.filter((f) => f.startsWith('worker-0-')).length, 2);
    const history = (await http<{ events: { type: string; data: { attempt?: number; error?: { code: string; details?: { exitCode: number } } } }[] }>(ctx.svc.baseUrl, 'GET', `${API}/jobs/${job.id}/history`)).body.events;
    const retried = history.filter((e) => e.type === 'JobRetried');
    assert.equal(retried.length, 1);
    assert.deepEqual([retried[0]!.data.attempt, retried[0]!.data.error!.code, retried[0]!.data.error!.details!.exitCode], [1, 'EXEC_FAILED', 5]);
    // every ps (the first run's, aborted by the retry; the second's, by the early end) is gone
    const pids = files.filter((f) => f.startsWith('ps-')).map(pidInName);
    assert.ok(pids.includes(firstPid));
    await waitFor(() => pids.every((p) => !alive(p)), { what: 'every ps instance gone', timeoutMs: 30_000 });
  });

  it('jobRetryCount: a job that fails in every run ends FAILED after its retries, with retries counted', async () => {
    const dir = await mkdtemp(join(drop, 'job-retry-fail-'));
    await chmod(dir, 0o777);
    const job = await submit(ctx.svc, { jobRetryCount: 1, taskRoles: [{ name: 'main', taskNumber: 1, commands: [`touch ${dir}/run-$(date +%s%N)-$$`, 'exit 4'] }] });
    const done = await finished(ctx.svc, job.id);
    assert.equal(done.state, 'FAILED');
    assert.equal(done.retries, 1);
    assert.equal(done.error!.code, 'EXEC_FAILED');
    assert.equal(done.error!.details!.exitCode, 4);
    assert.equal((await readdir(dir)).length, 2, 'two runs of the one instance');
  });

  it('a stop kills every running instance', async () => {
    const job = await submit(ctx.svc, { taskRoles: [{ name: 'worker', taskNumber: 2, commands: [`touch ${drop}/pids-$PAI_TASK_INDEX-$$`, 'sleep 300'] }] });
    const found = await waitFor(async () => {
      const files = (await readdir(drop)).filter((f) => f.startsWith('pids-'));
      return files.length >= 2 ? files.map(pidInName) : undefined;
    }, { what: 'both instances running', timeoutMs: 60_000 });
    assert.ok(found.every(alive));
    await http(ctx.svc.baseUrl, 'POST', `${API}/jobs/${job.id}/stop`, { force: true });
    assert.equal((await finished(ctx.svc, job.id)).state, 'STOPPED');
    await waitFor(() => found.every((p) => !alive(p)), { what: 'the instances gone', timeoutMs: 30_000 });
  });

  describe('sealed commands (commands holding secrets, kept in the document store)', () => {
    const SECRET = 'hunter2-sealed';
    const seal = async (commands: string[][], owner = 'alice'): Promise<string> => {
      const id = randomUUID();
      await ctx.svc.engine.documents.create(EXEC_SEALED_NAMESPACE, id, { owner, commands, redact: [SECRET] } satisfies ExecSealedDocument);
      return id;
    };

    it("only the sealed commands' owner (or an admin) may name them: another user's id is refused at submission like an unknown one", async () => {
      const PASSWORD = 'correct-horse-battery';
      for (const name of ['mallory', 'trent']) {
        const made = await http(ctx.svc.baseUrl, 'POST', '/native/v1/users', { name, password: PASSWORD, role: 'operator' });
        assert.equal(made.status, 201, JSON.stringify(made.body));
      }
      const token = async (name: string) => (await http<{ token: string }>(ctx.svc.baseUrl, 'POST', `${API}/auth/login`, { username: name, password: PASSWORD })).body.token;
      const trent = await token('trent');
      const mallory = await token('mallory');
      const id = await seal([['true']], 'trent');
      const spec = { taskRoles: [{ name: 'main', taskNumber: 1, commands: ['true'] }], sealed: { id } };
      const as = (t: string) => ({ authorization: `Bearer ${t}` });
      const stolen = await http<{ code: string; message: string }>(ctx.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'exec', spec }, as(mallory));
      assert.deepEqual([stolen.status, stolen.body.code], [400, 'INVALID_SPEC']);
      const unknown = await http<{ code: string; message: string }>(ctx.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'exec', spec: { ...spec, sealed: { id: randomUUID() } } }, as(mallory));
      assert.deepEqual([unknown.status, unknown.body.message], [400, stolen.body.message], 'the same answer: ids cannot be probed');
      const own = await http<Job>(ctx.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'exec', spec }, as(trent));
      assert.equal(own.status, 201, JSON.stringify(own.body));
      assert.equal((await finished(ctx.svc, own.body.id)).state, 'SUCCEEDED');
      const rerun = await http<{ error: { code: string } }>(ctx.svc.baseUrl, 'POST', `${API}/jobs/${own.body.id}/rerun`, {}, as(mallory));
      assert.equal(rerun.status, 404, "mallory cannot even see trent's job");
    });
    /** Every native view of the job as text: the job, its history, its tasks, each task's logs. */
    const views = async (id: string): Promise<string> => {
      const parts = [
        JSON.stringify((await http(ctx.svc.baseUrl, 'GET', `${API}/jobs/${id}`)).body),
        JSON.stringify((await http(ctx.svc.baseUrl, 'GET', `${API}/jobs/${id}/history`)).body),
        JSON.stringify((await http(ctx.svc.baseUrl, 'GET', `${API}/jobs/${id}/tasks`)).body),
      ];
      for (const stream of ['stdout', 'stderr']) parts.push(await logsOf(id, 't00000', stream));
      return parts.join('\n');
    };
    const logsOf = async (id: string, task: string, stream: string) =>
      (await fetch(`${ctx.svc.baseUrl}${API}/jobs/${id}/tasks/${task}/logs?stream=${stream}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).text();
    type Tasks = { tasks: { error: { code: string; message: string; retryable: boolean } | null; output: { stderrTail?: string } | null }[] };

    it('an instance runs the sealed commands, not the spec\'s; the secret is in no native view, the logs show ******; a rerun runs them again', async () => {
      const file = join(drop, 'sealed-secret');
      const id = await seal([[`echo "${SECRET}" > ${file}`, `echo "out ${SECRET}"`, `echo "err ${SECRET}" >&2`]]);
      const job = await submit(ctx.svc, { taskRoles: [{ name: 'main', taskNumber: 1, commands: [`echo "****** > ${file}"`] }], sealed: { id } });
      const done = await finished(ctx.svc, job.id);
      assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
      assert.equal(await readFile(file, 'utf8'), `${SECRET}\n`, 'the instance got the secret');
      const seen = await views(job.id);
      assert.ok(!seen.includes(SECRET), seen);
      assert.equal(await logsOf(job.id, 't00000', 'stdout'), 'out ******\n');
      assert.equal(await logsOf(job.id, 't00000', 'stderr'), 'err ******\n');

      await rm(file);
      const again = await http<Job>(ctx.svc.baseUrl, 'POST', `${API}/jobs/${job.id}/rerun`, {});
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.equal((await finished(ctx.svc, again.body.id)).state, 'SUCCEEDED');
      assert.equal(await readFile(file, 'utf8'), `${SECRET}\n`);
    });

    it('a failed instance\'s stderrTail hides the secret; a recovery runs it again with the sealed commands', async () => {
      const dir = await mkdtemp(join(drop, 'sealed-recover-'));
      await chmod(dir, 0o777);
      const id = await seal([[`if [ ! -e ${dir}/marker ]; then touch ${dir}/marker; echo "login failed for ${SECRET}" >&2; exit 3; fi`, `echo "${SECRET}" > ${dir}/ok`]]);
      const job = await submit(ctx.svc, { taskRoles: [{ name: 'main', taskNumber: 1, commands: ['login ******'] }], sealed: { id } });
      const failed = await finished(ctx.svc, job.id);
      assert.equal(failed.state, 'FAILED');
      assert.equal(failed.error!.code, 'EXEC_FAILED');
      const tasks = (await http<Tasks>(ctx.svc.baseUrl, 'GET', `${API}/jobs/${job.id}/tasks`)).body.tasks;
      assert.equal(tasks[0]!.output!.stderrTail, 'login failed for ******\n');
      const seen = await views(job.id);
      assert.ok(!seen.includes(SECRET), seen);

      const recovered = await http(ctx.svc.baseUrl, 'POST', `${API}/jobs/${job.id}/recover`, {});
      assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
      assert.equal((await finished(ctx.svc, job.id)).state, 'SUCCEEDED');
      assert.equal(await readFile(join(dir, 'ok'), 'utf8'), `${SECRET}\n`);
    });

    it('a sealed document gone after the submission fails the instances that start later for good with SECRETS_UNAVAILABLE', async () => {
      // one instance at a time: the first holds until the document is gone, the second then finds none
      const started = join(drop, 'sealed-first-started');
      const go = join(drop, 'sealed-go');
      const id = await seal([[`touch ${started}`, `while [ ! -e ${go} ]; do sleep 0.05; done`]]);
      const job = await submit(ctx.svc, { taskRoles: [{ name: 'main', taskNumber: 2, commands: ['echo ******'] }], sealed: { id } }, { parallelism: 1 });
      await waitFor(async () => (await readFile(started).then(() => true, () => false)) || undefined, { what: 'the first instance started', timeoutMs: 60_000 });
      await ctx.svc.engine.documents.delete(EXEC_SEALED_NAMESPACE, id);
      await writeFile(go, '');
      const done = await finished(ctx.svc, job.id);
      assert.equal(done.state, 'FAILED');
      const tasks = (await http<Tasks>(ctx.svc.baseUrl, 'GET', `${API}/jobs/${job.id}/tasks`)).body.tasks;
      assert.equal(tasks[0]!.error, null, 'the first instance ran');
      assert.equal(tasks[1]!.error!.code, 'SECRETS_UNAVAILABLE');
      assert.equal(tasks[1]!.error!.retryable, false);
      assert.match(tasks[1]!.error!.message, /the sealed commands of this job \(document execsealed\/[0-9a-f-]{36}\) are gone/);
    });

    it('refuses a sealed id that is not a lowercase UUID', async () => {
      for (const sealed of [{ id: randomUUID().toUpperCase() }, { id: '../x' }, {}]) {
        const r = await http<{ code: string }>(ctx.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'exec', spec: { taskRoles: [{ name: 'w', taskNumber: 1, commands: ['true'] }], sealed } });
        assert.equal(r.body.code, 'INVALID_SPEC', JSON.stringify(sealed));
      }
    });
  });

  it('refuses bad specs at submission', async () => {
    const bad = async (spec: unknown) => (await http<{ code: string }>(ctx.svc.baseUrl, 'POST', `${API}/jobs`, { type: 'exec', spec })).body.code;
    assert.equal(await bad({ taskRoles: [] }), 'INVALID_SPEC');
    assert.equal(await bad({ taskRoles: [{ name: 'w', taskNumber: 0, commands: ['true'] }] }), 'INVALID_SPEC');
    assert.equal(await bad({ taskRoles: [{ name: 'w', taskNumber: 1, commands: [] }] }), 'INVALID_SPEC');
    assert.equal(await bad({ taskRoles: [{ name: 'w', taskNumber: 1, commands: ['true'] }, { name: 'w', taskNumber: 1, commands: ['true'] }] }), 'INVALID_SPEC');
    assert.equal(await bad({ taskRoles: [{ name: 'bad name', taskNumber: 1, commands: ['true'] }] }), 'INVALID_SPEC');
    assert.equal(await bad({ taskRoles: [{ name: 'w', taskNumber: 1, commands: ['true'], env: { PAI_JOB_NAME: 'x' } }] }), 'INVALID_SPEC');
    assert.equal(await bad({ taskRoles: [{ name: 'w', taskNumber: 9000, commands: ['true'] }, { name: 'v', taskNumber: 2000, commands: ['true'] }] }), 'INVALID_SPEC');
    assert.equal(await bad({ jobRetryCount: 11, taskRoles: [{ name: 'w', taskNumber: 1, commands: ['true'] }] }), 'INVALID_SPEC');
  });
});
