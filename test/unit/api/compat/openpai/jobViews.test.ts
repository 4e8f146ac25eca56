/**
 * OpenPAI's views of our exec jobs (docs/research/openpai-facade-plan.md §3.2, §3.4): the state
 * table row by row, exit codes, a stop under way, task statuses, the v2 list query, and the shapes
 * against the SDK's swagger (its required lists read from the YAML, and an ajv check of each shape).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { load } from 'js-yaml';
import {
  appExitCode, paiJobName, paiState, taskStatus, v1ListItem, v1SeedDetail,
  v1State, v1UserDetail, v2Detail, v2JobAttempt, v2Summary, v2TaskDetail, type PaiJobSummary, type PlanTask,
} from '../../../../../api/compat/openpai/jobViews.ts';
import { applyV2List, nativeStatesOf, parseV2ListQuery, V2_LIST_DEFAULT_LIMIT } from '../../../../../api/compat/openpai/jobListQuery.ts';
import { isAppError, type JobView } from '../../../../../engine/index.ts';

const SWAGGER_PATH = new URL('../../../../../node_modules/@microsoft/openpai-js-sdk/lib/src/api/v2/swagger.yaml', import.meta.url);
type Schema = { required?: string[]; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema; enum?: string[] };
const swagger = load(readFileSync(SWAGGER_PATH, 'utf8')) as { components: { schemas: Record<string, Schema> } };
const schemas = swagger.components.schemas;

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema(swagger, 'swagger');
/** Asserts that `value` is valid against `components/schemas/<name>` of the swagger. */
function assertValid(name: string, value: unknown): void {
  const validate = ajv.getSchema(`swagger#/components/schemas/${name}`);
  assert.ok(validate, `no schema ${name}`);
  assert.ok(validate(JSON.parse(JSON.stringify(value))), `${name}: ${ajv.errorsText(validate.errors)}`);
}

/** Asserts that every name of `schema.required` is a key of `value` (null allowed). */
function assertRequired(where: string, schema: Schema, value: Record<string, unknown>): void {
  assert.ok(schema.required !== undefined && schema.required.length > 0, `${where}: the swagger lists required fields`);
  for (const key of schema.required) assert.ok(key in value && value[key] !== undefined, `${where}: required ${key} is missing`);
}

const T0 = '2026-12-01T10:00:00.000Z';
const T1 = '2026-12-01T10:00:05.000Z';
const T2 = '2026-12-01T10:01:00.000Z';
const ms = (iso: string) => Date.parse(iso);

const SPEC = {
  jobName: 'mnist',
  userName: 'alice',
  image: 'ubuntu',
  taskRoles: [
    { name: 'worker', taskNumber: 2, commands: ['true'], resources: { cpu: 1, gpu: 2, memoryMb: 512 } },
    { name: 'ps', taskNumber: 1, commands: ['true'] },
  ],
};

/** `retries` is set whether or not this JobView has the field yet (job retries are being added). */
function job(over: Partial<JobView> & { retries?: number } = {}): JobView {
  return {
    retries: 0,
    id: '0b0e6f0a-7d4c-4e55-9d37-2a4f4b1c0d11',
    submitSeq: 7,
    type: 'exec',
    name: 'openpai-mnist',
    state: 'RUNNING',
    priority: 0,
    owner: 'alice',
    spec: SPEC,
    epoch: 1,
    coordinatorId: 'c1',
    submittedAt: T0,
    startedAt: T1,
    finishedAt: null,
    progress: { tasksTotal: 3, tasksSucceeded: 0, tasksFailed: 0, itemsTotal: 3, itemsDone: 0, itemsFailed: 0, bytesTotal: 0, bytesDone: 0 },
    error: null,
    summary: null,
    reclaims: 0,
    virtualCluster: 'default',
    active: true,
    stopRequested: null,
    rerunOf: null,
    callbackUrl: null,
    callbackFormat: 'job',
    labels: { 'openpai/name': 'mnist', 'openpai/api': 'v2' },
    parallelism: null,
    planOpen: false,
    recoveries: 0,
    compacted: false,
    ...over,
  } as JobView;
}

function task(i: number, role: number, index: number, over: Partial<PlanTask> = {}): PlanTask {
  return {
    taskId: `t${String(i).padStart(5, '0')}`,
    index: i,
    state: 'running',
    attempts: 0,
    firstAttempt: 1,
    lastUpdated: null,
    worker: 'w1',
    error: null,
    items: 1,
    bytes: 0,
    output: null,
    payload: { role, index },
    ...over,
  };
}

const finished = (i: number, role: number, index: number, exitCode: number, extra: Record<string, unknown> = {}) =>
  task(i, role, index, {
    state: exitCode === 0 ? 'succeeded' : 'failed',
    attempts: 1,
    lastUpdated: T2,
    output: { role: role === 0 ? 'worker' : 'ps', index, exitCode, signal: null, end: 'exited', durationMs: 1500, ...extra },
  });

/** A job in every row of §3.2, with its tasks. */
const STOP = { graceMs: 5000, deadline: T2 };
const ROWS: { label: string; job: JobView; tasks: PlanTask[]; v2: [string, string, string]; v1: string }[] = [
  { label: 'WAITING', job: job({ state: 'WAITING', startedAt: null }), tasks: [], v2: ['WAITING', 'AttemptCreationPending', 'START'], v1: 'WAITING' },
  { label: 'WAITING after a reclaim', job: job({ state: 'WAITING', reclaims: 1 }), tasks: [task(0, 0, 0, { state: 'pending', attempts: 1 }), task(1, 0, 1, { state: 'pending' }), task(2, 1, 0, { state: 'pending' })], v2: ['WAITING', 'AttemptCreationPending', 'START'], v1: 'WAITING' },
  { label: 'RUNNING', job: job(), tasks: [task(0, 0, 0), task(1, 0, 1, { state: 'pending' }), task(2, 1, 0)], v2: ['RUNNING', 'AttemptRunning', 'START'], v1: 'RUNNING' },
  { label: 'PAUSED', job: job({ state: 'PAUSED' }), tasks: [task(0, 0, 0)], v2: ['RUNNING', 'AttemptRunning', 'START'], v1: 'RUNNING' },
  { label: 'VERIFYING', job: job({ state: 'VERIFYING' }), tasks: [finished(0, 0, 0, 0), finished(1, 0, 1, 0), finished(2, 1, 0, 0)], v2: ['RUNNING', 'AttemptDeletionPending', 'START'], v1: 'RUNNING' },
  { label: 'RUNNING with a stop under way', job: job({ stopRequested: STOP }), tasks: [task(0, 0, 0), finished(1, 0, 1, 0), task(2, 1, 0)], v2: ['STOPPING', 'AttemptDeletionRequested', 'STOP'], v1: 'RUNNING' },
  { label: 'WAITING with a stop under way', job: job({ state: 'WAITING', startedAt: null, stopRequested: STOP }), tasks: [], v2: ['STOPPING', 'AttemptDeletionRequested', 'STOP'], v1: 'RUNNING' }, // §3.2: any unfinished state
  {
    label: 'SUCCEEDED',
    job: job({ state: 'SUCCEEDED', finishedAt: T2, summary: { exitCode: 0, runsOn: 'host', image: 'ubuntu', roles: [] }, progress: { ...job().progress, tasksSucceeded: 3 } }),
    tasks: [finished(0, 0, 0, 0), finished(1, 0, 1, 0), finished(2, 1, 0, 0)],
    v2: ['SUCCEEDED', 'Completed', 'START'],
    v1: 'SUCCEEDED',
  },
  {
    label: 'FAILED',
    job: job({
      state: 'FAILED',
      finishedAt: T2,
      progress: { ...job().progress, tasksSucceeded: 1, tasksFailed: 1 },
      error: {
        code: 'EXEC_FAILED',
        message: 'task role worker: 1 of 2 instances failed (first: worker[1] exit code 3)',
        details: { exitCode: 3, runsOn: 'host', image: 'ubuntu', role: 'worker', roles: [{ name: 'worker', instances: 2, succeeded: 1, failed: 1, failures: [{ index: 1, exitCode: 3, end: 'exited' }] }] },
      },
    }),
    // instance order differs from plan order on purpose
    tasks: [finished(1, 0, 1, 3, { stderrTail: 'boom\n' }), finished(0, 0, 0, 0), task(2, 1, 0)],
    v2: ['FAILED', 'Completed', 'START'],
    v1: 'FAILED',
  },
  { label: 'STOPPED', job: job({ state: 'STOPPED', finishedAt: T2, stopRequested: STOP }), tasks: [finished(0, 0, 0, 0), task(1, 0, 1), task(2, 1, 0, { state: 'pending' })], v2: ['STOPPED', 'Completed', 'STOP'], v1: 'STOPPED' },
];
const row = (label: string) => ROWS.find((r) => r.label === label)!;

describe('states (§3.2)', () => {
  for (const r of ROWS) {
    it(`${r.label}: v2 ${r.v2.join('/')}, v1 ${r.v1} with the native state as subState`, () => {
      const s = paiState(r.job);
      assert.deepEqual([s.state, s.subState, s.executionType], r.v2);
      assert.ok(schemas.JobSummary!.items!.properties!.subState!.enum!.includes(s.subState), 'subState is in the swagger enum');
      assert.deepEqual(v1State(r.job), { state: r.v1, subState: r.job.state, executionType: r.v2[2] });
    });
  }

  it('a stop under way: v2 STOPPING, v1 RUNNING, unfinished instances STOPPING, finished ones kept', () => {
    const r = row('RUNNING with a stop under way');
    assert.equal(v2Summary(r.job, []).state, 'STOPPING');
    assert.equal(v1ListItem(r.job).state, 'RUNNING');
    assert.equal(v1SeedDetail(r.job).state, 'RUNNING');
    assert.equal(v1UserDetail(r.job, r.tasks).jobStatus.state, 'RUNNING');
    const d = v2Detail(r.job, r.tasks, []);
    assert.equal(d.jobStatus.state, 'STOPPING');
    assert.equal(d.jobStatus.executionType, 'STOP');
    assert.deepEqual(d.taskRoles.worker!.taskStatuses.map((t) => t.taskState), ['STOPPING', 'SUCCEEDED']);
    assert.equal(appExitCode(r.job), null);
  });

  it('a STOPPED job: instances that did not finish are STOPPED, no exit code', () => {
    const r = row('STOPPED');
    const d = v2Detail(r.job, r.tasks, []);
    assert.deepEqual(d.taskRoles.worker!.taskStatuses.map((t) => t.taskState), ['SUCCEEDED', 'STOPPED']);
    assert.deepEqual(d.taskRoles.ps!.taskStatuses.map((t) => t.taskState), ['STOPPED']);
    assert.equal(d.jobStatus.appExitCode, null);
    assert.equal(d.jobStatus.completedTime, ms(T2));
  });
});

describe('exit codes', () => {
  it('an exec failure with exit code 3: appExitCode 3 everywhere, the failed instance has containerExitCode 3', () => {
    const r = row('FAILED');
    assert.equal(appExitCode(r.job), 3);
    assert.equal(v1ListItem(r.job).appExitCode, 3);
    assert.equal(v2Summary(r.job, []).appExitCode, 3);
    const seed = v1SeedDetail(r.job);
    assert.equal(seed.appExitCode, 3);
    assert.equal(seed.appExitDiagnostics, r.job.error!.message);
    assert.equal(seed.appProgress, '2/3');
    const d = v2Detail(r.job, r.tasks, []);
    assert.equal(d.jobStatus.appExitCode, 3);
    assert.equal(d.jobStatus.appExitTriggerTaskRoleName, 'worker');
    assert.equal(d.jobStatus.appExitTriggerTaskIndex, 1);
    assert.equal(d.jobStatus.appExitType, 'Failed');
    const [ok, bad] = d.taskRoles.worker!.taskStatuses;
    assert.deepEqual([ok!.taskIndex, ok!.taskState, ok!.containerExitCode], [0, 'SUCCEEDED', 0]);
    assert.deepEqual([bad!.taskIndex, bad!.taskState, bad!.containerExitCode, bad!.containerExitDiagnostics], [1, 'FAILED', 3, 'boom\n']);
    assert.equal(bad!.completedTime, ms(T2));
    assert.equal(bad!.launchedTime, ms(T2) - 1500);
    const attempt = v2JobAttempt(r.job, r.tasks);
    assert.deepEqual([attempt.exitCode, attempt.state, attempt.originState, attempt.exitPhrase], [3, 'FAILED', 'FAILED', 'EXEC_FAILED']);
  });

  it('a failure without an exit code (a limit, a plan error) is null; a success is 0', () => {
    const limit = job({ state: 'FAILED', finishedAt: T2, error: { code: 'EXEC_FAILED', message: 'killed', details: { exitCode: null, role: 'worker' } } });
    assert.equal(appExitCode(limit), null);
    assert.equal(appExitCode(job({ state: 'FAILED', finishedAt: T2, error: { code: 'PLAN_FAILED', message: 'x' } })), null);
    assert.equal(appExitCode(job({ state: 'SUCCEEDED', finishedAt: T2, summary: { exitCode: 0 } })), 0);
    assert.equal(appExitCode(job({ state: 'SUCCEEDED', finishedAt: T2, summary: null })), 0);
  });
});

describe('shapes (§3.4)', () => {
  it('the name: the openpai/name label, else spec.jobName, else the native name', () => {
    assert.equal(paiJobName(job()), 'mnist');
    assert.equal(paiJobName(job({ labels: {}, spec: { ...SPEC, jobName: 'fromSpec' } })), 'fromSpec');
    assert.equal(paiJobName(job({ labels: {}, spec: { taskRoles: SPEC.taskRoles } })), 'openpai-mnist');
  });

  it('the v1 list item has exactly the fields of clients.md §1.6, times in epoch ms', () => {
    const r = row('SUCCEEDED');
    assert.deepEqual(v1ListItem(r.job), {
      name: 'mnist', username: 'alice', state: 'SUCCEEDED', subState: 'SUCCEEDED', executionType: 'START', retries: 0,
      createdTime: ms(T0), completedTime: ms(T2), appExitCode: 0, virtualCluster: 'default',
    });
  });

  it('the seed detail is flat; the user-scoped one is {jobStatus, taskRoles}', () => {
    const r = row('RUNNING');
    assert.deepEqual(Object.keys(v1SeedDetail(r.job)).sort(), [
      'appCompletedTime', 'appExitCode', 'appExitDiagnostics', 'appId', 'appLaunchedTime', 'appProgress', 'appTrackingUrl',
      'completedTime', 'createdTime', 'name', 'state', 'virtualCluster',
    ]);
    const u = v1UserDetail(r.job, r.tasks);
    for (const k of ['name', 'username', 'state', 'subState', 'executionType', 'retries', 'createdTime', 'completedTime', 'appId', 'appProgress', 'appTrackingUrl', 'appLaunchedTime', 'appCompletedTime', 'appExitCode', 'appExitDiagnostics', 'appExitType', 'virtualCluster']) {
      assert.ok(k in u.jobStatus, `v1 jobStatus.${k}`);
    }
    assert.deepEqual(Object.keys(u.taskRoles), ['worker', 'ps']);
    assert.equal(u.jobStatus.appId, r.job.id);
    assert.equal(u.jobStatus.appLaunchedTime, ms(T1));
    assert.equal(u.jobStatus.completedTime, null);
  });

  it('the summary: totals from the spec, debugId the job id, tags, retries, reclaims as platform retries', () => {
    const s = v2Summary(job({ reclaims: 2, retries: 1 }), ['a', 'b']);
    assert.deepEqual([s.totalTaskRoleNumber, s.totalTaskNumber, s.totalGpuNumber], [2, 3, 4]);
    assert.equal(s.debugId, job().id);
    assert.deepEqual(s.tags, ['a', 'b']);
    assert.equal(s.retries, 1);
    assert.deepEqual(s.retryDetails, { user: 0, platform: 2, resource: 0 });
    assert.deepEqual([s.submissionTime, s.createdTime, s.launchedTime, s.completedTime], [ms(T0), ms(T0), ms(T1), null]);
    assert.equal(s.retryDelayTime, null);
    assert.ok(!('protocolVersion' in s));
  });

  it('the detail: roles in spec order, instances in index order, task fields', () => {
    const r = row('FAILED');
    const d = v2Detail(r.job, r.tasks, ['t']);
    assert.deepEqual(Object.keys(d.taskRoles), ['worker', 'ps']);
    assert.deepEqual(d.taskRoles.worker!.taskRoleStatus, { name: 'worker' });
    const [first] = d.taskRoles.worker!.taskStatuses;
    assert.deepEqual({ ...first }, {
      taskIndex: 0, taskUid: 0, taskState: 'SUCCEEDED', retries: 0, accountableRetries: 0, createdTime: ms(T1), launchedTime: ms(T2) - 1500,
      completedTime: ms(T2), attemptId: 0, attemptState: 'SUCCEEDED', containerId: 't00000', containerIp: null, containerNodeName: 'w1',
      hostname: 'w1', containerPorts: {}, containerGpus: null, containerLog: '/api/v2/jobs/alice~mnist/attempts/0/taskRoles/worker/taskIndex/0/attempts/0/logs', containerExitCode: 0, containerExitDiagnostics: null,
    });
    assert.deepEqual(d.taskRoles.ps!.taskStatuses.map((t) => [t.taskState, t.completedTime, t.containerExitCode]), [['STOPPED', null, null]]);
    assert.equal(d.debugId, r.job.id);
    assert.equal(d.jobStatus.attemptId, 0);
    assert.equal(d.jobStatus.appId, r.job.id);
  });

  it('a job before its plan lists every role with no instances; a task with another payload is left out', () => {
    const r = row('WAITING');
    const d = v2Detail(r.job, [task(9, 7, 0), { ...task(8, 0, 0), payload: 'x' }], []);
    assert.deepEqual(d.taskRoles, { worker: { taskRoleStatus: { name: 'worker' }, taskStatuses: [] }, ps: { taskRoleStatus: { name: 'ps' }, taskStatuses: [] } });
    assert.deepEqual([d.jobStatus.launchedTime, d.jobStatus.completedTime, d.jobStatus.appLaunchedTime], [null, null, null]);
  });

  it('retries: attempts beyond the first of a task, the job retries of the job', () => {
    const t = taskStatus(job(), task(0, 0, 0, { attempts: 3 }));
    assert.deepEqual([t.retries, t.attemptId], [2, 2]);
    assert.equal(v2Detail(job({ retries: 2 }), [], []).jobStatus.attemptId, 2);
    assert.equal(v2JobAttempt(job({ retries: 2 }), []).attemptIndex, 2);
    // after a job retry (or a recovery) attempt numbers go on: the count starts again at the run's first
    const again = taskStatus(job({ retries: 1 }), task(0, 0, 0, { state: 'succeeded', attempts: 3, firstAttempt: 3, lastUpdated: T2 }));
    assert.deepEqual([again.retries, again.attemptId], [0, 0]);
    assert.match(String(again.containerLog), /\/attempts\/1\/taskRoles\/worker\/taskIndex\/0\/attempts\/0\/logs$/);
    assert.deepEqual([taskStatus(job(), task(0, 0, 0, { attempts: 4, firstAttempt: 3 })).retries, taskStatus(job(), task(0, 0, 0, { attempts: 0, firstAttempt: 3 })).retries], [1, 0]);
  });

  it('the task detail names its role and job; undefined for a task that is not an instance', () => {
    const r = row('FAILED');
    const t = v2TaskDetail(r.job, r.tasks[0]!)!;
    assert.deepEqual([t.taskRoleName, t.taskIndex, t.taskUid, t.jobName, t.username, t.taskState], ['worker', 1, 't00001', 'mnist', 'alice', 'FAILED']);
    assert.equal(t.attempts[0]!.containerExitCode, 3);
    assert.equal(v2TaskDetail(r.job, task(9, 5, 0)), undefined);
  });

  describe('against the swagger', () => {
    for (const r of ROWS) {
      it(`${r.label}: every required field present, and valid`, () => {
        const summary = v2Summary(r.job, ['x']);
        assertRequired('JobSummary', schemas.JobSummary!.items!, summary);
        assertValid('JobSummary', [summary]);
        assertValid('JobSummaryWithTotalCount', { totalCount: 1, data: [summary] });

        const detail = v2Detail(r.job, r.tasks, []);
        assertRequired('JobDetail', schemas.JobDetail!, detail);
        assertRequired('JobDetail.jobStatus', schemas.JobDetail!.properties!.jobStatus!, detail.jobStatus);
        const roleSchema = schemas.JobDetail!.properties!.taskRoles!.additionalProperties!;
        for (const [name, role] of Object.entries(detail.taskRoles)) {
          assertRequired(`JobDetail.taskRoles.${name}`, roleSchema, role);
          assertRequired(`JobDetail.taskRoles.${name}.taskRoleStatus`, roleSchema.properties!.taskRoleStatus!, role.taskRoleStatus);
          // TaskStatus has no required list: every field §3.4 names is there
          for (const t of role.taskStatuses) {
            for (const k of ['taskIndex', 'taskUid', 'taskState', 'retries', 'accountableRetries', 'createdTime', 'completedTime', 'attemptId', 'attemptState', 'containerId', 'containerIp', 'containerPorts', 'containerGpus', 'containerLog', 'containerExitCode', 'containerExitDiagnostics', 'hostname']) {
              assert.ok(k in t, `task status ${k}`);
            }
            assert.deepEqual([t.containerPorts, t.containerIp], [{}, null]);
          }
        }
        assertValid('JobDetail', detail);
        assertValid('JobAttempt', v2JobAttempt(r.job, r.tasks));
        for (const t of r.tasks) assertValid('TaskStatus', v2TaskDetail(r.job, t));
      });
    }

    it('a missing required field is caught', () => {
      const { appExitCode: _, ...summary } = v2Summary(job(), []);
      assert.throws(() => assertRequired('JobSummary', schemas.JobSummary!.items!, summary), /appExitCode/);
    });
  });
});

describe('the v2 list (§3.4 "Listing (v2)")', () => {
  const at = (min: number) => new Date(Date.parse(T0) + min * 60_000).toISOString();
  const jobs = [
    job({ id: 'j1', submitSeq: 1, submittedAt: at(1), owner: 'alice', labels: { 'openpai/name': 'alpha' }, virtualCluster: 'default', state: 'SUCCEEDED', finishedAt: at(5) }),
    job({ id: 'j2', submitSeq: 2, submittedAt: at(2), owner: 'bob', labels: { 'openpai/name': 'beta' }, virtualCluster: 'vc1', state: 'RUNNING' }),
    job({ id: 'j3', submitSeq: 3, submittedAt: at(3), owner: 'alice', labels: { 'openpai/name': 'gamma_mnist' }, virtualCluster: 'vc1', state: 'RUNNING', stopRequested: STOP }),
    job({ id: 'j4', submitSeq: 4, submittedAt: at(4), owner: 'carol', labels: { 'openpai/name': 'delta' }, virtualCluster: 'default', state: 'FAILED', finishedAt: at(6), spec: { taskRoles: [{ name: 'w', taskNumber: 5, commands: ['x'], resources: { gpu: 1 } }] } }),
    job({ id: 'j5', submitSeq: 5, submittedAt: at(5), owner: 'bob', labels: { 'openpai/name': 'eps' }, virtualCluster: 'default', state: 'WAITING', startedAt: null }),
  ];
  const TAGS: Record<string, string[]> = { j1: ['red'], j2: ['red', 'blue'], j3: [], j4: ['blue'], j5: ['green'] };
  const tagsOf = (j: JobView) => TAGS[j.id] ?? [];
  const names = (query: Record<string, unknown>) => (applyV2List(jobs, tagsOf, parseV2ListQuery(query)) as PaiJobSummary[]).map((s) => s.name);

  it('defaults: newest submission first, every job, an array', () => {
    const q = parseV2ListQuery({});
    assert.deepEqual([q.offset, q.limit, q.withTotalCount, q.order], [0, V2_LIST_DEFAULT_LIMIT, false, { field: 'submissionTime', direction: 'DESC' }]);
    assert.deepEqual(names({}), ['eps', 'delta', 'gamma_mnist', 'beta', 'alpha']);
  });

  it('filters: username and vc lists, states (STOPPING apart from RUNNING), keyword, tags', () => {
    assert.deepEqual(names({ username: 'alice' }), ['gamma_mnist', 'alpha']);
    assert.deepEqual(names({ username: 'alice,carol' }), ['delta', 'gamma_mnist', 'alpha']);
    assert.deepEqual(names({ username: ['bob', 'carol'] }), ['eps', 'delta', 'beta']);
    assert.deepEqual(names({ vc: 'vc1' }), ['gamma_mnist', 'beta']);
    assert.deepEqual(names({ state: 'RUNNING' }), ['beta']);
    assert.deepEqual(names({ state: 'STOPPING,WAITING' }), ['eps', 'gamma_mnist']);
    assert.deepEqual(names({ state: 'UNKNOWN' }), []);
    assert.deepEqual(names({ keyword: 'mni' }), ['gamma_mnist']);
    assert.deepEqual(names({ keyword: 'vc1' }), ['gamma_mnist', 'beta']);
    assert.deepEqual(names({ keyword: 'carol' }), ['delta']);
    assert.deepEqual(names({ tagsContain: 'blue,green' }), ['eps', 'delta', 'beta']);
    assert.deepEqual(names({ tagsNotContain: 'red' }), ['eps', 'delta', 'gamma_mnist']);
    assert.deepEqual(names({ username: 'bob', tagsContain: 'red', vc: 'vc1' }), ['beta']);
    assert.deepEqual(names({ username: '' }), names({}), 'an empty value is no filter');
  });

  it('order: each field both ways; ties keep the newest first; completionTime nulls last ascending', () => {
    assert.deepEqual(names({ order: 'jobName,ASC' }), ['alpha', 'beta', 'delta', 'eps', 'gamma_mnist']);
    assert.deepEqual(names({ order: 'jobName,DESC' }), ['gamma_mnist', 'eps', 'delta', 'beta', 'alpha']);
    assert.deepEqual(names({ order: 'submissionTime,ASC' }), ['alpha', 'beta', 'gamma_mnist', 'delta', 'eps']);
    assert.deepEqual(names({ order: 'username,ASC' }), ['gamma_mnist', 'alpha', 'eps', 'beta', 'delta']);
    assert.deepEqual(names({ order: 'vc,DESC' }), ['gamma_mnist', 'beta', 'eps', 'delta', 'alpha']);
    assert.deepEqual(names({ order: 'state,ASC' }), ['delta', 'beta', 'gamma_mnist', 'alpha', 'eps']);
    assert.deepEqual(names({ order: 'totalTaskNumber,DESC' }), ['delta', 'eps', 'gamma_mnist', 'beta', 'alpha']);
    assert.deepEqual(names({ order: 'totalGpuNumber,DESC' }), ['delta', 'eps', 'gamma_mnist', 'beta', 'alpha']);
    assert.equal(names({ order: 'totalGpuNumber,ASC' }).at(-1), 'delta');
    assert.deepEqual(names({ order: 'retries,ASC' }), names({}));
    assert.deepEqual(names({ order: 'completionTime,ASC' }), ['alpha', 'delta', 'eps', 'gamma_mnist', 'beta']);
    assert.deepEqual(names({ order: 'completionTime,DESC' }), ['eps', 'gamma_mnist', 'beta', 'delta', 'alpha']);
    assert.deepEqual(names({ order: 'jobName' }), names({ order: 'jobName,ASC' }), 'no direction is ASC');
    assert.deepEqual(names({ order: 'jobName,desc' }), names({ order: 'jobName,DESC' }));
  });

  it('paging: offset and limit (strings or numbers), withTotalCount counts every match', () => {
    assert.deepEqual(names({ offset: '1', limit: '2' }), ['delta', 'gamma_mnist']);
    assert.deepEqual(names({ offset: 4, limit: 10 }), ['alpha']);
    assert.deepEqual(names({ offset: '9' }), []);
    assert.deepEqual(names({ limit: '0' }), []);
    const page = applyV2List(jobs, tagsOf, parseV2ListQuery({ username: 'alice,bob', limit: '1', withTotalCount: 'true' }));
    assert.deepEqual(page, { totalCount: 4, data: [v2Summary(jobs[4]!, ['green'])] });
    assert.ok(Array.isArray(applyV2List(jobs, tagsOf, parseV2ListQuery({ withTotalCount: 'false' }))));
    assert.equal(parseV2ListQuery({ withTotalCount: true }).withTotalCount, true);
    assert.equal(parseV2ListQuery({ limit: '50000' }).limit, 50_000);
  });

  it('bad values are VALIDATION_FAILED', () => {
    const bad: Record<string, unknown>[] = [
      { limit: '50001' }, { limit: '-1' }, { limit: '1.5' }, { limit: 'ten' }, { offset: '-3' }, { offset: '1e3' }, { offset: ['1', '2'] },
      { order: 'name,ASC' }, { order: 'jobName,UP' }, { order: 'jobName,ASC,x' }, { order: ',ASC' }, { state: 'running' }, { state: 'DONE' },
      { withTotalCount: 'yes' }, { keyword: { a: 1 } }, { username: [{}] }, { limit: '99999999999999999999' },
    ];
    for (const query of bad) {
      assert.throws(() => parseV2ListQuery(query), (e) => isAppError(e, 'VALIDATION_FAILED'), JSON.stringify(query));
    }
  });

  it('the native states a state filter may match', () => {
    assert.deepEqual(nativeStatesOf(['RUNNING']).sort(), ['PAUSED', 'RUNNING', 'VERIFYING']);
    assert.deepEqual(nativeStatesOf(['STOPPING']).sort(), ['PAUSED', 'RUNNING', 'VERIFYING', 'WAITING']);
    assert.deepEqual(nativeStatesOf(['SUCCEEDED', 'UNKNOWN']), ['SUCCEEDED']);
  });
});
