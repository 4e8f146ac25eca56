/**
 * The OpenPAI JS SDK (`@microsoft/openpai-js-sdk@0.1.5`, the npm release, unchanged) against the
 * OpenPAI facade on the real engine, a real nats-server and real processes (plan §8.2):
 * - PAIV2 (axios): cluster info, login, virtual clusters, a 1 ps + 3 workers protocol run to
 *   SUCCEEDED with the files its instances wrote, its config read back as submitted, the listing, a
 *   STOP (STOPPING → STOPPED), a failing worker (FAILED with the exit codes), a duplicate name
 *   (409 ConflictJobError), users and tokens with the SDK's typed errors;
 * - PAIV1 (request): cluster info, a two-role v1 config submitted as the SDK's urlencoded form (null
 *   as an empty value, the empty portList left out), its detail, config (the misspelt path),
 *   framework info and ssh info, a STOP, a DELETE freeing the name, the listing, authn info and
 *   tokens, and a non-2xx surfacing the v1 body;
 * - the `pai` CLI (lib/src/cli.js) with its own HOME: addc, subj, listj, getj, ssh. cli.js catches
 *   every error and exits 0, so the tests read stdout and stderr, never the exit code.
 *
 * The SDK is a devDependency for these tests only. Its dependencies draw `npm audit` notes:
 * request 2.88.2 (deprecated; its tough-cookie and form-data advisories) and axios 0.21.4 (known
 * CVEs). Neither is reachable from the product; the SDK runs only here, against a loopback server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { protocol, type Cluster } from '../../helpers/openpai.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's untyped answers (OpenPAI's wire), asserted field by field
type Wire = any;

interface V2Client {
  api: { getClusterInfo(): Promise<Wire> };
  authn: { basicLogin(username?: string, password?: string, expiration?: number): Promise<{ token: string; user: string; admin: boolean }> };
  virtualCluster: { listVirtualClusters(): Promise<Record<string, Wire>>; getVirtualCluster(name: string): Promise<Wire> };
  job: {
    createJob(protocol: unknown): Promise<Wire>;
    getJob(user: string, job: string, attempt?: number): Promise<Wire>;
    getJobConfig(user: string, job: string): Promise<unknown>;
    listJobs(query?: Record<string, unknown>): Promise<Wire[]>;
    updateJobExecutionType(user: string, job: string, type: 'START' | 'STOP'): Promise<Wire>;
  };
  user: {
    createUser(user: Record<string, unknown>): Promise<Wire>;
    getUser(name: string): Promise<Wire>;
    getAllUser(): Promise<Wire[]>;
    updateUser(user: Record<string, unknown>, patch?: boolean): Promise<Wire>;
    deleteUser(name: string): Promise<Wire>;
  };
  token: { getTokens(): Promise<{ tokens: string[] }>; createApplicationToken(): Promise<{ token: string; application: boolean }>; deleteToken(token: string): Promise<Wire> };
}

interface V1Client {
  config: { clusterInfo(): Promise<Wire> };
  job: {
    list(query?: string): Promise<Wire[]>;
    get(user: string, job: string): Promise<Wire>;
    submit(user: string, config: unknown): Promise<Wire>;
    execute(user: string, job: string, type: 'START' | 'STOP'): Promise<Wire>;
    delete(user: string, job: string): Promise<Wire>;
    getConfig(user: string, job: string): Promise<Wire>;
    getFrameworkInfo(user: string, job: string): Promise<Wire>;
    getSshInfo(userOrJob: string, job?: string): Promise<Wire>;
  };
  authn: { info(): Promise<Wire>; getTokens(): Promise<{ tokens: string[] }>; createApplicationToken(): Promise<{ token: string; application: boolean }>; deleteToken(token: string): Promise<Wire> };
}

/** The SDK's errors (PAIBaseError and its subclasses): the HTTP status and the body. */
type SdkError = Error & { status: number; data: Wire };
type ErrorClass = abstract new (...args: never[]) => SdkError;

const requireHere = createRequire(import.meta.url);
const SDK_DIR = dirname(requireHere.resolve('@microsoft/openpai-js-sdk/package.json'));
const sdk = requireHere('@microsoft/openpai-js-sdk') as {
  PAIV1: { OpenPAIClient: new (cluster: Cluster) => V1Client };
  PAIV2: { OpenPAIClient: new (cluster: Cluster) => V2Client };
};
// the same module instances the SDK throws from (one CommonJS cache), so instanceof holds
const userErrors = requireHere('@microsoft/openpai-js-sdk/lib/src/commom/errors/paiUserErrors.js') as Record<'UnauthorizedUserError' | 'ForbiddenUserError' | 'ConflictUserError' | 'NoUserError', ErrorClass>;
const { PAIBaseError } = requireHere('@microsoft/openpai-js-sdk/lib/src/commom/errors/paiBaseError.js') as { PAIBaseError: ErrorClass };
const CLI = join(SDK_DIR, 'lib/src/cli.js');
/** The YAML library the SDK and the CLI use (js-yaml 3, nested in the SDK). */
const yaml3 = createRequire(join(SDK_DIR, 'package.json'))('js-yaml') as { safeDump(obj: unknown): string };

const PASSWORD = 'sdk-password-0123';
/** Polls of a real run: instances are real processes, slow under CI load. */
const RUN_TIMEOUT_MS = 60_000;

const facadePort = (svc: TestService) => new URL(svc.facadeUrls['openpai rest server']!).port;
const v2Cluster = (svc: TestService, username: string): Cluster => ({ rest_server_uri: `http://127.0.0.1:${facadePort(svc)}/rest-server`, username, password: PASSWORD, https: false });

async function makeUser(svc: TestService, name: string, role: 'operator' | 'admin'): Promise<void> {
  const created = await http(svc.baseUrl, 'POST', '/native/v1/users', { name, password: PASSWORD, role });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}

/** Resolves with what `promise` rejected with; fails when it resolved. */
async function rejection(promise: Promise<unknown>): Promise<Wire> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to be refused');
}

/** Polls `read` until `stateOf` its answer is one of `states`; `seen` collects the states met, in order. */
async function untilState(read: () => Promise<Wire>, stateOf: (d: Wire) => string, states: string[], what: string, seen: string[] = []): Promise<Wire> {
  return waitFor(async () => {
    const d = await read();
    const s = stateOf(d);
    if (seen.at(-1) !== s) seen.push(s);
    return states.includes(s) ? d : undefined;
  }, { what: `${what} ${states.join('|')}`, timeoutMs: RUN_TIMEOUT_MS, intervalMs: 50 });
}

describe('the OpenPAI JS SDK and CLI against the facade', { timeout: 110_000 }, () => {
  const ctx = useTestService();
  let drop: string;
  before(async () => {
    await makeUser(ctx.svc, 'alice', 'operator');
    await makeUser(ctx.svc, 'paiadmin', 'admin');
    // instances run as sandbox uids: they may write here
    drop = await mkdtemp(join(tmpdir(), 'jetjobs-openpai-sdk-'));
    await chmod(drop, 0o777);
  });
  after(async () => {
    await rm(drop, { recursive: true, force: true });
  });

  describe('PAIV2', () => {
    // one client per user, as a program keeps one: each new client logs in again, and the facade
    // allows loginRateLimitPerMinute (10) logins a minute per address and user
    let client: V2Client;
    before(() => {
      client = new sdk.PAIV2.OpenPAIClient(v2Cluster(ctx.svc, 'alice'));
    });

    it('reads the cluster info, logs in, and lists the virtual clusters', async () => {
      const info = await client.api.getClusterInfo();
      assert.deepEqual([info.name, info.launcherType, info.authnMethod], ['PAI RESTful API', 'k8s', 'basic']);
      assert.match(info.version, /^v\d+\.\d+\.\d+/);
      const login = await client.authn.basicLogin();
      assert.deepEqual([login.user, login.admin, typeof login.token], ['alice', false, 'string']);
      const vcs = await client.virtualCluster.listVirtualClusters();
      assert.deepEqual(Object.keys(vcs), ['default']);
      const vc = await client.virtualCluster.getVirtualCluster('default');
      assert.equal(vc.status, 'RUNNING');
      assert.deepEqual(vc, vcs['default']);
      const missing = await rejection(client.virtualCluster.getVirtualCluster('nope'));
      assert.ok(missing instanceof PAIBaseError);
      assert.deepEqual([missing.status, missing.data.code], [404, 'NoVirtualClusterError']);
    });

    it('createJob of 1 ps + 3 workers runs to SUCCEEDED: the files, the task statuses, getJobConfig as submitted, listJobs', async () => {
      const cmd = `umask 022; echo "$PAI_CURRENT_TASK_ROLE_NAME $PAI_TASK_INDEX" > ${drop}/v2-$PAI_CURRENT_TASK_ROLE_NAME-$PAI_TASK_INDEX`;
      const p = protocol('sdk-two-roles', { ps: { commands: [cmd] }, worker: { instances: 3, commands: [cmd] } });
      assert.deepEqual(await client.job.createJob(p), { status: 202, message: 'Update job sdk-two-roles for user alice successfully.' });
      const d = await untilState(() => client.job.getJob('alice', 'sdk-two-roles'), (j) => j.jobStatus.state, ['SUCCEEDED', 'FAILED', 'STOPPED'], 'sdk-two-roles');
      assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
      assert.deepEqual([d.name, d.jobStatus.username, d.jobStatus.appExitCode, d.jobStatus.executionType], ['sdk-two-roles', 'alice', 0, 'START']);
      assert.deepEqual(Object.keys(d.taskRoles), ['ps', 'worker']);
      assert.deepEqual(d.taskRoles.worker.taskStatuses.map((t: Wire) => [t.taskIndex, t.taskState, t.containerExitCode]), [[0, 'SUCCEEDED', 0], [1, 'SUCCEEDED', 0], [2, 'SUCCEEDED', 0]]);
      const files = (await readdir(drop)).filter((f) => f.startsWith('v2-')).sort();
      assert.deepEqual(files, ['v2-ps-0', 'v2-worker-0', 'v2-worker-1', 'v2-worker-2']);
      for (const f of files) assert.equal(await readFile(join(drop, f), 'utf8'), `${f.slice(3).replace('-', ' ')}\n`);
      assert.deepEqual(await client.job.getJobConfig('alice', 'sdk-two-roles'), p);
      const listed = (await client.job.listJobs({ username: 'alice' })).find((j) => j.name === 'sdk-two-roles');
      assert.deepEqual([listed?.username, listed?.state, listed?.totalTaskNumber, listed?.totalTaskRoleNumber], ['alice', 'SUCCEEDED', 4, 2]);
    });

    it('updateJobExecutionType STOP stops a running job: STOPPING, then STOPPED', async () => {
      await client.job.createJob(protocol('sdk-sleeper', { main: { commands: ['sleep 600'] } }));
      await untilState(() => client.job.getJob('alice', 'sdk-sleeper'), (j) => j.jobStatus.state, ['RUNNING'], 'sdk-sleeper');
      assert.deepEqual(await client.job.updateJobExecutionType('alice', 'sdk-sleeper', 'STOP'), { status: 202, message: 'Execute job sdk-sleeper successfully.' });
      // the stop is cooperative (stopGraceMs, 10 s, then the instance is aborted): STOPPING is seen, not raced
      const seen: string[] = [];
      const d = await untilState(() => client.job.getJob('alice', 'sdk-sleeper'), (j) => j.jobStatus.state, ['STOPPED'], 'sdk-sleeper', seen);
      assert.deepEqual(seen, ['STOPPING', 'STOPPED']);
      assert.deepEqual([d.jobStatus.executionType, d.jobStatus.appExitCode], ['STOP', null]);
      assert.equal(d.taskRoles.main.taskStatuses[0].taskState, 'STOPPED');
    });

    it('a failing worker fails the job: FAILED, appExitCode and the instance\'s containerExitCode', async () => {
      await client.job.createJob(protocol('sdk-fails', { worker: { instances: 2, commands: ['if [ "$PAI_TASK_INDEX" = 1 ]; then exit 3; fi'], completion: { minFailedInstances: 1 } } }));
      const d = await untilState(() => client.job.getJob('alice', 'sdk-fails'), (j) => j.jobStatus.state, ['FAILED', 'SUCCEEDED', 'STOPPED'], 'sdk-fails');
      assert.equal(d.jobStatus.state, 'FAILED');
      assert.equal(d.jobStatus.appExitCode, 3);
      const failed = d.taskRoles.worker.taskStatuses.find((t: Wire) => t.taskIndex === 1);
      assert.deepEqual([failed.taskState, failed.containerExitCode], ['FAILED', 3]);
    });

    it('createJob with a taken name is the SDK\'s error with status 409 and data.code ConflictJobError', async () => {
      const err = await rejection(client.job.createJob(protocol('sdk-two-roles', { main: { commands: ['true'] } })));
      assert.ok(err instanceof PAIBaseError, String(err));
      assert.deepEqual([err.status, err.data, err.message], [409, { code: 'ConflictJobError', message: 'Job alice~sdk-two-roles already exists.' }, 'Job alice~sdk-two-roles already exists.']);
      const missing = await rejection(client.job.getJob('alice', 'no-such-job'));
      assert.deepEqual([missing.constructor.name, missing.status, missing.data.code], ['NoJobError', 404, 'NoJobError']);
    });

    it('users: create, get, update, delete, with ConflictUserError, NoUserError and ForbiddenUserError', async () => {
      const admin = new sdk.PAIV2.OpenPAIClient(v2Cluster(ctx.svc, 'paiadmin'));
      const created = await admin.user.createUser({ username: 'sdkuser', password: 'sdkuser-password', admin: false, email: 'sdkuser@example.com', virtualCluster: ['default'], extension: {} });
      assert.equal(typeof created.message, 'string');
      const conflict = await rejection(admin.user.createUser({ username: 'sdkuser', password: 'sdkuser-password' }));
      assert.ok(conflict instanceof userErrors.ConflictUserError, String(conflict));
      assert.equal(conflict.status, 409);
      const got = await admin.user.getUser('sdkuser');
      assert.deepEqual([got.username, got.email, got.admin, got.virtualCluster], ['sdkuser', 'sdkuser@example.com', false, ['default']]);
      await admin.user.updateUser({ username: 'sdkuser', email: 'changed@example.com' });
      assert.equal((await admin.user.getUser('sdkuser')).email, 'changed@example.com');
      assert.ok((await admin.user.getAllUser()).some((u) => u.username === 'sdkuser'));
      // the new user logs in with the SDK
      const self = new sdk.PAIV2.OpenPAIClient({ ...v2Cluster(ctx.svc, 'sdkuser'), password: 'sdkuser-password' });
      assert.equal((await self.authn.basicLogin()).user, 'sdkuser');
      const forbidden = await rejection(client.user.getAllUser());
      assert.ok(forbidden instanceof userErrors.ForbiddenUserError, String(forbidden));
      assert.deepEqual([forbidden.status, forbidden.message], [403, 'Non-admin is not allow to do this operation.']);
      await admin.user.deleteUser('sdkuser');
      const gone = await rejection(admin.user.getUser('sdkuser'));
      assert.ok(gone instanceof userErrors.NoUserError, String(gone));
      assert.deepEqual([gone.status, gone.message], [404, 'User sdkuser is not found.']);
      const deletedAgain = await rejection(admin.user.deleteUser('sdkuser'));
      assert.ok(deletedAgain instanceof userErrors.NoUserError, String(deletedAgain));
    });

    it('tokens: createApplicationToken, getTokens (ids), deleteToken; a bad or revoked token is UnauthorizedUserError', async () => {
      const app = await client.token.createApplicationToken();
      assert.equal(app.application, true);
      const id = createHash('sha256').update(app.token).digest('hex');
      assert.ok((await client.token.getTokens()).tokens.includes(id));
      // the application token works for jobs
      const asApp = new sdk.PAIV2.OpenPAIClient({ rest_server_uri: v2Cluster(ctx.svc, 'alice').rest_server_uri, token: app.token, https: false });
      assert.ok(Array.isArray(await asApp.job.listJobs({ username: 'alice' })));
      assert.equal(typeof (await client.token.deleteToken(app.token)).message, 'string');
      assert.ok(!(await client.token.getTokens()).tokens.includes(id));
      const revoked = await rejection(asApp.job.listJobs());
      assert.ok(revoked instanceof userErrors.UnauthorizedUserError, String(revoked));
      const bad = new sdk.PAIV2.OpenPAIClient({ rest_server_uri: v2Cluster(ctx.svc, 'alice').rest_server_uri, token: 'not-a-token', https: false });
      const err = await rejection(bad.job.listJobs());
      assert.ok(err instanceof userErrors.UnauthorizedUserError, String(err));
      assert.deepEqual([err.status, err.message], [401, 'Your token is invalid.']);
    });
  });

  describe('PAIV1', () => {
    // one client: its job and authn parts log in once each (v1 caches a token per sub-client)
    let client: V1Client;
    before(() => {
      client = new sdk.PAIV1.OpenPAIClient({ rest_server_uri: `127.0.0.1:${facadePort(ctx.svc)}/rest-server`, username: 'alice', password: PASSWORD });
    });
    const get = (name: string) => () => client.job.get('alice', name);

    it('config.clusterInfo and authn.info are JSON', async () => {
      const info = await client.config.clusterInfo();
      assert.equal(info.name, 'PAI RESTful API');
      assert.deepEqual(await client.authn.info(), { authn_type: 'basic', loginURI: '/api/v2/authn/basic/login', loginURIMethod: 'post' });
    });

    it('submit (the urlencoded form, null and [] included) runs to SUCCEEDED; get, getConfig, getFrameworkInfo, getSshInfo, list', async () => {
      const cmd = `umask 022; echo "$PAI_CURRENT_TASK_ROLE_NAME $PAI_TASK_INDEX" > ${drop}/v1-$PAI_CURRENT_TASK_ROLE_NAME-$PAI_TASK_INDEX`;
      const cfg = {
        jobName: 'sdk-v1-two',
        image: 'ubuntu',
        taskRoles: [
          { name: 'main', taskNumber: 2, cpuNumber: 1, memoryMB: 256, command: cmd, minSucceededTaskCount: null, portList: [] },
          { name: 'helper', taskNumber: 1, command: cmd },
        ],
        retryCount: 0,
      };
      assert.deepEqual(await client.job.submit('alice', cfg), { message: 'update job sdk-v1-two successfully' });
      const d = await untilState(get('sdk-v1-two'), (j) => j.jobStatus.state, ['SUCCEEDED', 'FAILED', 'STOPPED'], 'sdk-v1-two');
      assert.equal(d.jobStatus.state, 'SUCCEEDED', JSON.stringify(d.jobStatus));
      assert.deepEqual([d.jobStatus.name, d.jobStatus.username, d.jobStatus.appExitCode], ['sdk-v1-two', 'alice', 0]);
      assert.deepEqual([d.taskRoles.main.taskStatuses.length, d.taskRoles.helper.taskStatuses.length], [2, 1]);
      assert.deepEqual((await readdir(drop)).filter((f) => f.startsWith('v1-')).sort(), ['v1-helper-0', 'v1-main-0', 'v1-main-1']);
      // the config as checked, with Joi's defaults: null stayed null, the dropped portList is []
      assert.deepEqual(await client.job.getConfig('alice', 'sdk-v1-two'), {
        jobName: 'sdk-v1-two', image: 'ubuntu', authFile: '', dataDir: '', outputDir: '', codeDir: '',
        taskRoles: [
          { name: 'main', taskNumber: 2, cpuNumber: 1, memoryMB: 256, shmMB: 64, gpuNumber: 0, portList: [], command: cmd, minFailedTaskCount: 1, minSucceededTaskCount: null },
          { name: 'helper', taskNumber: 1, cpuNumber: 1, memoryMB: 100, shmMB: 64, gpuNumber: 0, portList: [], command: cmd, minFailedTaskCount: 1, minSucceededTaskCount: null },
        ],
        gpuType: '', virtualCluster: 'default', retryCount: 0,
      });
      const fw = await client.job.getFrameworkInfo('alice', 'sdk-v1-two');
      assert.deepEqual([fw.name, fw.state, fw.appExitCode], ['sdk-v1-two', 'SUCCEEDED', 0]);
      assert.deepEqual(await client.job.getSshInfo('alice', 'sdk-v1-two'), { containers: [], keyPair: null });
      assert.deepEqual(await client.job.getSshInfo('sdk-v1-two'), { containers: [], keyPair: null });
      const listed = (await client.job.list()).find((j) => j.name === 'sdk-v1-two');
      assert.deepEqual([listed?.username, listed?.state], ['alice', 'SUCCEEDED']);
      assert.ok((await client.job.list('username=alice')).every((j) => j.username === 'alice'));
    });

    it('execute STOP stops a running job; delete frees its name', async () => {
      const cfg = { jobName: 'sdk-v1-sleeper', image: 'ubuntu', taskRoles: [{ name: 'main', command: 'sleep 600' }] };
      await client.job.submit('alice', cfg);
      await untilState(get('sdk-v1-sleeper'), (j) => j.jobStatus.state, ['RUNNING'], 'sdk-v1-sleeper');
      assert.deepEqual(await client.job.execute('alice', 'sdk-v1-sleeper', 'STOP'), { message: 'execute job sdk-v1-sleeper successfully' });
      const d = await untilState(get('sdk-v1-sleeper'), (j) => j.jobStatus.state, ['STOPPED'], 'sdk-v1-sleeper');
      assert.equal(d.jobStatus.executionType, 'STOP');
      assert.deepEqual(await client.job.delete('alice', 'sdk-v1-sleeper'), { message: 'deleted job sdk-v1-sleeper successfully' });
      const gone = await rejection(client.job.get('alice', 'sdk-v1-sleeper'));
      assert.equal(gone.statusCode, 404);
      // the name is free again
      assert.deepEqual(await client.job.submit('alice', { ...cfg, taskRoles: [{ name: 'main', command: 'true' }] }), { message: 'update job sdk-v1-sleeper successfully' });
      await untilState(get('sdk-v1-sleeper'), (j) => j.jobStatus.state, ['SUCCEEDED'], 'sdk-v1-sleeper again');
    });

    it('authn tokens: getTokens, createApplicationToken, deleteToken', async () => {
      const app = await client.authn.createApplicationToken();
      assert.equal(app.application, true);
      const id = createHash('sha256').update(app.token).digest('hex');
      assert.ok((await client.authn.getTokens()).tokens.includes(id));
      assert.equal(typeof (await client.authn.deleteToken(app.token)).message, 'string');
      assert.ok(!(await client.authn.getTokens()).tokens.includes(id));
    });

    it('a non-2xx rejects with the v1 body: {error, message}', async () => {
      const missing = await rejection(client.job.get('alice', 'no-such-job'));
      assert.equal(missing.name, 'StatusCodeError');
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(JSON.parse(missing.error), { error: 'JobNotFound', message: 'could not find job no-such-job' });
      const bad = await rejection(client.job.submit('alice', { jobName: 'sdk-v1-bad', image: 'ubuntu', taskRoles: [{ name: 'main', taskNumber: 0, command: 'true' }] }));
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.error.error, 'JobUpdateError', JSON.stringify(bad.error)); // submit asks for json: the body arrives parsed
      const wrongPassword = new sdk.PAIV1.OpenPAIClient({ rest_server_uri: `127.0.0.1:${facadePort(ctx.svc)}/rest-server`, username: 'alice', password: 'wrong-password-00' });
      const refused = await rejection(wrongPassword.job.delete('alice', 'sdk-v1-two'));
      assert.equal(refused.statusCode, 401);
      assert.equal(refused.error.error, 'AuthenticationFailed');
    });
  });

  describe('the pai CLI', () => {
    let home: string;
    let token: string;
    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'jetjobs-pai-cli-'));
      token = (await new sdk.PAIV2.OpenPAIClient(v2Cluster(ctx.svc, 'alice')).authn.basicLogin()).token;
    });
    after(async () => {
      await rm(home, { recursive: true, force: true });
    });

    /** Runs `pai <args>` with its own HOME; cli.js exits 0 even on errors, so only the output tells. */
    async function pai(...args: string[]): Promise<{ stdout: string; stderr: string }> {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: home }, timeout: 60_000 });
      return { stdout, stderr };
    }

    it('addc, subj, listj, getj and ssh', async () => {
      const port = facadePort(ctx.svc);
      await pai('addc', `http://127.0.0.1:${port}`, 'alice', token, '-a', 't');
      const clusters = JSON.parse(await readFile(join(home, '.openpai', 'clusters.json'), 'utf8')) as Wire[];
      assert.deepEqual([clusters.length, clusters[0].cluster.rest_server_uri, clusters[0].cluster.alias, clusters[0].cluster.https], [1, `127.0.0.1:${port}/rest-server`, 't', false]);

      const file = join(home, 'job.yaml');
      await writeFile(file, yaml3.safeDump(protocol('cli-job', { main: { commands: ['echo from the cli'] } })));
      const submitted = await pai('subj', 't', file);
      assert.deepEqual(JSON.parse(submitted.stdout), { status: 202, message: 'Update job cli-job for user alice successfully.' }, submitted.stderr);

      const detail = await waitFor(async () => {
        const r = await pai('getj', 't', 'cli-job');
        const d = JSON.parse(r.stdout) as Wire;
        return d.jobStatus.state === 'SUCCEEDED' ? d : undefined;
      }, { what: 'cli-job SUCCEEDED through getj', timeoutMs: RUN_TIMEOUT_MS, intervalMs: 200 });
      assert.deepEqual([detail.name, detail.jobStatus.username], ['cli-job', 'alice']);

      const listed = await pai('listj', 't');
      const row = listed.stdout.split('\n').find((l) => l.includes('cli-job'));
      assert.ok(row !== undefined, listed.stdout + listed.stderr);
      assert.deepEqual(row.split('|').map((c) => c.trim()).slice(1, 7), ['cli-job', 'alice', 'SUCCEEDED', 'default', '0', '1']);

      // no ssh port is ever declared (instances are processes): the CLI's own assertion, not a crash
      const ssh = await pai('ssh', 't', 'cli-job');
      assert.match(ssh.stderr, /ssh port is not declared when submitting/);
      assert.doesNotMatch(ssh.stderr, /TypeError|Cannot read/);

      const missing = await pai('getj', 't', 'no-such-job');
      assert.match(missing.stderr, /NoJobError|Job alice~no-such-job is not found/);
    });
  });
});
