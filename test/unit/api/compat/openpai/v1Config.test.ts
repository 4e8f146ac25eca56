/**
 * v1Config.ts (plan §4.1): form bodies exactly as the PAIV1 SDK's `job.submit` sends them (request
 * 2.88.2's `form:` is qs `stringify` of the config with request's own qs, so `null` is `key=` and
 * empty arrays vanish), the coercion of Joi's `convert`, the v1 schema of `config/job.js` with
 * unknown keys refused, qs limits, the mapping to exec, and v1ToProtocol for the v2 `/config`.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { isAppError } from '../../../../../engine/index.ts';
import { checkExecSpec, EXEC_SPEC_SCHEMA } from '../../../../../engine/jobtypes/exec/spec.ts';
import { protocolToExec, type ExecSpecTarget } from '../../../../../api/compat/openpai/protocolToExec.ts';
import { validateProtocol } from '../../../../../api/compat/openpai/protocolSchema.ts';
import { dumpProtocol } from '../../../../../api/compat/openpai/protocolYaml.ts';
import { parseV1Form, v1ConfigToExec, v1ToProtocol, type V1Config } from '../../../../../api/compat/openpai/v1Config.ts';

const require = createRequire(import.meta.url);
const SDK = '@microsoft/openpai-js-sdk';
const sdkDir = dirname(require.resolve(`${SDK}/package.json`));
/** The qs that request (the PAIV1 SDK's HTTP client) stringifies `form:` with: its own nested 6.5.x. */
const requestQs = require(require.resolve('qs', { paths: [dirname(require.resolve('request', { paths: [sdkDir] }))] })) as { stringify(v: unknown): string };
const yaml3 = require(require.resolve('js-yaml', { paths: [sdkDir] })) as { safeLoad(s: string): unknown };
const { testJobConfigV1 } = require(`${SDK}/lib/tests/common/test_data/testJobConfig.js`) as { testJobConfigV1: Record<string, unknown> };

const SETTING_MB = 2048;
const OPTS = { userName: 'alice' };

/** What request@2.88.2 puts on the wire for `form: config` (Request.prototype.form: `self._qs.stringify(form)`). */
function sdkForm(config: unknown): string {
  return requestQs.stringify(config);
}

const validateExec = new Ajv({ strict: true, allowUnionTypes: true }).compile(EXEC_SPEC_SCHEMA);
const ENGINE_HAS_JOB_RETRY = 'jobRetryCount' in EXEC_SPEC_SCHEMA.properties;
function assertEngineAccepts(spec: ExecSpecTarget): void {
  const { jobRetryCount: _ignored, ...rest } = spec;
  const checked = ENGINE_HAS_JOB_RETRY ? spec : rest;
  assert.ok(validateExec(checked), JSON.stringify(validateExec.errors));
  checkExecSpec(checked, { timeLimitMs: 3_600_000, memoryLimitMb: SETTING_MB });
}

function refused(body: unknown, message: RegExp, field?: string, jobName?: string): void {
  let err: unknown;
  try {
    v1ConfigToExec(body, { ...OPTS, ...(jobName === undefined ? {} : { jobName }) });
  } catch (e) {
    err = e;
  }
  assert.ok(isAppError(err, 'VALIDATION_FAILED'), `should be refused: ${JSON.stringify(body)?.slice(0, 200)}; got ${String(err)}`);
  assert.match(err.message, message);
  if (field !== undefined) assert.equal((err.details as { field: string }).field, field);
}

function role(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'main', taskNumber: 1, command: 'echo hi', ...extra };
}
function config(extra: Record<string, unknown> = {}, roleExtra: Record<string, unknown> = {}): Record<string, unknown> {
  return { jobName: 'job1', image: 'ubuntu', taskRoles: [role(roleExtra)], ...extra };
}

describe('the PAIV1 SDK form submit', () => {
  it("the SDK's testJobConfigV1, form-encoded as request sends it, converts", () => {
    const raw = sdkForm(testJobConfigV1);
    assert.match(raw, /^jobName=test_job_20190819&image=aiplatform%2Fpai\.build\.base&codeDir=/);
    const r = v1ConfigToExec(parseV1Form(raw), OPTS);
    assert.equal(r.name, 'test_job_20190819');
    assert.equal(r.virtualCluster, 'default');
    assert.deepEqual(r.spec.taskRoles, [
      { name: 'task', taskNumber: 1, commands: ['python $PAI_JOB_NAME/<start up script>'], minFailedInstances: 1, minSucceededInstances: null, resources: { cpu: 1, memoryMb: 1000, gpu: 0 } },
    ]);
    assert.equal(r.spec.image, 'aiplatform/pai.build.base');
    assert.equal(r.spec.jobName, 'test_job_20190819');
    assert.equal(r.spec.userName, 'alice');
    assert.equal(r.config.codeDir, '$PAI_DEFAULT_FS_URI/$PAI_USER_NAME/$PAI_JOB_NAME');
    assert.deepEqual(r.spec.source, { format: 'openpai-v1', text: JSON.stringify(r.config) });
    assertEngineAccepts(r.spec);
  });

  it('two roles with null (sent as key=), an empty portList (left out) and numbers (sent as strings)', () => {
    const cfg = {
      jobName: 'two_roles',
      image: 'ubuntu:22.04',
      virtualCluster: 'vc1',
      retryCount: 2,
      taskRoles: [
        { name: 'ps', taskNumber: 1, cpuNumber: 2, memoryMB: 4096, gpuNumber: 0, command: 'sleep 600', minFailedTaskCount: 1, minSucceededTaskCount: null, portList: [] },
        { name: 'worker', taskNumber: 3, command: 'echo "$PAI_TASK_INDEX" && true', minSucceededTaskCount: 3, portList: [{ label: 'http', beginAt: 0, portNumber: 2 }, { label: 'ssh.v1', beginAt: 0, portNumber: 1 }] },
      ],
    };
    const raw = sdkForm(cfg);
    assert.match(raw, /taskRoles%5B0%5D%5BminSucceededTaskCount%5D=&/);
    assert.doesNotMatch(raw, /taskRoles%5B0%5D%5BportList/);
    const r = v1ConfigToExec(parseV1Form(raw), OPTS);
    assert.equal(r.virtualCluster, 'vc1');
    assert.equal(r.spec.jobRetryCount, 2);
    assert.deepEqual(r.spec.taskRoles.map((t) => [t.name, t.taskNumber, t.commands, t.minFailedInstances, t.minSucceededInstances, t.memoryLimitMb, t.resources]), [
      ['ps', 1, ['sleep 600'], 1, null, undefined, { cpu: 2, memoryMb: 4096, gpu: 0 }],
      ['worker', 3, ['echo "$PAI_TASK_INDEX" && true'], 1, 3, undefined, { cpu: 1, memoryMb: 100, gpu: 0, ports: { http: 2, 'ssh.v1': 1 } }],
    ]);
    assert.deepEqual(r.config.taskRoles[0], { name: 'ps', taskNumber: 1, cpuNumber: 2, memoryMB: 4096, shmMB: 64, gpuNumber: 0, portList: [], command: 'sleep 600', minFailedTaskCount: 1, minSucceededTaskCount: null });
    assertEngineAccepts(r.spec);
    // The same config as JSON (the seed's POST /api/v1/jobs) converts to the same.
    assert.deepEqual(v1ConfigToExec(cfg, OPTS), r);
  });
});

describe('v1ConfigToExec: coercion (Joi convert)', () => {
  it('integer fields take integers or their digits; the nullable counts take null, "" and "null"', () => {
    const r = v1ConfigToExec(config({ retryCount: '1', killAllOnCompletedTaskNumber: '2' }, { taskNumber: '4', cpuNumber: '2', memoryMB: '300', shmMB: '10', gpuNumber: '0', minFailedTaskCount: '', minSucceededTaskCount: 'null', portList: [{ label: 'p', beginAt: '5', portNumber: '6' }] }), OPTS);
    assert.deepEqual(r.config.taskRoles[0], { name: 'main', taskNumber: 4, cpuNumber: 2, memoryMB: 300, shmMB: 10, gpuNumber: 0, portList: [{ label: 'p', beginAt: 5, portNumber: 6 }], command: 'echo hi', minFailedTaskCount: null, minSucceededTaskCount: null });
    assert.equal(r.config.retryCount, 1);
    assert.equal(r.config.killAllOnCompletedTaskNumber, 2);
    assert.equal(r.spec.taskRoles[0]?.minFailedInstances, null);
  });

  const bad: [name: string, body: unknown, message: RegExp, field: string][] = [
    ['"" for taskNumber', config({}, { taskNumber: '' }), /^taskRoles\[0\]\.taskNumber must be an integer, not the string ""$/, 'taskRoles[0].taskNumber'],
    ['"3.5"', config({}, { taskNumber: '3.5' }), /taskNumber must be an integer, not the string "3\.5"/, 'taskRoles[0].taskNumber'],
    ['"1e3"', config({}, { memoryMB: '1e3' }), /memoryMB must be an integer, not the string "1e3"/, 'taskRoles[0].memoryMB'],
    ['" 3"', config({}, { cpuNumber: ' 3' }), /cpuNumber must be an integer/, 'taskRoles[0].cpuNumber'],
    ['3.5', config({}, { taskNumber: 3.5 }), /taskNumber must be an integer$/, 'taskRoles[0].taskNumber'],
    ['a boolean', config({}, { gpuNumber: true }), /gpuNumber must be an integer$/, 'taskRoles[0].gpuNumber'],
    ['null where not nullable', config({}, { taskNumber: null }), /taskNumber must be an integer$/, 'taskRoles[0].taskNumber'],
    ['a number as the image', config({ image: 5 }), /^image must be a string$/, 'image'],
    ['a repeated form key (an array)', parseV1Form('jobName=a&jobName=b&image=u&taskRoles[0][name]=m&taskRoles[0][command]=c'), /^jobName must be a string$/, 'jobName'],
    ['taskRoles as an object', { jobName: 'j', image: 'u', taskRoles: { a: role() } }, /^taskRoles must be an array$/, 'taskRoles'],
    ['not an object', 'jobName=x', /^the job config must be a mapping, not the string "jobName=x"$/, 'body'],
  ];
  for (const [name, body, message, field] of bad) it(`refuses ${name}`, () => refused(body, message, field));
});

describe('v1ConfigToExec: the v1 schema and our limits', () => {
  const bad: [name: string, body: unknown, message: RegExp, field: string][] = [
    ['an unknown root field', config({ jobEnvs: {} }), /^jobEnvs is not an allowed field$/, 'jobEnvs'],
    ['an unknown role field', config({}, { instances: 1 }), /^taskRoles\[0\]\.instances is not an allowed field$/, 'taskRoles[0].instances'],
    ['an unknown port field', config({}, { portList: [{ label: 'a', port: 1 }] }), /^taskRoles\[0\]\.portList\[0\]\.port is not an allowed field$/, 'taskRoles[0].portList[0].port'],
    ['constructor[prototype][x] from a form', parseV1Form('jobName=j&image=u&taskRoles[0][name]=m&taskRoles[0][command]=c&constructor[prototype][x]=1'), /^constructor is not an allowed field$/, 'constructor'],
    ['an own __proto__ key (JSON.parse)', JSON.parse('{"jobName":"j","image":"u","taskRoles":[{"name":"m","command":"c","__proto__":{"x":1}}]}'), /^taskRoles\[0\]\.__proto__ is not an allowed field$/, 'taskRoles[0].__proto__'],
    ['no jobName', { image: 'u', taskRoles: [role()] }, /^jobName is required$/, 'jobName'],
    ['a jobName with a dot (v1 allowed it)', config({ jobName: 'a.b' }), /^jobName "a\.b" is not allowed \(letters, digits, _ and -/, 'jobName'],
    ['no image', config({ image: undefined }), /^image is required$/, 'image'],
    ['an empty image', config({ image: '' }), /^image must NOT have fewer than 1 characters$/, 'image'],
    ['no roles', config({ taskRoles: [] }), /^taskRoles must NOT have fewer than 1 items$/, 'taskRoles'],
    ['33 roles', config({ taskRoles: Array.from({ length: 33 }, (_, i) => role({ name: `r${i}` })) }), /^taskRoles must NOT have more than 32 items$/, 'taskRoles'],
    ['a role name with a dot', config({}, { name: 'a.b' }), /^taskRoles\[0\]\.name "a\.b" is not allowed \(letters, digits and _, starting with a letter or _/, 'taskRoles[0].name'],
    ['a role name with ~', config({}, { name: 'a~b' }), /name "a~b" is not allowed/, 'taskRoles[0].name'],
    ['a role name starting with a digit', config({}, { name: '1a' }), /name "1a" is not allowed/, 'taskRoles[0].name'],
    ['taskNumber 0', config({}, { taskNumber: 0 }), /^taskRoles\[0\]\.taskNumber must be >= 1$/, 'taskRoles[0].taskNumber'],
    ['taskNumber 10,001', config({}, { taskNumber: 10_001 }), /taskNumber must be <= 10000/, 'taskRoles[0].taskNumber'],
    ['10,001 instances in all', config({ taskRoles: [role({ taskNumber: 5000 }), role({ name: 'b', taskNumber: 5001 })] }), /^taskRoles: 10001 instances in all; at most 10000$/, 'taskRoles'],
    ['retryCount -1 (retry for ever)', config({ retryCount: -1 }), /^retryCount must be >= 0$/, 'retryCount'],
    ['retryCount -2', config({ retryCount: '-2' }), /^retryCount must be >= 0$/, 'retryCount'],
    ['retryCount 11', config({ retryCount: 11 }), /^retryCount must be <= 10$/, 'retryCount'],
    ['minFailedTaskCount 0', config({}, { minFailedTaskCount: 0 }), /^taskRoles\[0\]\.minFailedTaskCount must be at least 1, -1 or null$/, 'taskRoles[0].minFailedTaskCount'],
    ['minSucceededTaskCount -2', config({}, { minSucceededTaskCount: -2 }), /minSucceededTaskCount must be >= -1/, 'taskRoles[0].minSucceededTaskCount'],
    ['shmMB above memoryMB (also the default 64 over memoryMB 50)', config({}, { memoryMB: 50 }), /^taskRoles\[0\]\.shmMB \(64\) must be at most its memoryMB \(50\)$/, 'taskRoles[0].shmMB'],
    ['no command', config({}, { command: undefined }), /^taskRoles\[0\]\.command is required$/, 'taskRoles[0].command'],
    ['an empty command', config({}, { command: '' }), /^taskRoles\[0\]\.command must NOT have fewer than 1 characters$/, 'taskRoles[0].command'],
    ['a blank command', config({}, { command: '  \n ' }), /^taskRoles\[0\]\.command is empty$/, 'taskRoles[0].command'],
    ['a NUL in the command', config({}, { command: 'a\0b' }), /^taskRoles\[0\]\.command holds a NUL byte$/, 'taskRoles[0].command'],
    ['a command over 64 KiB', config({}, { command: 'x'.repeat(65_537) }), /command must NOT have more than 65536 characters/, 'taskRoles[0].command'],
    ['two roles of one name', config({ taskRoles: [role(), role()] }), /^taskRoles\[1\]\.name: the role name main is used twice$/, 'taskRoles[1].name'],
    ['two ports of one label', config({}, { portList: [{ label: 'a' }, { label: 'a' }] }), /^taskRoles\[0\]\.portList\[1\]\.label: the label a is used twice$/, 'taskRoles[0].portList[1].label'],
    ['a port label with a space', config({}, { portList: [{ label: 'a b' }] }), /portList\[0\]\.label "a b" is not allowed/, 'taskRoles[0].portList[0].label'],
    ['a config over 100 KiB as JSON', config({ taskRoles: Array.from({ length: 2 }, (_, i) => role({ name: `r${i}`, command: 'x'.repeat(60_000) })) }), /^the job config is longer than 102400 characters as JSON$/, 'body'],
  ];
  for (const [name, body, message, field] of bad) it(`refuses ${name}`, () => refused(body, message, field));

  it('the job name in the path wins; a different one in the body is refused', () => {
    const r = v1ConfigToExec(config({ jobName: undefined }), { ...OPTS, jobName: 'from_path' });
    assert.equal(r.name, 'from_path');
    assert.equal(r.config.jobName, 'from_path');
    assert.equal(v1ConfigToExec(config({ jobName: 'same' }), { ...OPTS, jobName: 'same' }).name, 'same');
    refused(config({ jobName: 'other' }), /^jobName "other" differs from the job name in the path \("from_path"\)$/, 'jobName', 'from_path');
    refused(config({ jobName: undefined }), /^jobName "a\.b" is not allowed/, 'jobName', 'a.b');
  });
});

describe('v1ConfigToExec: the mapping', () => {
  it('-1 and counts above taskNumber are null; memoryMB recorded, not enforced (the setting\'s address-space limit applies); virtualCluster "" is default', () => {
    const r = v1ConfigToExec(config({ virtualCluster: '' }, { taskNumber: 2, memoryMB: 10, shmMB: 0, minFailedTaskCount: -1, minSucceededTaskCount: 3 }), OPTS);
    assert.deepEqual([r.spec.taskRoles[0]?.minFailedInstances, r.spec.taskRoles[0]?.minSucceededInstances, r.spec.taskRoles[0]?.memoryLimitMb, r.spec.taskRoles[0]?.resources?.memoryMb], [null, null, undefined, 10]);
    assert.equal(r.virtualCluster, 'default');
    assert.equal(r.config.virtualCluster, 'default');
    assert.equal(r.spec.jobRetryCount, undefined);
    assertEngineAccepts(r.spec);
  });

  it('Joi defaults fill the config shown by /config', () => {
    const r = v1ConfigToExec({ jobName: 'd', image: 'u', taskRoles: [{ name: 'm', command: 'c' }] }, OPTS);
    assert.deepEqual(r.config, {
      jobName: 'd', image: 'u', authFile: '', dataDir: '', outputDir: '', codeDir: '',
      taskRoles: [{ name: 'm', taskNumber: 1, cpuNumber: 1, memoryMB: 100, shmMB: 64, gpuNumber: 0, portList: [], command: 'c', minFailedTaskCount: 1, minSucceededTaskCount: null }],
      gpuType: '', virtualCluster: 'default', retryCount: 0,
    });
  });
});

describe('parseV1Form: qs limits are VALIDATION_FAILED', () => {
  const cases: [name: string, raw: string, message: RegExp][] = [
    ['depth 6', 'a[b][c][d][e][f][g]=1', /^form body: Input depth exceeded depth option of 5/],
    ['2,001 parameters', Array.from({ length: 2001 }, (_, i) => `k${i}=1`).join('&'), /^form body: Parameter limit exceeded/],
    ['an index of 100', 'taskRoles[100][name]=x', /^form body: Array limit exceeded/],
  ];
  for (const [name, raw, message] of cases) {
    it(name, () => assert.throws(() => parseV1Form(raw), (e: unknown) => isAppError(e, 'VALIDATION_FAILED') && message.test(e.message)));
  }

  it('__proto__ is dropped; broken brackets and cut escapes stay keys and text', () => {
    assert.deepEqual({ ...(parseV1Form('__proto__[x]=1&a=2') as object) }, { a: '2' });
    assert.deepEqual(JSON.parse(JSON.stringify(parseV1Form('a[=1&b]]=2&c=%E0%A4%A&d=%FF'))), { a: { '[': '1' }, 'b]]': '2', c: '%E0%A4%A', d: '%FF' });
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('99 indices make an array of 100 roles, which the schema refuses (32)', () => {
    const raw = Array.from({ length: 100 }, (_, i) => `taskRoles[${i}][name]=r${i}&taskRoles[${i}][command]=c`).join('&');
    refused(parseV1Form(`jobName=j&image=u&${raw}`), /^taskRoles must NOT have more than 32 items$/, 'taskRoles');
  });
});

describe('v1ToProtocol: the v2 /config of a v1 job', () => {
  it('is a valid protocol that js-yaml 3 reads back and that converts to the same roles', () => {
    const r = v1ConfigToExec(config({ dataDir: '/data', outputDir: '/out', codeDir: '', authFile: 'hdfs://a', retryCount: 1 }, { taskNumber: 2, minSucceededTaskCount: 2, portList: [{ label: 'http', portNumber: 2 }] }), OPTS);
    const protocol = v1ToProtocol(r.config);
    assert.doesNotThrow(() => validateProtocol(protocol));
    assert.deepEqual(protocol, {
      protocolVersion: 2,
      name: 'job1',
      type: 'job',
      prerequisites: [{ name: 'default', type: 'dockerimage', uri: 'ubuntu' }, { name: 'default', type: 'data', uri: ['/data'] }, { name: 'default', type: 'output', uri: '/out' }],
      jobRetryCount: 1,
      taskRoles: {
        main: {
          instances: 2,
          completion: { minFailedInstances: 1, minSucceededInstances: 2 },
          dockerImage: 'default',
          data: 'default',
          output: 'default',
          extraContainerOptions: { shmMB: 64 },
          resourcePerInstance: { cpu: 1, memoryMB: 100, gpu: 0, ports: { http: 2 } },
          commands: ['echo hi'],
        },
      },
      defaults: { virtualCluster: 'default' },
      extras: { openpaiV1: { authFile: 'hdfs://a' } },
    });
    const text = dumpProtocol(protocol);
    assert.deepEqual(yaml3.safeLoad(text), protocol);
    const back = protocolToExec(text, OPTS);
    const roles = back.spec.taskRoles.map(({ image: _image, ...rest }) => rest);
    assert.deepEqual(roles, r.spec.taskRoles);
    assert.equal(back.spec.taskRoles[0]?.image, r.spec.image);
    assert.equal(back.spec.jobRetryCount, r.spec.jobRetryCount);
  });

  it('every config the SDK can send round-trips the same way (property)', () => {
    const v1Role = fc.record({
      name: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/).filter((s) => !['__proto__', 'constructor', 'prototype'].includes(s)),
      taskNumber: fc.integer({ min: 1, max: 20 }),
      cpuNumber: fc.integer({ min: 0, max: 16 }),
      memoryMB: fc.integer({ min: 64, max: 100_000 }),
      gpuNumber: fc.integer({ min: 0, max: 4 }),
      command: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '' && !s.includes('\0') && !s.includes('<%')),
      minFailedTaskCount: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 25 })),
      minSucceededTaskCount: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 25 })),
      portList: fc.uniqueArray(fc.record({ label: fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/), beginAt: fc.constant(0), portNumber: fc.integer({ min: 0, max: 4 }) }), { selector: (p) => p.label, maxLength: 3 }),
    }, { requiredKeys: ['name', 'command'] });
    const v1 = fc.record({
      jobName: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
      image: fc.constantFrom('ubuntu', 'openpai/x:1.0'),
      dataDir: fc.constantFrom('', '/d'),
      retryCount: fc.integer({ min: 0, max: 10 }),
      virtualCluster: fc.constantFrom('default', 'vc1', ''),
      taskRoles: fc.uniqueArray(v1Role, { selector: (r) => r.name, minLength: 1, maxLength: 4 }),
    }, { requiredKeys: ['jobName', 'image', 'taskRoles'] });
    fc.assert(
      fc.property(v1, (cfg) => {
        const viaForm = v1ConfigToExec(parseV1Form(sdkForm(cfg)), OPTS);
        assert.deepEqual(viaForm, v1ConfigToExec(cfg, OPTS));
        assertEngineAccepts(viaForm.spec);
        const back = protocolToExec(dumpProtocol(v1ToProtocol(viaForm.config)), OPTS);
        // The v2 path trims each command as the original's render did; v1 ran its command as given.
        const trimmed = viaForm.spec.taskRoles.map((t) => ({ ...t, commands: t.commands.map((c) => c.trim()) }));
        assert.deepEqual(back.spec.taskRoles.map(({ image: _image, ...rest }) => rest), trimmed);
        assert.equal(back.virtualCluster, viaForm.virtualCluster);
      }),
      { numRuns: 300 },
    );
  });

  it('config round trip: JSON.parse of source.text is the config again', () => {
    const r = v1ConfigToExec(config(), OPTS);
    assert.deepEqual(JSON.parse(r.spec.source?.text ?? '') as V1Config, r.config);
  });
});

describe('v1: properties over hostile bodies', () => {
  it('random and mangled forms, and any JSON value, give a submission or VALIDATION_FAILED', () => {
    const base = sdkForm(testJobConfigV1);
    const formish = fc.string({ unit: fc.constantFrom(...'ab[]=&%0129E_'.split('')), maxLength: 200 });
    const mangled = fc.tuple(fc.nat(base.length), fc.nat(30), fc.string({ maxLength: 30 })).map(([at, cut, insert]) => base.slice(0, at) + insert + base.slice(at + cut));
    fc.assert(
      fc.property(fc.oneof(formish, mangled, fc.string({ maxLength: 200 })), fc.option(fc.stringMatching(/^[A-Za-z0-9_.~-]{0,12}$/), { nil: undefined }), (raw, jobName) => {
        try {
          const r = v1ConfigToExec(parseV1Form(raw), { ...OPTS, ...(jobName === undefined ? {} : { jobName }) });
          assertEngineAccepts(r.spec);
        } catch (e) {
          assert.ok(isAppError(e, 'VALIDATION_FAILED'), `${JSON.stringify(raw)}: ${String(e)}`);
        }
      }),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ jobName: fc.anything(), image: fc.anything(), taskRoles: fc.array(fc.dictionary(fc.constantFrom('name', 'command', 'taskNumber', 'minFailedTaskCount', 'portList', 'memoryMB', 'shmMB', '__proto__', 'x'), fc.anything()), { maxLength: 3 }) })), (body) => {
        try {
          assertEngineAccepts(v1ConfigToExec(body, OPTS).spec);
        } catch (e) {
          assert.ok(isAppError(e, 'VALIDATION_FAILED'), String(e));
        }
      }),
      { numRuns: 1500 },
    );
  });
});
