/**
 * protocolSchema.ts: the protocol v2 schema of microsoft/pai `config/v2/protocol.js` with our
 * limits (plan §4.2 step 4), the null spellings of the completion fields (step 3), and the
 * original server's cross checks, each refusal a VALIDATION_FAILED naming the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isAppError } from '../../../../../engine/index.ts';
import { validateProtocol, type Protocol } from '../../../../../api/compat/openpai/protocolSchema.ts';

/** A small valid protocol, fresh each call. */
function base(): Record<string, unknown> & { taskRoles: Record<string, Record<string, unknown>> } {
  return {
    protocolVersion: 2,
    name: 'job_1',
    type: 'job',
    prerequisites: [{ name: 'img', type: 'dockerimage', uri: 'ubuntu:22.04' }],
    taskRoles: {
      worker: { instances: 2, dockerImage: 'img', resourcePerInstance: { cpu: 1, memoryMB: 512, gpu: 0 }, commands: ['echo hi'] },
    },
  };
}

/** Sets `value` at a dotted path of a fresh base() (undefined deletes). */
function withField(path: string, value: unknown): Record<string, unknown> {
  const p = base();
  const keys = path.split('.');
  let at: Record<string, unknown> = p;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return p;
}

function refused(value: unknown, message: RegExp, field?: string): void {
  let err: unknown;
  try {
    validateProtocol(value);
  } catch (e) {
    err = e;
  }
  assert.ok(isAppError(err, 'VALIDATION_FAILED'), `should be refused: ${JSON.stringify(value)?.slice(0, 200)}; got ${String(err)}`);
  assert.match(err.message, message);
  if (field !== undefined) assert.equal((err.details as { field: string }).field, field);
}

describe('validateProtocol: what the original accepted', () => {
  it('a minimal protocol passes unchanged', () => {
    const p = base();
    assert.equal(validateProtocol(p), p);
  });

  it("protocolVersion 2 or '2', version a string or a number, every prerequisite type", () => {
    const p = base();
    p.protocolVersion = '2';
    p.version = 1.5;
    p.contributor = 'me';
    p.description = 'd';
    p.prerequisites = [
      { name: 'img', type: 'dockerimage', uri: 'ubuntu', protocolVersion: 2, version: '1', auth: { username: 'u', password: '<% $secrets.pw %>', registryuri: 'r' } },
      { name: 's', type: 'script', uri: 'https://x/s.sh' },
      { name: 'o', type: 'output', uri: '/out' },
      { name: 'd', type: 'data', uri: ['/d1', '/d2'] },
    ];
    Object.assign(p.taskRoles.worker as object, { script: 's', output: 'o', data: 'd', taskRetryCount: 3, extraContainerOptions: { shmMB: 64, infiniband: true }, protocolVersion: '2' });
    p.parameters = { a: { b: [1, 2] } };
    p.secrets = { pw: 'x' };
    p.jobRetryCount = 2;
    p.deployments = [{ name: 'dep', protocolVersion: 2, taskRoles: { worker: { preCommands: ['pre'], postCommands: ['post'] } } }];
    p.defaults = { virtualCluster: 'vc1', deployment: 'dep', other: 1 };
    p.extras = { hivedScheduler: { anything: true } };
    assert.doesNotThrow(() => validateProtocol(p));
  });

  it('completion: integers >= 1, -1 and null; the null spellings of hand-written YAML read as null', () => {
    for (const v of [1, 2, -1, null]) assert.doesNotThrow(() => validateProtocol(withField('taskRoles.worker.completion', { minFailedInstances: v, minSucceededInstances: v })));
    for (const spelling of ['', '~', 'null', 'Null', 'NULL']) {
      const input = withField('taskRoles.worker.completion', { minFailedInstances: spelling, minSucceededInstances: spelling });
      const before = JSON.stringify(input);
      const out = validateProtocol(input) as Protocol;
      assert.deepEqual(out.taskRoles.worker?.completion, { minFailedInstances: null, minSucceededInstances: null });
      assert.equal(JSON.stringify(input), before, 'the input is not modified');
    }
  });
});

describe('validateProtocol: refusals name the field', () => {
  const cases: [name: string, value: unknown, message: RegExp, field: string][] = [
    ['not a mapping', [1], /^the protocol must be a mapping$/, 'protocol'],
    ['a missing name', withField('name', undefined), /^name is required$/, 'name'],
    ['a name with a dot (v1 only)', withField('name', 'a.b'), /^name "a\.b" is not allowed \(letters, digits, _ and -/, 'name'],
    ['a name of 129 characters', withField('name', 'a'.repeat(129)), /^name .* is not allowed/, 'name'],
    ['protocolVersion 3', withField('protocolVersion', 3), /^protocolVersion must be one of 2, "2"$/, 'protocolVersion'],
    ['type other than job', withField('type', 'service'), /^type must be one of "job"$/, 'type'],
    ['an unknown root field', withField('foo', 1), /^foo is not an allowed field$/, 'foo'],
    ['an unknown role field', withField('taskRoles.worker.cmd', 'x'), /^taskRoles\.worker\.cmd is not an allowed field$/, 'taskRoles.worker.cmd'],
    ['an unknown completion field', withField('taskRoles.worker.completion', { minFailedTaskCount: 1 }), /completion\.minFailedTaskCount is not an allowed field/, 'taskRoles.worker.completion.minFailedTaskCount'],
    ['an unknown resource field', withField('taskRoles.worker.resourcePerInstance.disk', 1), /resourcePerInstance\.disk is not an allowed field/, 'taskRoles.worker.resourcePerInstance.disk'],
    ['a missing gpu', withField('taskRoles.worker.resourcePerInstance.gpu', undefined), /^taskRoles\.worker\.resourcePerInstance\.gpu is required$/, 'taskRoles.worker.resourcePerInstance.gpu'],
    ['a missing dockerImage', withField('taskRoles.worker.dockerImage', undefined), /^taskRoles\.worker\.dockerImage is required$/, 'taskRoles.worker.dockerImage'],
    ['instances 0', withField('taskRoles.worker.instances', 0), /^taskRoles\.worker\.instances must be >= 1$/, 'taskRoles.worker.instances'],
    ['instances 10,001', withField('taskRoles.worker.instances', 10_001), /instances must be <= 10000/, 'taskRoles.worker.instances'],
    ['instances "3" (quoted)', withField('taskRoles.worker.instances', '3'), /^taskRoles\.worker\.instances must be an integer, not the string "3"$/, 'taskRoles.worker.instances'],
    ['instances 1.5', withField('taskRoles.worker.instances', 1.5), /instances must be an integer/, 'taskRoles.worker.instances'],
    ['no commands', withField('taskRoles.worker.commands', []), /commands must NOT have fewer than 1 items/, 'taskRoles.worker.commands'],
    ['101 commands', withField('taskRoles.worker.commands', Array(101).fill('x')), /more than 100 items/, 'taskRoles.worker.commands'],
    ['a command over 64 KiB', withField('taskRoles.worker.commands', ['x'.repeat(65_537)]), /commands\[0\] must NOT have more than 65536 characters/, 'taskRoles.worker.commands[0]'],
    ['a NUL in a command', withField('taskRoles.worker.commands', ['ok', 'a\0b']), /^taskRoles\.worker\.commands\[1\] holds a NUL byte$/, 'taskRoles.worker.commands[1]'],
    ['a number as a command', withField('taskRoles.worker.commands', [1]), /commands\[0\] must be a string/, 'taskRoles.worker.commands[0]'],
    ['taskRetryCount 11', withField('taskRoles.worker.taskRetryCount', 11), /taskRetryCount must be <= 10/, 'taskRoles.worker.taskRetryCount'],
    ['taskRetryCount -1', withField('taskRoles.worker.taskRetryCount', -1), /taskRetryCount must be >= 0/, 'taskRoles.worker.taskRetryCount'],
    ['jobRetryCount 11', withField('jobRetryCount', 11), /^jobRetryCount must be <= 10$/, 'jobRetryCount'],
    ['completion 0', withField('taskRoles.worker.completion', { minFailedInstances: 0 }), /minFailedInstances must be at least 1, -1 or null/, 'taskRoles.worker.completion.minFailedInstances'],
    ['completion -2', withField('taskRoles.worker.completion', { minSucceededInstances: -2 }), /minSucceededInstances must be >= -1/, 'taskRoles.worker.completion.minSucceededInstances'],
    ['completion "3"', withField('taskRoles.worker.completion', { minSucceededInstances: '3' }), /must be an integer or null, not the string "3"/, 'taskRoles.worker.completion.minSucceededInstances'],
    ['memoryMB 0', withField('taskRoles.worker.resourcePerInstance.memoryMB', 0), /memoryMB must be >= 1/, 'taskRoles.worker.resourcePerInstance.memoryMB'],
    ['a port label with a dot', withField('taskRoles.worker.resourcePerInstance.ports', { 'a.b': 1 }), /ports: the name "a\.b" is not allowed/, 'taskRoles.worker.resourcePerInstance.ports'],
    ['empty ports', withField('taskRoles.worker.resourcePerInstance.ports', {}), /ports must NOT have fewer than 1 properties/, 'taskRoles.worker.resourcePerInstance.ports'],
    ['a role name with a dot', withField('taskRoles', { 'a.b': base().taskRoles.worker }), /^taskRoles: the name "a\.b" is not allowed \(letters, digits and _, starting with a letter or _/, 'taskRoles'],
    ['a role name starting with a digit', withField('taskRoles', { '1a': base().taskRoles.worker }), /the name "1a" is not allowed/, 'taskRoles'],
    ['no roles', withField('taskRoles', {}), /taskRoles must NOT have fewer than 1 properties/, 'taskRoles'],
    ['33 roles', withField('taskRoles', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`r${i}`, base().taskRoles.worker]))), /taskRoles must NOT have more than 32 properties/, 'taskRoles'],
    ['10,001 instances in all', withField('taskRoles', { a: { ...base().taskRoles.worker, instances: 5000 }, b: { ...base().taskRoles.worker, instances: 5001 } }), /^taskRoles: 10001 instances in all; at most 10000$/, 'taskRoles'],
    ['a prerequisite of an unknown type', withField('prerequisites', [{ name: 'x', type: 'model', uri: 'u' }]), /^prerequisites\[0\]\.type must be one of "script", "output", "data", "dockerimage"$/, 'prerequisites[0]'],
    ['a prerequisite without a type', withField('prerequisites', [{ name: 'x', uri: 'u' }]), /^prerequisites\[0\]\.type is required$/, 'prerequisites[0].type'],
    ['a prerequisite with an unknown field', withField('prerequisites', [{ name: 'img', type: 'dockerimage', uri: 'u', tag: 1 }]), /^prerequisites\[0\]\.tag is not an allowed field$/, 'prerequisites[0].tag'],
    ['a data prerequisite with a string uri', withField('prerequisites', [{ name: 'img', type: 'dockerimage', uri: 'u' }, { name: 'd', type: 'data', uri: '/d' }]), /^prerequisites\[1\]\.uri must be an array/, 'prerequisites[1].uri'],
    ['an empty prerequisites list', withField('prerequisites', []), /prerequisites must NOT have fewer than 1 items/, 'prerequisites'],
    ['an unknown deployment field', withField('deployments', [{ name: 'd', taskRoles: { worker: { preCommands: ['x'] } }, extra: 1 }]), /^deployments\[0\]\.extra is not an allowed field$/, 'deployments[0].extra'],
    ['an unknown field in a deployment role', withField('deployments', [{ name: 'd', taskRoles: { worker: { commands: ['x'] } } }]), /deployments\[0\]\.taskRoles\.worker\.commands is not an allowed field/, 'deployments[0].taskRoles.worker.commands'],
    ['parameters not a mapping', withField('parameters', [1]), /^parameters must be a mapping$/, 'parameters'],
  ];
  for (const [name, value, message, field] of cases) it(name, () => refused(value, message, field));
});

describe("validateProtocol: the original server's cross checks", () => {
  it('a duplicate prerequisite of one type is refused; one name in two types is not', () => {
    refused(withField('prerequisites', [{ name: 'img', type: 'dockerimage', uri: 'a' }, { name: 'img', type: 'dockerimage', uri: 'b' }]), /^prerequisites\[1\]: Duplicate dockerimage prerequisites img\.$/, 'prerequisites[1].name');
    assert.doesNotThrow(() => validateProtocol(withField('prerequisites', [{ name: 'img', type: 'dockerimage', uri: 'a' }, { name: 'img', type: 'script', uri: 'b' }])));
  });

  it('references to prerequisites must exist in the right type', () => {
    refused(withField('taskRoles.worker.dockerImage', 'nope'), /^taskRoles\.worker\.dockerImage: Prerequisite nope does not exist\.$/, 'taskRoles.worker.dockerImage');
    const p = withField('taskRoles.worker.script', 'img'); // a dockerimage, not a script
    refused(p, /^taskRoles\.worker\.script: Prerequisite img does not exist\.$/, 'taskRoles.worker.script');
    refused(withField('taskRoles.worker.data', 'd'), /data: Prerequisite d does not exist/, 'taskRoles.worker.data');
  });

  it('deployments: no duplicates, the default must exist, their roles must exist', () => {
    const dep = (name: string, role = 'worker') => ({ name, taskRoles: { [role]: { preCommands: ['x'] } } });
    refused(withField('deployments', [dep('a'), dep('a')]), /^deployments\[1\]: Duplicate deployments a\.$/, 'deployments[1].name');
    refused(withField('defaults', { deployment: 'b' }), /^defaults\.deployment: Default deployment b does not exist\.$/, 'defaults.deployment');
    const p = withField('deployments', [dep('a')]);
    p.defaults = { deployment: 'b' };
    refused(p, /Default deployment b does not exist/);
    refused(withField('deployments', [dep('a', 'ps')]), /^deployments\[0\]\.taskRoles\.ps: there is no task role ps$/, 'deployments[0].taskRoles.ps');
    refused(withField('deployments', [{ name: 'a', taskRoles: { worker: { postCommands: ['a\0'] } } }]), /^deployments\[0\]\.taskRoles\.worker\.postCommands\[0\] holds a NUL byte$/);
  });
});

describe('validateProtocol: properties', () => {
  it('anything at all gives a protocol or VALIDATION_FAILED', () => {
    const leaf = fc.oneof(fc.anything(), fc.constantFrom('', '~', 'null', -1, 0, 1, 10_001, '3', 1.5, null));
    const mangle = fc.tuple(fc.constantFrom('', 'name', 'taskRoles', 'taskRoles.worker', 'taskRoles.worker.instances', 'taskRoles.worker.completion', 'taskRoles.worker.completion.minFailedInstances', 'taskRoles.worker.resourcePerInstance', 'taskRoles.worker.resourcePerInstance.ports', 'taskRoles.worker.commands', 'prerequisites', 'deployments', 'defaults', 'defaults.deployment', 'jobRetryCount', 'protocolVersion'), leaf)
      .map(([path, v]) => (path === '' ? v : withField(path, v)));
    fc.assert(
      fc.property(fc.oneof(fc.anything(), mangle), (value) => {
        try {
          validateProtocol(value);
        } catch (e) {
          assert.ok(isAppError(e, 'VALIDATION_FAILED'), String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
