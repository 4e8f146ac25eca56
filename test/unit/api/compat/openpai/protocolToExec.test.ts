/**
 * protocolToExec.ts (plan §4.2 steps 5–6): the SDK's own test job, the `<% %>` render grammar of
 * the original server, deployments, the mapping table (-1 and counts above the instances → null,
 * images per role, memory within the setting, retries), secrets masked in `source`, and that every
 * spec it produces passes the engine's own exec schema and checks.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { isAppError } from '../../../../../engine/index.ts';
import { checkExecSpec, EXEC_SPEC_SCHEMA } from '../../../../../engine/jobtypes/exec/spec.ts';
import { JOB_NAME_RE, protocolToExec, renderCommand, type ExecSpecTarget } from '../../../../../api/compat/openpai/protocolToExec.ts';
import { dumpProtocol, loadProtocolYaml } from '../../../../../api/compat/openpai/protocolYaml.ts';

const require = createRequire(import.meta.url);
const SDK = '@microsoft/openpai-js-sdk';
const yaml3 = require(require.resolve('js-yaml', { paths: [require.resolve(`${SDK}/package.json`)] })) as { safeDump(v: unknown): string };
const { testJobConfig } = require(`${SDK}/lib/tests/common/test_data/testJobConfig.js`) as { testJobConfig: Record<string, unknown> };

const SETTING_MB = 2048;
const OPTS = { userName: 'alice' };

const validateExec = new Ajv({ strict: true, allowUnionTypes: true }).compile(EXEC_SPEC_SCHEMA);
/** The engine's E2 field may land after this module: until EXEC_SPEC_SCHEMA has it, it is checked here only. */
const ENGINE_HAS_JOB_RETRY = 'jobRetryCount' in EXEC_SPEC_SCHEMA.properties;

/** Asserts what the engine's registry would: the exec schema, then checkExecSpec. */
function assertEngineAccepts(spec: ExecSpecTarget): void {
  const { jobRetryCount, ...rest } = spec;
  const checked = ENGINE_HAS_JOB_RETRY ? spec : rest;
  if (!ENGINE_HAS_JOB_RETRY && jobRetryCount !== undefined) assert.ok(Number.isInteger(jobRetryCount) && jobRetryCount >= 0 && jobRetryCount <= 10);
  assert.ok(validateExec(checked), JSON.stringify(validateExec.errors));
  checkExecSpec(checked, { timeLimitMs: 3_600_000, memoryLimitMb: SETTING_MB });
}

/** A protocol as the SDK would send it, with `extra` merged over a one-role base. */
function yamlOf(extra: Record<string, unknown> = {}, role: Record<string, unknown> = {}): string {
  return yaml3.safeDump({
    protocolVersion: 2,
    name: 'j1',
    type: 'job',
    prerequisites: [{ name: 'img', type: 'dockerimage', uri: 'ubuntu:22.04' }],
    taskRoles: { worker: { instances: 3, dockerImage: 'img', resourcePerInstance: { cpu: 1, memoryMB: 512, gpu: 0 }, commands: ['echo hi'], ...role } },
    ...extra,
  });
}

function refused(text: string, message: RegExp, field?: string): void {
  let err: unknown;
  try {
    protocolToExec(text, OPTS);
  } catch (e) {
    err = e;
  }
  assert.ok(isAppError(err, 'VALIDATION_FAILED'), `should be refused; got ${String(err)}`);
  assert.match(err.message, message);
  if (field !== undefined) assert.equal((err.details as { field: string }).field, field);
}

describe("protocolToExec: the SDK's testJobConfig (js-yaml 3 safeDump, as createJob sends it)", () => {
  it('converts, with gpu: 1 recorded and memoryMB 8192 capped at the setting', () => {
    const text = yaml3.safeDump(testJobConfig);
    const r = protocolToExec(text, OPTS);
    assert.equal(r.name, 'sdk_test_job');
    assert.equal(r.virtualCluster, 'default');
    assert.deepEqual(r.spec.taskRoles, [
      {
        name: 'worker',
        taskNumber: 1,
        commands: [
          'bazel-bin/tensorflow_serving/example/mnist_saved_model /tmp/mnist_model',
          'tensorflow_model_server --port=$PAI_CONTAINER_HOST_model_server_PORT_LIST --model_name=mnist --model_base_path=/tmp/mnist_model',
        ],
        minFailedInstances: 1,
        minSucceededInstances: null,
        resources: { cpu: 4, memoryMb: 8192, gpu: 1, ports: { model_server: 1 } },
        image: 'openpai/pai.example.tensorflow-serving',
      },
    ]);
    assert.equal(r.spec.jobName, 'sdk_test_job');
    assert.equal(r.spec.userName, 'alice');
    assert.deepEqual(r.spec.source, { format: 'openpai-v2', text });
    assert.equal(r.spec.jobRetryCount, undefined);
    assert.deepEqual(r.protocol, testJobConfig);
    assertEngineAccepts(r.spec);
  });

  it('the CLI path too: the text re-dumped by dumpProtocol converts to the same spec', () => {
    const a = protocolToExec(yaml3.safeDump(testJobConfig), OPTS);
    const b = protocolToExec(dumpProtocol(testJobConfig), OPTS);
    assert.deepEqual(b.spec.taskRoles, a.spec.taskRoles);
  });
});

describe('protocolToExec: the mapping table', () => {
  it('roles in document order; instances default 1; completion defaults 1 / null', () => {
    const text = yaml3.safeDump({
      protocolVersion: '2', name: 'multi', type: 'job',
      prerequisites: [{ name: 'a', type: 'dockerimage', uri: 'img-a' }, { name: 'b', type: 'dockerimage', uri: 'img-b' }],
      taskRoles: {
        ps: { dockerImage: 'a', resourcePerInstance: { cpu: 1, memoryMB: 100, gpu: 0 }, commands: ['sleep 1000'] },
        worker: { instances: 3, dockerImage: 'b', resourcePerInstance: { cpu: 2, memoryMB: 4096, gpu: 0 }, commands: ['echo w'], completion: { minSucceededInstances: 3 } },
        _z9: { dockerImage: 'a', resourcePerInstance: { cpu: 0, memoryMB: 10, gpu: 0 }, commands: ['true'] },
      },
    });
    const r = protocolToExec(text, OPTS);
    assert.deepEqual(r.spec.taskRoles.map((t) => [t.name, t.taskNumber, t.image, t.minFailedInstances, t.minSucceededInstances, t.resources?.memoryMb]), [
      ['ps', 1, 'img-a', 1, null, 100],
      ['worker', 3, 'img-b', 1, 3, 4096],
      ['_z9', 1, 'img-a', 1, null, 10],
    ]);
    assertEngineAccepts(r.spec);
  });

  it('-1 and counts above the instances become null', () => {
    const r = protocolToExec(yamlOf({}, { completion: { minFailedInstances: -1, minSucceededInstances: 4 } }), OPTS);
    assert.equal(r.spec.taskRoles[0]?.minFailedInstances, null);
    assert.equal(r.spec.taskRoles[0]?.minSucceededInstances, null);
    const s = protocolToExec(yamlOf({}, { completion: { minFailedInstances: 5, minSucceededInstances: -1 } }), OPTS);
    assert.deepEqual([s.spec.taskRoles[0]?.minFailedInstances, s.spec.taskRoles[0]?.minSucceededInstances], [null, null]);
    const t = protocolToExec(yamlOf({}, { completion: { minFailedInstances: 3, minSucceededInstances: 2 } }), OPTS);
    assert.deepEqual([t.spec.taskRoles[0]?.minFailedInstances, t.spec.taskRoles[0]?.minSucceededInstances], [3, 2]);
    assertEngineAccepts(r.spec);
  });

  it('hand-written null spellings in completion are null', () => {
    const text = 'protocolVersion: 2\nname: hw\ntype: job\nprerequisites:\n  - {name: i, type: dockerimage, uri: u}\ntaskRoles:\n  w:\n    instances: 2\n    completion:\n      minFailedInstances: ~\n      minSucceededInstances:\n    dockerImage: i\n    resourcePerInstance: {cpu: 1, memoryMB: 64, gpu: 0}\n    commands:\n      - "true"\n';
    const r = protocolToExec(text, OPTS);
    assert.deepEqual([r.spec.taskRoles[0]?.minFailedInstances, r.spec.taskRoles[0]?.minSucceededInstances], [null, null]);
  });

  it('taskRetryCount per role, jobRetryCount, the virtual cluster', () => {
    const r = protocolToExec(yamlOf({ jobRetryCount: 2, defaults: { virtualCluster: 'vc1' } }, { taskRetryCount: 3 }), OPTS);
    assert.equal(r.spec.taskRoles[0]?.taskRetryCount, 3);
    assert.equal(r.spec.jobRetryCount, 2);
    assert.equal(r.virtualCluster, 'vc1');
    assertEngineAccepts(r.spec);
    const z = protocolToExec(yamlOf({ jobRetryCount: 0 }), OPTS);
    assert.equal(z.spec.jobRetryCount, undefined);
    assert.equal(z.spec.taskRoles[0]?.taskRetryCount, undefined);
  });

  it('memoryMB is recorded, not enforced: the instance keeps the address-space limit of the setting (an address-space limit is not a container memory limit)', () => {
    for (const asked of [1, 100, SETTING_MB, 8192]) {
      const r = protocolToExec(yamlOf({}, { resourcePerInstance: { cpu: 1, memoryMB: asked, gpu: 0 } }), OPTS);
      assert.equal(r.spec.taskRoles[0]?.memoryLimitMb, undefined);
      assert.equal(r.spec.taskRoles[0]?.resources?.memoryMb, asked);
    }
  });

  it('secrets are masked in source and in the protocol returned; rendered only into the sealed commands, the spec\'s show ******', () => {
    const text = yamlOf({ secrets: { token: 'hunter2' } }, { commands: ['login --token <% $secrets.token %>', 'echo plain'] });
    const r = protocolToExec(text, OPTS);
    assert.deepEqual(r.spec.taskRoles[0]?.commands, ['login --token ******', 'echo plain']);
    assert.deepEqual(r.sealed, { commands: [['login --token hunter2', 'echo plain']], redact: ['hunter2'] });
    assert.doesNotMatch(JSON.stringify(r.spec), /hunter2/);
    assert.equal(r.spec.sealed, undefined, 'the id is the caller\'s to set once the document is written');
    assert.doesNotMatch(r.spec.source?.text ?? '', /hunter2/);
    assert.equal((loadProtocolYaml(r.spec.source?.text ?? '') as { secrets: unknown }).secrets, '******');
    assert.equal(r.protocol.secrets, '******');
    assertEngineAccepts(r.spec);
  });
});

describe('protocolToExec: the two renders (secrets sealed, the spec shows ******)', () => {
  const twoRoles = (secrets: unknown, worker: string[], ps: string[] = ['echo ps']) => yaml3.safeDump({
    protocolVersion: 2, name: 'j1', type: 'job', secrets,
    prerequisites: [{ name: 'img', type: 'dockerimage', uri: 'ubuntu:22.04' }],
    taskRoles: {
      ps: { dockerImage: 'img', resourcePerInstance: { cpu: 1, memoryMB: 512, gpu: 0 }, commands: ps },
      worker: { instances: 2, dockerImage: 'img', resourcePerInstance: { cpu: 1, memoryMB: 512, gpu: 0 }, commands: worker },
    },
  });

  it('without a secret in any command nothing is sealed, even with secrets declared', () => {
    for (const text of [yamlOf(), yamlOf({ secrets: { unused: 'hunter2' } }), yamlOf({ secrets: { k: 'v' } }, { commands: ['echo <% $secrets.missing %>x'] })]) {
      const r = protocolToExec(text, OPTS);
      assert.equal(r.sealed, undefined, text);
    }
  });

  it('one role\'s secret seals every role\'s commands, in spec order; nested, listed, numeric and boolean values are masked and listed to hide', () => {
    const secrets = { db: { user: 'admin', pass: 's3cr3t!' }, keys: ['k-one', 'k-two'], pin: 123456, on: true, none: null, empty: '' };
    const r = protocolToExec(twoRoles(secrets, ['run <% $secrets.db.pass %> <% $secrets.keys %> <% $secrets.pin %> <% $secrets.on %>/<% $secrets.none %>/<% $secrets.db %>', 'echo <% $secrets.keys[1] %>']), OPTS);
    assert.deepEqual(r.spec.taskRoles.map((t) => t.commands), [['echo ps'], ['run ****** ******,****** ****** ******//[object Object]', 'echo ******']]);
    assert.deepEqual(r.sealed?.commands, [['echo ps'], ['run s3cr3t! k-one,k-two 123456 true//[object Object]', 'echo k-two']]);
    assert.deepEqual(r.sealed?.redact, ['admin', 's3cr3t!', 'k-one', 'k-two', '123456', 'true']);
    for (const v of ['s3cr3t!', 'k-one', 'k-two', '123456']) assert.ok(!JSON.stringify(r.spec).includes(v), v);
    assertEngineAccepts(r.spec);
  });

  it('what only the masks could make wrong is not refused: a short secret shown past 64 KiB is cut, a shown command that would be empty reads ******', () => {
    // JSON is YAML too: 10,000 one-letter values in 40 K characters, 20 K rendered, 70 K shown
    const r = protocolToExec(JSON.stringify(loadProtocolYaml(twoRoles({ s: Array(10_000).fill('a'), long: 'abcdefghijkl' }, ['<% $secrets.s %>', '<% $secrets.long[9] %>']))), OPTS);
    assert.equal(r.sealed?.commands[1]?.[0], Array(10_000).fill('a').join(','));
    assert.equal(r.spec.taskRoles[1]?.commands[0]?.length, 65_536);
    assert.match(r.spec.taskRoles[1]?.commands[0] ?? '', /^(\*{6},)+\**$/);
    assert.equal(r.sealed?.commands[1]?.[1], 'j');
    assert.equal(r.spec.taskRoles[1]?.commands[1], '******');
    assertEngineAccepts(r.spec);
  });

  it('what the real values make wrong is refused as before, naming no value', () => {
    refused(twoRoles({ e: '' }, ['<% $secrets.e %>']), /^taskRoles\.worker\.commands\[0\] is empty once rendered$/);
    refused(twoRoles({ big: 'x'.repeat(40_000) }, ['<% $secrets.big %><% $secrets.big %>']), /^taskRoles\.worker\.commands\[0\] is longer than 65536 characters once rendered$/);
  });

  it('property: the shown spec holds no secret value, the engine accepts it, and the sealed commands are the spec\'s with the values in place of the masks', () => {
    const value = fc.stringMatching(/^[A-Za-z0-9]{4,12}$/).map((v) => `S3CR3T${v}`);
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), value, { minKeys: 1, maxKeys: 4 }), fc.array(fc.nat(20), { minLength: 1, maxLength: 6 }), (secrets, picks) => {
        const names = Object.keys(secrets);
        const commands = picks.map((p) => (p % 3 === 0 ? `echo plain ${p}` : `use <% $secrets.${names[p % names.length]!} %> ${p}`));
        const r = protocolToExec(twoRoles(secrets, commands), OPTS);
        const used = picks.some((p) => p % 3 !== 0);
        assert.equal(r.sealed !== undefined, used);
        assertEngineAccepts(r.spec);
        for (const v of Object.values(secrets)) assert.ok(!JSON.stringify(r.spec).includes(v), v);
        if (r.sealed === undefined) return;
        assert.deepEqual(new Set(r.sealed.redact), new Set(Object.values(secrets)));
        assert.equal(r.sealed.commands.length, r.spec.taskRoles.length);
        r.sealed.commands.forEach((role, i) => {
          const shown = r.spec.taskRoles[i]!.commands;
          assert.deepEqual(role.map((c) => Object.values(secrets).reduce((t, v) => t.split(v).join('******'), c)), shown);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('protocolToExec: deployments', () => {
  it("the default deployment's pre- and postCommands wrap the role's, as a list", () => {
    const text = yamlOf({
      deployments: [
        { name: 'other', taskRoles: { worker: { preCommands: ['never'] } } },
        { name: 'dep', taskRoles: { worker: { preCommands: ['  pre1', 'pre2 <% $parameters.p %>'], postCommands: ['post  '] } } },
      ],
      defaults: { deployment: 'dep' },
      parameters: { p: 'P' },
    });
    const r = protocolToExec(text, OPTS);
    assert.deepEqual(r.spec.taskRoles[0]?.commands, ['pre1', 'pre2 P', 'echo hi', 'post']);
  });

  it('without defaults.deployment no deployment applies; over 100 commands in all is refused', () => {
    const text = yamlOf({ deployments: [{ name: 'dep', taskRoles: { worker: { preCommands: ['pre'] } } }] });
    assert.deepEqual(protocolToExec(text, OPTS).spec.taskRoles[0]?.commands, ['echo hi']);
    const many = yamlOf({ deployments: [{ name: 'd', taskRoles: { worker: { preCommands: Array(50).fill('p') } } }], defaults: { deployment: 'd' } }, { commands: Array(51).fill('c') });
    refused(many, /^taskRoles\.worker\.commands: 101 commands with the deployment's pre- and postCommands; at most 100$/, 'taskRoles.worker.commands');
  });

  it("a deployment's command that renders empty names where it came from", () => {
    const text = yamlOf({ deployments: [{ name: 'd', taskRoles: { worker: { postCommands: ['<% $parameters.none %>'] } } }], defaults: { deployment: 'd' } });
    refused(text, /^deployments\[0\]\.taskRoles\.worker\.postCommands\[0\] is empty once rendered$/, 'deployments[0].taskRoles.worker.postCommands[0]');
  });
});

describe('renderCommand: the render grammar of protocol.js', () => {
  const ctx = {
    $parameters: { a: { b: ['x0', 'x1'] }, n: 3, t: true, z: null, list: [1, [2, 3], { k: 1 }, null], s: 'str' },
    $secrets: { pw: 'p' },
    $script: { name: 's', type: 'script', uri: 'https://x/s.sh' },
    $data: { name: 'd', type: 'data', uri: ['/d0', '/d1'] },
    $output: undefined,
  };
  const cases: [template: string, expected: string][] = [
    ['plain text', 'plain text'],
    ['a <% $parameters.a.b[1] %> b', 'a x1 b'],
    ['<%$parameters.a.b.0%>', 'x0'],
    ['<%   $parameters.n   %>/<% $parameters.t %>', '3/true'],
    ['x<% $parameters.z %>y<% $parameters.missing %>z<% $nothing.at.all %>', 'xyz'],
    ['<% $parameters.list %>', '1,2,3,[object Object],'],
    ['<% $parameters.a %>', '[object Object]'],
    ['<% $secrets.pw %>', 'p'],
    ['<% $script.uri %> | <% $script %>', 'https://x/s.sh | https://x/s.sh'],
    ['<% $data.uri[0] %> <% $data %>', '/d0 /d0,/d1'],
    ['out=<% $output.uri %>', 'out='],
    ['x<% $parameters.constructor %><% $parameters.toString %><% $parameters.a.__proto__ %>', 'x'],
    ['<% $parameters.s.length %>', '3'],
    ['keep <%! a comment %>this', 'keep this'],
    ['  spaces trimmed  ', 'spaces trimmed'],
    ['a %> b', 'a %> b'],
    ['<% %>x', 'x'],
  ];
  for (const [template, expected] of cases) it(JSON.stringify(template), () => assert.equal(renderCommand(template, ctx, 'c'), expected));

  it('sections, partials, unescaped names and delimiter changes are refused, as is an open tag', () => {
    for (const t of ['<%#x%>a<%/x%>', '<%^x%>', '<%> p %>', '<%& $parameters.s %>', '<%{ $parameters.s }%>', '<%= [[ ]] =%>']) {
      assert.throws(() => renderCommand(t, ctx, 'f'), (e: unknown) => isAppError(e, 'VALIDATION_FAILED') && /^f: <%. … %> is not supported/.test(e.message), t);
    }
    assert.throws(() => renderCommand('echo <% $parameters.s', ctx, 'f'), /: f: the tag <% at character 6 is not closed with %>$/);
  });

  it('a command that renders empty, too long, or with a NUL is refused', () => {
    assert.throws(() => renderCommand('  <% $parameters.z %> ', ctx, 'f'), /: f is empty once rendered$/);
    const big = { $parameters: { v: 'x'.repeat(40_000) } };
    assert.throws(() => renderCommand('<% $parameters.v %><% $parameters.v %>', big, 'f'), /: f is longer than 65536 characters once rendered$/);
    const many = { $parameters: { v: Array(100_000).fill('abcdef') } };
    assert.throws(() => renderCommand('<% $parameters.v %>', many, 'f'), /longer than 65536/);
    assert.throws(() => renderCommand('a<% $parameters.v %>', { $parameters: { v: 'b\0' } }, 'f'), /: f holds a NUL byte once rendered$/);
  });
});

describe('protocolToExec: refusals', () => {
  it('YAML errors keep their position; schema errors name the field', () => {
    refused('name: x\ntaskRoles: [\n', /^line \d+, column \d+: /, 'protocol');
    refused(yamlOf({ name: 'a.b' }), /^name "a\.b" is not allowed/, 'name');
    refused(yamlOf({}, { commands: ['echo <% $parameters.x'] }), /^taskRoles\.worker\.commands\[0\]: the tag <% at character 6 is not closed/, 'taskRoles.worker.commands[0]');
    refused(yamlOf({}, { commands: ['<% $parameters.nope %>'] }), /^taskRoles\.worker\.commands\[0\] is empty once rendered$/);
  });

  it('JOB_NAME_RE: letters, digits, _ and -, 1 to 128', () => {
    for (const ok of ['a', 'A-b_9', 'x'.repeat(128)]) assert.ok(JOB_NAME_RE.test(ok), ok);
    for (const bad of ['', 'a.b', 'a~b', 'a b', 'x'.repeat(129), 'é']) assert.ok(!JOB_NAME_RE.test(bad), bad);
  });
});

describe('protocolToExec: properties', () => {
  // Role names constructor and prototype are valid protocol but refused by the loader (any key of those names is).
  const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/).filter((s) => !['__proto__', 'constructor', 'prototype'].includes(s));
  const count = fc.oneof(fc.constant(null), fc.constant(-1), fc.integer({ min: 1, max: 12 }));
  const role = fc.record({
    instances: fc.integer({ min: 1, max: 10 }),
    completion: fc.record({ minFailedInstances: count, minSucceededInstances: count }, { requiredKeys: [] }),
    taskRetryCount: fc.integer({ min: 0, max: 10 }),
    dockerImage: fc.constant('img'),
    resourcePerInstance: fc.record({ cpu: fc.integer({ min: 0, max: 64 }), memoryMB: fc.integer({ min: 1, max: 100_000 }), gpu: fc.integer({ min: 0, max: 8 }) }),
    commands: fc.array(fc.oneof(fc.constant('echo <% $parameters.p %>'), fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== '' && !s.includes('<%') && !s.includes('\0'))), { minLength: 1, maxLength: 5 }),
  }, { requiredKeys: ['dockerImage', 'resourcePerInstance', 'commands'] });
  const protocol = fc.record({
    protocolVersion: fc.constantFrom(2, '2'),
    name: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
    type: fc.constant('job'),
    prerequisites: fc.constant([{ name: 'img', type: 'dockerimage', uri: 'ubuntu' }]),
    parameters: fc.constant({ p: 'value' }),
    jobRetryCount: fc.integer({ min: 0, max: 10 }),
    taskRoles: fc.dictionary(name, role, { minKeys: 1, maxKeys: 4 }),
  }, { requiredKeys: ['protocolVersion', 'name', 'type', 'prerequisites', 'taskRoles'] });

  it('every valid generated protocol converts to a spec the engine accepts', () => {
    fc.assert(
      fc.property(protocol, (p) => {
        const r = protocolToExec(yaml3.safeDump(p), OPTS);
        assertEngineAccepts(r.spec);
        assert.equal(r.spec.taskRoles.length, Object.keys(p.taskRoles).length);
      }),
      { numRuns: 300 },
    );
  });

  it('mangled protocols give a spec or VALIDATION_FAILED, nothing else', () => {
    const base = yaml3.safeDump(testJobConfig);
    const mangledText = fc.tuple(fc.nat(base.length), fc.nat(30), fc.string({ maxLength: 30 })).map(([at, cut, insert]) => base.slice(0, at) + insert + base.slice(at + cut));
    const oneFieldBroken = fc.tuple(protocol, fc.constantFrom('instances', 'completion', 'commands', 'dockerImage', 'resourcePerInstance', 'taskRetryCount', 'nope'), fc.anything())
      .map(([p, key, v]) => {
        const roles = Object.values(p.taskRoles) as Record<string, unknown>[];
        if (roles[0] !== undefined) roles[0][key] = v;
        try {
          return yaml3.safeDump(p);
        } catch {
          return 'x: [';
        }
      });
    fc.assert(
      fc.property(fc.oneof(mangledText, oneFieldBroken, fc.string({ maxLength: 300 })), (text) => {
        try {
          assertEngineAccepts(protocolToExec(text, OPTS).spec);
        } catch (e) {
          assert.ok(isAppError(e, 'VALIDATION_FAILED'), `${JSON.stringify(text).slice(0, 300)}: ${String(e)}`);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
