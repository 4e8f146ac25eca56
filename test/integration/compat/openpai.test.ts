/**
 * The OpenPAI facade's jobs (seed 003; clients.md §1) against the real engine, a real nats-server
 * and real processes, at the wire: protocol-v2 YAML and v1 JSON and form submissions, `user~job`
 * ids, states over real runs (SUCCEEDED, STOPPING → STOPPED, FAILED with the exit code), role
 * completion policies, `/config` read back by the SDK's own js-yaml 3, secrets reaching the instance
 * and no view (sealed commands, redacted output), v1 DELETE freeing a name,
 * one job of two racing submissions, other users' jobs hidden, every prefix, and bad input refused
 * in each generation's shape with nothing written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXEC_SEALED_NAMESPACE } from '../../../engine/index.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { protocol } from '../../helpers/openpai.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';
import { readAnswer, type Answer, type Wire } from '../../helpers/wire.ts';

const requireFromSdk = createRequire(createRequire(import.meta.url).resolve('@microsoft/openpai-js-sdk/package.json'));
/** The YAML library the SDK reads `/config` with (js-yaml 3, nested in the SDK's node_modules). */
const yaml3 = requireFromSdk('js-yaml') as { safeLoad(text: string): unknown; safeDump(obj: unknown): string };

const PASSWORD = 'correct-horse-battery';

const base = (svc: TestService) => svc.facadeUrls['openpai rest server']!;

async function pai(svc: TestService, method: string, path: string, opts: { token?: string; body?: string; type?: string; base?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.type !== undefined) headers['content-type'] = opts.type;
  const res = await fetch(`${opts.base ?? base(svc)}${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: opts.body }) });
  return readAnswer(res);
}

const json = (body: unknown) => ({ body: JSON.stringify(body), type: 'application/json' });
const yamlBody = (protocol: unknown) => ({ body: yaml3.safeDump(protocol), type: 'text/yaml' });

async function nativeJobs(svc: TestService): Promise<{ id: string; owner: string; state: string; labels: Record<string, string>; active: boolean }[]> {
  const r = await http<{ jobs: { id: string; owner: string; state: string; labels: Record<string, string>; active: boolean }[] }>(svc.baseUrl, 'GET', '/native/v1/jobs?limit=1000&active=all&type=exec');
  return r.body.jobs;
}

async function makeUser(svc: TestService, name: string, role: string): Promise<string> {
  const created = await http(svc.baseUrl, 'POST', '/native/v1/users', { name, password: PASSWORD, role });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const login = await http<{ token: string }>(svc.baseUrl, 'POST', '/native/v1/auth/login', { username: name, password: PASSWORD });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return login.body.token;
}

const detail = async (svc: TestService, token: string, fw: string): Promise<Wire> => {
  const r = await pai(svc, 'GET', `/api/v2/jobs/${fw}`, { token });
  assert.equal(r.status, 200, r.text);
  return r.json;
};

const untilState = (svc: TestService, token: string, fw: string, states: string[], timeoutMs = 60_000) =>
  waitFor(async () => {
    const d = await detail(svc, token, fw);
    return states.includes(d.jobStatus.state) ? d : undefined;
  }, { what: `${fw} ${states.join('|')}`, timeoutMs, intervalMs: 100 });

describe('OpenPAI facade: jobs', { timeout: 300_000 }, () => {
  const ctx = useTestService();
  let alice: string;
  let bob: string;
  let drop: string;
  before(async () => {
    alice = await makeUser(ctx.svc, 'alice', 'operator');
    bob = await makeUser(ctx.svc, 'bob', 'operator');
    drop = await mkdtemp(join(tmpdir(), 'jetjobs-openpai-'));
    await chmod(drop, 0o777);
  });
  after(async () => {
    await rm(drop, { recursive: true, force: true });
  });

  it('v2: a two-role protocol (1 ps + 3 workers writing a file) is accepted with 202 and runs to SUCCEEDED, each instance with its role and index', async () => {
    const cmd = `echo "$PAI_CURRENT_TASK_ROLE_NAME $PAI_TASK_INDEX" > ${drop}/two-$PAI_CURRENT_TASK_ROLE_NAME-$PAI_TASK_INDEX && echo "hello from $PAI_CURRENT_TASK_ROLE_NAME $PAI_TASK_INDEX" && echo oops >&2`;
    const r = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('two-roles', { ps: { commands: [cmd] }, worker: { instances: 3, commands: [cmd] } })) });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.json, { status: 202, message: 'Update job two-roles for user alice successfully.' });
    const d = await untilState(ctx.svc, alice, 'alice~two-roles', ['SUCCEEDED', 'FAILED']);
    assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
    assert.equal(d.jobStatus.appExitCode, 0);
    assert.deepEqual(Object.keys(d.taskRoles), ['ps', 'worker']);
    assert.deepEqual(d.taskRoles.worker.taskStatuses.map((t: Wire) => [t.taskIndex, t.taskState, t.containerExitCode]), [[0, 'SUCCEEDED', 0], [1, 'SUCCEEDED', 0], [2, 'SUCCEEDED', 0]]);
    assert.deepEqual((await readdir(drop)).filter((f) => f.startsWith('two-')).sort(), ['two-ps-0', 'two-worker-0', 'two-worker-1', 'two-worker-2']);
    // each instance's output: containerLog lists its streams (getTaskLogs), each served as text with the same token
    const w2 = d.taskRoles.worker.taskStatuses[2];
    assert.equal(w2.containerLog, '/api/v2/jobs/alice~two-roles/attempts/0/taskRoles/worker/taskIndex/2/attempts/0/logs');
    const logs = await pai(ctx.svc, 'GET', w2.containerLog, { token: alice });
    assert.equal(logs.status, 200, logs.text);
    assert.deepEqual(logs.json.locations.map((l: Wire) => l.name), ['stdout', 'stderr', 'all']);
    const text = async (name: string, query = '') => {
      const uri = logs.json.locations.find((l: Wire) => l.name === name).uri as string;
      const r = await fetch(uri + query, { headers: { authorization: `Bearer ${alice}` } });
      assert.equal(r.status, 200, uri);
      return r.text();
    };
    assert.equal(await text('stdout'), 'hello from worker 2\n');
    assert.equal(await text('stderr', '?tailMode=true'), 'oops\n');
    assert.equal((await text('all')).split('\n').sort().join('|'), '|hello from worker 2|oops');
    const foreign = await pai(ctx.svc, 'GET', w2.containerLog, { token: bob });
    assert.deepEqual([foreign.status, foreign.json.code], [404, 'NoJobError'], "bob cannot read alice's logs");
    const noTask = await pai(ctx.svc, 'GET', '/api/v2/jobs/alice~two-roles/attempts/0/taskRoles/worker/taskIndex/9/attempts/0/logs', { token: alice });
    assert.deepEqual([noTask.status, noTask.json.code], [404, 'NoTaskLogError']);
    const list = await pai(ctx.svc, 'GET', '/api/v2/jobs?username=alice', { token: alice });
    assert.equal(list.status, 200, list.text);
    const item = list.json.find((j: Wire) => j.name === 'two-roles');
    assert.deepEqual([item?.username, item?.state, item?.totalTaskNumber, item?.totalTaskRoleNumber], ['alice', 'SUCCEEDED', 4, 2]);
  });

  it('v2 /config answers the submitted YAML, which the SDK\'s js-yaml 3 reads back as submitted, with secrets masked', async () => {
    const p = protocol('with-config', { main: { commands: ['echo <% $parameters.greeting %> <% $secrets.key %>'] } }, { parameters: { greeting: 'hi' }, secrets: { key: 'hunter2' } });
    const r = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(p) });
    assert.equal(r.status, 202, r.text);
    const c = await pai(ctx.svc, 'GET', '/api/v2/jobs/alice~with-config/config', { token: alice });
    assert.equal(c.status, 200, c.text);
    assert.match(c.headers.get('content-type') ?? '', /yaml/);
    assert.ok(!c.text.includes('hunter2'), c.text);
    assert.deepEqual(yaml3.safeLoad(c.text), { ...p, secrets: '******' });
    await untilState(ctx.svc, alice, 'alice~with-config', ['SUCCEEDED']);
  });

  it('v2 secrets reach the instance only: no native view (job, history, tasks, logs) nor the facade\'s detail or config holds one; a failure\'s stderr hides it; v1 DELETE drops the sealed commands', async () => {
    const SECRET = 'hunter2';
    const sealedDocs = () => ctx.svc.engine.documents.count(EXEC_SEALED_NAMESPACE);
    const file = join(drop, 'secret-received');
    const p = protocol('with-secret', { main: { commands: [`echo "<% $secrets.key %>" > ${file}`, 'echo "out <% $secrets.key %>"'] } }, { secrets: { key: SECRET } });
    const r = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(p) });
    assert.equal(r.status, 202, r.text);
    const d = await untilState(ctx.svc, alice, 'alice~with-secret', ['SUCCEEDED', 'FAILED']);
    assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
    assert.equal(await readFile(file, 'utf8'), `${SECRET}\n`, 'the instance received the secret');

    const failing = protocol('with-secret-fails', { main: { commands: ['echo "denied for <% $secrets.key %>" >&2', 'exit 2'] } }, { secrets: { key: SECRET } });
    assert.equal((await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(failing) })).status, 202);
    const f = await untilState(ctx.svc, alice, 'alice~with-secret-fails', ['FAILED', 'SUCCEEDED']);
    assert.equal(f.jobStatus.state, 'FAILED');

    const native = (name: string) => nativeJobs(ctx.svc).then((jobs) => jobs.find((j) => j.owner === 'alice' && j.labels['openpai/name'] === name && j.active)!);
    for (const name of ['with-secret', 'with-secret-fails']) {
      const job = await native(name);
      const views = [
        await http(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${job.id}`),
        await http(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${job.id}/history`),
        await http(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${job.id}/tasks`),
      ].map((v) => JSON.stringify(v.body));
      for (const stream of ['stdout', 'stderr']) {
        views.push(await (await fetch(`${ctx.svc.baseUrl}/native/v1/jobs/${job.id}/tasks/t00000/logs?stream=${stream}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).text());
      }
      for (const path of [`/api/v2/jobs/alice~${name}`, `/api/v2/jobs/alice~${name}/config`, `/api/v1/user/alice/jobs/${name}`, `/api/v1/jobs/alice/jobs/${name}/config`]) views.push((await pai(ctx.svc, 'GET', path, { token: alice })).text);
      for (const v of views) assert.ok(!v.includes(SECRET), `${name}: ${v}`);
      const spec = (await http<{ spec: { taskRoles: { commands: string[] }[]; sealed?: { id: string } } }>(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${job.id}`)).body.spec;
      assert.match(spec.taskRoles[0]!.commands.join('\n'), /\*{6}/, 'the spec shows the commands with the secret masked');
      assert.ok(ctx.svc.engine.documents.get(EXEC_SEALED_NAMESPACE, spec.sealed!.id) !== undefined);
    }
    const failedJob = await native('with-secret-fails');
    const tasks = (await http<{ tasks: { output: { stderrTail?: string } | null }[] }>(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${failedJob.id}/tasks`)).body.tasks;
    assert.equal(tasks[0]!.output!.stderrTail, 'denied for ******\n');
    assert.equal(f.taskRoles.main.taskStatuses[0].containerExitDiagnostics, 'denied for ******\n');
    const stdout = await (await fetch(`${ctx.svc.baseUrl}/native/v1/jobs/${(await native('with-secret')).id}/tasks/t00000/logs?stream=stdout`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).text();
    assert.equal(stdout, 'out ******\n');

    // a refused or duplicate submission leaves no sealed commands behind
    const held = sealedDocs();
    const refusedVc = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody({ ...p, name: 'secret-no-vc', defaults: { virtualCluster: 'nope' } }) });
    assert.equal(refusedVc.status, 400, refusedVc.text);
    const duplicate = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(p) });
    assert.equal(duplicate.status, 409, duplicate.text);
    const racing = await Promise.all([1, 2, 3].map(() => pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody({ ...p, name: 'secret-racer', taskRoles: { main: { ...p.taskRoles.main, commands: ['true <% $secrets.key %>'] } } }) })));
    assert.deepEqual(racing.map((a) => a.status).sort(), [202, 409, 409], racing.map((a) => a.text).join('\n'));
    assert.equal(sealedDocs(), held + 1, 'only the racer that won keeps its document');

    // v1 DELETE deactivates the job and drops its sealed commands
    const id = ((await http<{ spec: { sealed: { id: string } } }>(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${(await native('with-secret')).id}`)).body.spec.sealed.id);
    const del = await pai(ctx.svc, 'DELETE', '/api/v1/user/alice/jobs/with-secret', { token: alice });
    assert.equal(del.status, 200, del.text);
    assert.equal(ctx.svc.engine.documents.get(EXEC_SEALED_NAMESPACE, id), undefined);
  });

  it('a duplicate name is 409 ConflictJobError on v2 and 400 JobUpdateError on v1, whatever the state; nothing is written', async () => {
    const before_ = (await nativeJobs(ctx.svc)).length;
    const v2 = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('two-roles', { main: { commands: ['true'] } })) });
    assert.equal(v2.status, 409, v2.text);
    assert.deepEqual(v2.json, { code: 'ConflictJobError', message: 'Job alice~two-roles already exists.' });
    const v1 = await pai(ctx.svc, 'POST', '/api/v1/jobs', { token: alice, ...json({ jobName: 'two-roles', image: 'ubuntu', taskRoles: [{ name: 'main', command: 'true' }] }) });
    assert.equal(v1.status, 400, v1.text);
    assert.equal(v1.json.error, 'JobUpdateError');
    assert.equal((await nativeJobs(ctx.svc)).length, before_);
    // bob may use the same name: names are per user
    const other = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: bob, ...yamlBody(protocol('two-roles', { main: { commands: ['true'] } })) });
    assert.equal(other.status, 202, other.text);
  });

  it('two submissions of one name at once make one job: one 202 and one 409', async () => {
    const body = yamlBody(protocol('racer', { main: { commands: ['true'] } }));
    const answers = await Promise.all([1, 2, 3].map(() => pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...body })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [202, 409, 409], answers.map((a) => a.text).join('\n'));
    assert.equal((await nativeJobs(ctx.svc)).filter((j) => j.owner === 'alice' && j.labels['openpai/name'] === 'racer').length, 1);
  });

  it('executionType STOP stops a running job (STOPPING, then STOPPED with executionType STOP); STOP again and START change nothing', async () => {
    const r = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('sleeper', { main: { commands: ['sleep 600'] } })) });
    assert.equal(r.status, 202, r.text);
    await untilState(ctx.svc, alice, 'alice~sleeper', ['RUNNING']);
    const stop = await pai(ctx.svc, 'PUT', '/api/v2/jobs/alice~sleeper/executionType', { token: alice, ...json({ value: 'STOP' }) });
    assert.equal(stop.status, 202, stop.text);
    assert.deepEqual(stop.json, { status: 202, message: 'Execute job sleeper successfully.' });
    const d = await untilState(ctx.svc, alice, 'alice~sleeper', ['STOPPED']);
    assert.deepEqual([d.jobStatus.executionType, d.jobStatus.appExitCode], ['STOP', null]);
    for (const value of ['STOP', 'START', 'start']) {
      const again = await pai(ctx.svc, 'PUT', '/api/v2/jobs/alice~sleeper/executionType', { token: alice, ...json({ value }) });
      assert.equal(again.status, 202, again.text);
    }
    assert.equal((await detail(ctx.svc, alice, 'alice~sleeper')).jobStatus.state, 'STOPPED');
    const bad = await pai(ctx.svc, 'PUT', '/api/v2/jobs/alice~sleeper/executionType', { token: alice, ...json({ value: 'PAUSE' }) });
    assert.deepEqual([bad.status, bad.json.code], [400, 'InvalidParametersError']);
  });

  it('a failing worker fails the job with its exit code recorded (appExitCode, containerExitCode)', async () => {
    const r = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('fails', { worker: { instances: 2, commands: ['if [ "$PAI_TASK_INDEX" = 1 ]; then exit 3; fi'] } })) });
    assert.equal(r.status, 202, r.text);
    const d = await untilState(ctx.svc, alice, 'alice~fails', ['FAILED', 'SUCCEEDED']);
    assert.equal(d.jobStatus.state, 'FAILED');
    assert.equal(d.jobStatus.appExitCode, 3);
    const failed = d.taskRoles.worker.taskStatuses.find((t: Wire) => t.taskIndex === 1);
    assert.deepEqual([failed.taskState, failed.containerExitCode], ['FAILED', 3]);
    const v1 = await pai(ctx.svc, 'GET', '/api/v1/user/alice/jobs/fails');
    assert.equal(v1.status, 200, v1.text);
    assert.deepEqual([v1.json.jobStatus.state, v1.json.jobStatus.appExitCode], ['FAILED', 3]);
  });

  it('completion: 3 workers reaching minSucceededInstances end the job as SUCCEEDED while the ps still sleeps; minFailedInstances 2 tolerates one failure', async () => {
    const ok = await pai(ctx.svc, 'POST', '/api/v2/jobs', {
      token: alice,
      ...yamlBody(protocol('ps-and-workers', { ps: { commands: ['sleep 600'] }, worker: { instances: 3, commands: ['true'], completion: { minSucceededInstances: 3 } } })),
    });
    assert.equal(ok.status, 202, ok.text);
    const d = await untilState(ctx.svc, alice, 'alice~ps-and-workers', ['SUCCEEDED', 'FAILED']);
    assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
    const tolerant = await pai(ctx.svc, 'POST', '/api/v2/jobs', {
      token: alice,
      ...yamlBody(protocol('tolerant', { worker: { instances: 3, commands: ['if [ "$PAI_TASK_INDEX" = 0 ]; then exit 7; fi'], completion: { minFailedInstances: 2 } } })),
    });
    assert.equal(tolerant.status, 202, tolerant.text);
    const t = await untilState(ctx.svc, alice, 'alice~tolerant', ['SUCCEEDED', 'FAILED']);
    assert.equal(t.jobStatus.state, 'SUCCEEDED', 'one failure of a role with minFailedInstances 2 does not fail the job');
    assert.equal(t.taskRoles.worker.taskStatuses[0].containerExitCode, 7);
  });

  it('v1 (seed): JSON submit is 201, the flat detail and the list are readable without a token on loopback, DELETE frees the name', async () => {
    const cfg = { jobName: 'seed-job', image: 'ubuntu', taskRoles: [{ name: 'main', taskNumber: 1, command: 'true' }] };
    const r = await pai(ctx.svc, 'POST', '/api/v1/jobs', { token: alice, ...json(cfg) });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json, { message: 'update job seed-job successfully' });
    const flat = await waitFor(async () => {
      const g = await pai(ctx.svc, 'GET', '/api/v1/jobs/seed-job');
      return g.status === 200 && g.json.state === 'SUCCEEDED' ? g.json : undefined;
    }, { what: 'seed-job SUCCEEDED', timeoutMs: 60_000, intervalMs: 100 });
    assert.deepEqual([flat.name, flat.appExitCode], ['seed-job', 0]);
    const list = await pai(ctx.svc, 'GET', '/api/v1/jobs?username=alice');
    assert.ok(list.json.some((j: Wire) => j.name === 'seed-job' && j.username === 'alice'), list.text);
    const config = await pai(ctx.svc, 'GET', '/api/v1/jobs/seed-job/config');
    assert.deepEqual([config.status, config.json.jobName, config.json.taskRoles[0].command], [200, 'seed-job', 'true']);
    const ssh = await pai(ctx.svc, 'GET', '/api/v1/jobs/seed-job/ssh');
    assert.deepEqual(ssh.json, { containers: [], keyPair: null });
    const del = await pai(ctx.svc, 'DELETE', '/api/v1/jobs/seed-job', { token: alice });
    assert.deepEqual([del.status, del.json], [200, { message: 'deleted job seed-job successfully' }]);
    const gone = await pai(ctx.svc, 'GET', '/api/v1/jobs/seed-job', { token: alice });
    assert.deepEqual([gone.status, gone.json.error], [404, 'JobNotFound']);
    const again = await pai(ctx.svc, 'POST', '/api/v1/jobs', { token: alice, ...json(cfg) });
    assert.equal(again.status, 201, again.text);
  });

  it('v1 user-scoped: the PAIV1 form body (qs brackets, string values, null as empty) is a job', async () => {
    const form = 'jobName=form-job&image=ubuntu&taskRoles%5B0%5D%5Bname%5D=main&taskRoles%5B0%5D%5BtaskNumber%5D=2&taskRoles%5B0%5D%5Bcommand%5D=true&taskRoles%5B0%5D%5BminSucceededTaskCount%5D=&retryCount=0';
    const r = await pai(ctx.svc, 'POST', '/api/v1/user/alice/jobs', { token: alice, body: form, type: 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 201, r.text);
    const d = await waitFor(async () => {
      const g = await pai(ctx.svc, 'GET', '/api/v1/user/alice/jobs/form-job');
      return g.status === 200 && g.json.jobStatus.state === 'SUCCEEDED' ? g.json : undefined;
    }, { what: 'form-job SUCCEEDED', timeoutMs: 60_000, intervalMs: 100 });
    assert.equal(d.taskRoles.main.taskStatuses.length, 2);
    const misspelt = await pai(ctx.svc, 'GET', '/api/v1/jobs/alice/jobs/form-job/config');
    assert.deepEqual([misspelt.status, misspelt.json.jobName], [200, 'form-job']);
    const bobWrites = await pai(ctx.svc, 'POST', '/api/v1/user/alice/jobs', { token: bob, body: form.replace('form-job', 'form-job2'), type: 'application/x-www-form-urlencoded' });
    assert.deepEqual([bobWrites.status, bobWrites.json.error], [403, 'NotAuthorized']);
  });

  it("another user's job is not found (v2 404 NoJobError, v1 404 JobNotFound), also for a stop; an admin sees it", async () => {
    const read = await pai(ctx.svc, 'GET', '/api/v2/jobs/alice~two-roles', { token: bob });
    assert.deepEqual([read.status, read.json], [404, { code: 'NoJobError', message: 'Job alice~two-roles is not found.' }]);
    const stop = await pai(ctx.svc, 'PUT', '/api/v2/jobs/alice~two-roles/executionType', { token: bob, ...json({ value: 'STOP' }) });
    assert.equal(stop.status, 404, stop.text);
    const v1 = await pai(ctx.svc, 'DELETE', '/api/v1/user/alice/jobs/two-roles', { token: bob });
    assert.deepEqual([v1.status, v1.json.error], [404, 'JobNotFound']);
    // v1 reads are public, as in the original, while anonymous reads are on: a token sees no less than none
    const publicRead = await pai(ctx.svc, 'GET', '/api/v1/user/alice/jobs/two-roles', { token: bob });
    assert.equal(publicRead.status, 200, publicRead.text);
    const list = await pai(ctx.svc, 'GET', '/api/v2/jobs', { token: bob });
    assert.ok(list.json.every((j: Wire) => j.username === 'bob'), list.text);
    const admin = await pai(ctx.svc, 'GET', '/api/v2/jobs/alice~two-roles', { token: TEST_ADMIN_TOKEN });
    assert.equal(admin.status, 200, admin.text);
  });

  it("lists only OpenPAI jobs (a native exec job has no OpenPAI name); an unknown virtual cluster and an oversize JSON protocol answer as the original", async () => {
    const native = await http<{ id: string }>(ctx.svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'exec', name: 'native-exec', spec: { taskRoles: [{ name: 'main', taskNumber: 1, commands: ['true'] }] } }, { authorization: `Bearer ${alice}` });
    assert.equal(native.status, 201, JSON.stringify(native.body));
    for (const path of ['/api/v2/jobs', '/api/v1/jobs', '/api/v1/user/alice/jobs']) {
      const list = await pai(ctx.svc, 'GET', path, { token: alice });
      assert.equal(list.status, 200, list.text);
      assert.ok(list.json.length > 0 && list.json.every((j: Wire) => j.name !== 'native-exec'), `${path}: ${list.text}`);
    }
    const vc = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('x-vc', { main: { commands: ['true'] } }, { defaults: { virtualCluster: 'nope' } })) });
    assert.deepEqual([vc.status, vc.json], [400, { code: 'NoVirtualClusterError', message: 'Virtual cluster nope is not found.' }]);
    const big = await pai(ctx.svc, 'POST', '/api/v2/jobs', { token: alice, ...json({ ...protocol('x-big', { main: { commands: ['true'] } }), extras: { pad: 'x'.repeat(150 * 1024) } }) });
    assert.deepEqual([big.status, big.json.code], [413, 'InvalidParametersError']);
  });

  it("a bare name on the seed's v1 reads is the token user's own job, else the newest of any user; a source the facade never wrote reads as no config", async () => {
    for (const [token, command] of [[alice, 'exit 7'], [bob, 'sleep 1']] as const) {
      const r = await pai(ctx.svc, 'POST', '/api/v1/jobs', { token, ...json({ jobName: 'same', image: 'u', taskRoles: [{ name: 'main', command }] }) });
      assert.equal(r.status, 201, r.text);
    }
    const mine = await pai(ctx.svc, 'GET', '/api/v1/jobs/same/config', { token: alice });
    assert.equal(mine.json.taskRoles[0].command, 'exit 7', "alice's token reads alice's job");
    const anyone = await pai(ctx.svc, 'GET', '/api/v1/jobs/same/config');
    assert.equal(anyone.json.taskRoles[0].command, 'sleep 1', 'without a token: the newest of that name');
    const forged = await http(ctx.svc.baseUrl, 'POST', '/native/v1/jobs', {
      type: 'exec', name: 'forged', labels: { 'openpai/name': 'forged' },
      spec: { taskRoles: [{ name: 'main', taskNumber: 1, commands: ['true'] }], source: { format: 'openpai-v1', text: 'not json' } },
    }, { authorization: `Bearer ${alice}` });
    assert.equal(forged.status, 201, JSON.stringify(forged.body));
    const v2 = await pai(ctx.svc, 'GET', '/api/v2/jobs/alice~forged/config', { token: alice });
    assert.deepEqual([v2.status, v2.json.code], [404, 'NoJobConfigError']);
    for (const path of ['/api/v1/jobs/forged/config', '/api/v1/jobs/alice/jobs/forged/config']) {
      const v1 = await pai(ctx.svc, 'GET', path);
      assert.deepEqual([v1.status, v1.json.error], [404, 'JobNotFound'], path);
    }
  });

  it('answers at /api, /rest-server/api, and under /compat/openpai/ on the API port', async () => {
    for (const [b, path] of [[base(ctx.svc), '/api/v2/info'], [base(ctx.svc), '/rest-server/api/v2/info'], [ctx.svc.baseUrl, '/compat/openpai/api/v2/info'], [ctx.svc.baseUrl, '/compat/openpai/rest-server/api/v2/info']] as const) {
      const r = await pai(ctx.svc, 'GET', path, { base: b });
      assert.equal(r.status, 200, `${b}${path}: ${r.text}`);
      assert.equal(r.json.authnMethod, 'basic');
    }
    const d = await pai(ctx.svc, 'GET', '/compat/openpai/rest-server/api/v2/jobs/alice~two-roles', { base: ctx.svc.baseUrl, token: alice });
    assert.equal(d.status, 200, d.text);
  });

  it('a stale token sent along with a login or an info read is not looked at (both answer 200); elsewhere it is 401', async () => {
    const stale = 'jjt_' + 'A'.repeat(43);
    const info = await pai(ctx.svc, 'GET', '/api/v2/info', { token: stale });
    assert.equal(info.status, 200, info.text);
    const login = await pai(ctx.svc, 'POST', '/api/v2/authn/basic/login', { token: stale, body: `username=alice&password=${PASSWORD}&expiration=4000`, type: 'application/x-www-form-urlencoded' });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.json.user, 'alice');
    const v1 = await pai(ctx.svc, 'POST', '/api/v1/token', { token: stale, ...json({ username: 'alice', password: PASSWORD }) });
    assert.equal(v1.status, 200, v1.text);
    const jobs = await pai(ctx.svc, 'GET', '/api/v2/jobs', { token: stale });
    assert.deepEqual([jobs.status, jobs.json.code], [401, 'UnauthorizedUserError']);
  });

  it('bad input: each generation\'s status and body, and nothing written', async () => {
    const before_ = (await nativeJobs(ctx.svc)).length;
    const cases: [string, string, { token?: string; body?: string; type?: string }, number, string, RegExp?][] = [
      ['POST', '/api/v2/jobs', { token: alice, body: 'name: [unclosed', type: 'text/yaml' }, 400, 'InvalidProtocolError', /line \d+, column \d+/],
      ['POST', '/api/v2/jobs', { token: alice, ...yamlBody({ ...protocol('x1', { main: { commands: ['true'] } }), surprise: 1 }) }, 400, 'InvalidProtocolError'],
      ['POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('x2', { main: { instances: 0, commands: ['true'] } })) }, 400, 'InvalidProtocolError'],
      ['POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('x3', { main: { commands: [] } })) }, 400, 'InvalidProtocolError'],
      ['POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('dotted.name', { main: { commands: ['true'] } })) }, 400, 'InvalidProtocolError'],
      ['POST', '/api/v2/jobs', { token: alice, ...yamlBody(protocol('x4', { main: { commands: ['true'] } }, { defaults: { virtualCluster: 'nope' } })) }, 400, 'NoVirtualClusterError'],
      ['POST', '/api/v2/jobs', { ...yamlBody(protocol('x5', { main: { commands: ['true'] } })) }, 401, 'UnauthorizedUserError'],
      ['POST', '/api/v2/jobs', { token: 'jjt_forged', ...yamlBody(protocol('x6', { main: { commands: ['true'] } })) }, 401, 'UnauthorizedUserError'],
      ['POST', '/api/v2/jobs', { token: alice, body: 'x'.repeat(200 * 1024), type: 'text/yaml' }, 413, 'InvalidParametersError'],
      ['GET', '/api/v2/jobs/no-tilde', { token: alice }, 404, 'NoJobError'],
      ['GET', '/api/v2/jobs/a~b~c', { token: alice }, 404, 'NoJobError'],
      ['GET', '/api/v2/jobs?limit=-1', { token: alice }, 400, 'InvalidParametersError'],
      ['GET', '/api/v2/nothing-here', {}, 404, 'NoApiError'],
    ];
    for (const [method, path, opts, status, code, message] of cases) {
      const r = await pai(ctx.svc, method, path, opts);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.equal(r.json?.code, code, `${method} ${path}: ${r.text}`);
      assert.equal(typeof r.json.message, 'string');
      if (message !== undefined) assert.match(r.json.message, message);
    }
    const v1cases: [string, string, { token?: string; body?: string; type?: string }, number, string][] = [
      ['POST', '/api/v1/jobs', json({ jobName: 'y1', image: 'u', taskRoles: [{ name: 'main', command: 'true' }] }), 401, 'NotAuthorized'],
      ['POST', '/api/v1/jobs', { token: alice, ...json({ jobName: 'y2', image: 'u', taskRoles: [{ name: 'main', taskNumber: 0, command: 'true' }] }) }, 400, 'JobUpdateError'],
      ['POST', '/api/v1/jobs', { token: alice, ...json({ jobName: 'y3', image: 'u', taskRoles: [{ name: 'main', command: 'true' }], bogus: true }) }, 400, 'JobUpdateError'],
      ['POST', '/api/v1/jobs', { token: alice, body: '{"jobName": ', type: 'application/json' }, 400, 'InvalidParametersError'],
      ['POST', '/api/v1/user/alice/jobs', { token: alice, body: 'taskRoles[0][name]=a&taskRoles[0][name]=b', type: 'application/x-www-form-urlencoded' }, 400, 'JobUpdateError'],
      ['GET', '/api/v1/jobs/nope~nope', {}, 404, 'JobNotFound'],
      ['PUT', '/api/v1/jobs/two-roles/executionType', { token: alice, ...json({ value: 'SIDEWAYS' }) }, 400, 'JobExecuteError'],
    ];
    for (const [method, path, opts, status, error] of v1cases) {
      const r = await pai(ctx.svc, method, path, opts);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.equal(r.json?.error, error, `${method} ${path}: ${r.text}`);
      assert.equal(typeof r.json.message, 'string');
    }
    assert.equal((await nativeJobs(ctx.svc)).length, before_, 'no refused request made a job');
  });
});
