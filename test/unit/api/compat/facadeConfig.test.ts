/** Which facades a configuration serves, and where (docs/compat.md): auth `none` stays on loopback unless allowed. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, resolveConfig } from '../../../../engine/index.ts';
import { enabledFacades, mountableFacades } from '../../../../api/compat/index.ts';
import { openpaiAnonymousReads } from '../../../../api/compat/openpai/index.ts';
import { alluxioStatus } from '../../../../api/compat/alluxio/errors.ts';
import { alluxioPath, nativePath, planName, submissionOf } from '../../../../api/compat/alluxio/jobConfig.ts';
import { STATE_MAP, nativeStates } from '../../../../api/compat/alluxio/jobInfo.ts';

describe('facade configuration', () => {
  it('serves the Alluxio facade by default, on 20002, 30003 and 19999, acting as operator "alluxio"; Teraslice on 5678 as operator "teraslice"; Spark Jobserver on 8090 as operator "spark"; OpenPAI on 9186 with our bearer tokens, anonymous allowed (its routes decide)', () => {
    const [f, t, s, o, ...rest] = enabledFacades(resolveConfig({}));
    assert.equal(rest.length, 0);
    assert.deepEqual([o!.name, o!.listeners.map((l) => [l.name, l.port]), o!.auth.mode, o!.auth.optional], ['openpai', [['rest server', 9186]], 'bearer', true]);
    assert.deepEqual([s!.name, s!.listeners.map((l) => [l.name, l.port]), s!.auth], ['spark', [['job server', 8090]], { mode: 'none', user: 'spark', role: 'operator' }]);
    assert.equal(f!.name, 'alluxio');
    assert.deepEqual([t!.name, t!.listeners.map((l) => [l.name, l.port]), t!.auth], ['teraslice', [['cluster master', 5678]], { mode: 'none', user: 'teraslice', role: 'operator' }]);
    assert.deepEqual(enabledFacades(resolveConfig({ terasliceFacade: false, sparkFacade: false, openpaiFacade: false })).map((x) => x.name), ['alluxio']);
    assert.deepEqual(f!.listeners.map((l) => [l.name, l.port]), [['job master', 20_002], ['job worker', 30_003], ['EE coordinator', 19_999]]);
    // the EE coordinator answers in EE's shape, the others in the facade's (OSS) shape
    assert.deepEqual(f!.listeners.map((l) => l.sendError !== undefined), [false, false, true]);
    assert.deepEqual(f!.auth, { mode: 'none', user: 'alluxio', role: 'operator' });
    assert.deepEqual(enabledFacades(resolveConfig({ alluxioFacade: false, terasliceFacade: false, sparkFacade: false, openpaiFacade: false })), []);
  });

  it('Spark Jobserver (uploads run code): auth auto is none on a loopback facade port and basic beyond it; explicit none beyond loopback is refused', () => {
    const spark = (c: Parameters<typeof resolveConfig>[0]) => enabledFacades(resolveConfig(c)).find((x) => x.name === 'spark')!;
    assert.equal(spark({}).auth.mode, 'none');
    assert.equal(spark({ facadeHost: '0.0.0.0', alluxioAuth: 'basic', terasliceAuth: 'basic' }).auth.mode, 'basic');
    assert.equal(spark({ sparkAuth: 'bearer' }).auth.mode, 'bearer');
    assert.throws(() => resolveConfig({ facadeHost: '0.0.0.0', alluxioAuth: 'basic', terasliceAuth: 'basic', sparkAuth: 'none' }), (e: unknown) => e instanceof ConfigError && /sparkAuth=none/.test(e.message));
  });

  it('refuses auth none on a facade port beyond loopback unless explicitly allowed', () => {
    assert.throws(() => resolveConfig({ facadeHost: '0.0.0.0' }), (e: unknown) => e instanceof ConfigError && /alluxioAuth=none/.test(e.message));
    assert.throws(() => resolveConfig({ facadeHost: '0.0.0.0', alluxioAuth: 'basic' }), (e: unknown) => e instanceof ConfigError && /terasliceAuth=none/.test(e.message));
    assert.doesNotThrow(() => resolveConfig({ facadeHost: '0.0.0.0', alluxioAuth: 'basic', terasliceAuth: 'bearer' }));
    assert.doesNotThrow(() => resolveConfig({ facadeHost: '0.0.0.0', facadeAllowUnauthenticated: true }));
    assert.doesNotThrow(() => resolveConfig({ facadeHost: '0.0.0.0', alluxioFacade: false, terasliceFacade: false }));
    assert.throws(() => resolveConfig({ alluxioAuth: 'token' as never }), /alluxioAuth must be one of none, basic, bearer/);
    assert.throws(() => resolveConfig({ alluxioUser: 'Not A Name' }), /facade users/);
  });

  it('does not mount an auth-none facade under /compat/ on an API port beyond loopback (warns instead)', () => {
    const warned: unknown[] = [];
    const logger = { warn: (o: unknown) => warned.push(o) };
    const open = resolveConfig({ host: '0.0.0.0' });
    assert.deepEqual(mountableFacades(enabledFacades(open), open, logger).map((f) => f.name), ['openpai'], 'OpenPAI always checks tokens');
    assert.equal(warned.length, 3, 'one warning per facade left out');
    const allowed = resolveConfig({ host: '0.0.0.0', facadeAllowUnauthenticated: true });
    assert.equal(mountableFacades(enabledFacades(allowed), allowed).length, 4);
    const basic = resolveConfig({ host: '0.0.0.0', alluxioAuth: 'basic', sparkAuth: 'none' });
    assert.deepEqual(mountableFacades(enabledFacades(basic), basic).map((f) => f.name), ['alluxio', 'openpai'], 'only those with credentials');
    const local = resolveConfig({});
    assert.equal(mountableFacades(enabledFacades(local), local).length, 4);
  });

  it('OpenPAI answers tokenless v1 reads (as the original did) only while both of its ports are on loopback, unless told', () => {
    assert.equal(openpaiAnonymousReads(resolveConfig({})), true);
    assert.equal(openpaiAnonymousReads(resolveConfig({ host: '0.0.0.0' })), false);
    assert.equal(openpaiAnonymousReads(resolveConfig({ facadeHost: '0.0.0.0', facadeAllowUnauthenticated: true })), false);
    assert.equal(openpaiAnonymousReads(resolveConfig({ openpaiAnonymousReads: 'false' })), false);
    assert.equal(openpaiAnonymousReads(resolveConfig({ host: '0.0.0.0', openpaiAnonymousReads: 'true' })), true);
  });
});

describe('Alluxio translations', () => {
  it('paths: Alluxio absolute ↔ relative to the files root', () => {
    assert.equal(nativePath('filePath', '/data/f'), 'data/f');
    assert.equal(nativePath('filePath', 'alluxio://master:19998/data/f'), 'data/f');
    assert.equal(nativePath('filePath', '/'), '.');
    assert.throws(() => nativePath('filePath', 'data/f'), /absolute/);
    assert.throws(() => nativePath('filePath', 7), /required/);
    assert.equal(alluxioPath('data/f'), '/data/f');
    assert.equal(alluxioPath('.'), '/');
  });

  it('@type in three spellings; migrate with deleteSource is a move; persist is a persist job', () => {
    for (const t of ['alluxio.job.plan.load.LoadConfig', 'alluxio.job.load.LoadConfig', 'Load']) {
      assert.deepEqual(submissionOf({ '@type': t, filePath: '/x', replication: 3, extra: true }).request, { type: 'load', name: 'Load', spec: { path: 'x' } });
    }
    assert.equal(submissionOf({ '@type': 'alluxio.job.plan.migrate.MigrateConfig', source: '/a', destination: '/b' }).request.type, 'copy');
    assert.equal(submissionOf({ '@type': 'alluxio.job.migrate.MigrateConfig', source: '/a', destination: '/b', deleteSource: true }).request.type, 'move');
    assert.equal(submissionOf({ '@type': 'Move', source: '/a', destination: '/b' }).request.type, 'move');
    // PersistConfig{filePath, mountId, overwrite, ufsPath}: overwrite kept when given; mountId and ufsPath ignored (one under storage)
    for (const t of ['alluxio.job.plan.persist.PersistConfig', 'alluxio.job.persist.PersistConfig', 'Persist']) {
      const persist = submissionOf({ '@type': t, filePath: '/a/f', mountId: 7, ufsPath: 'hdfs://nn/a/f' });
      assert.deepEqual(persist, { plan: 'Persist', request: { type: 'persist', name: 'Persist', spec: { path: 'a/f' } } });
    }
    assert.deepEqual(submissionOf({ '@type': 'Persist', filePath: '/a', overwrite: true }).request.spec, { path: 'a', overwrite: true });
    assert.throws(() => submissionOf({ '@type': 'Persist', filePath: '/a', overwrite: 'yes' }), /overwrite must be true or false/);
    assert.throws(() => submissionOf({ '@type': 'Persist', filePath: '/a', mountId: '1' }), /mountId must be a number/);
    assert.throws(() => submissionOf({ '@type': 'Persist', filePath: '/a', ufsPath: 3 }), /ufsPath must be a string/);
    assert.throws(() => submissionOf({ '@type': 'Persist', ufsPath: '/u' }), /filePath is required/);
    assert.equal(planName('persist'), 'Persist');
    assert.throws(() => submissionOf({ '@type': 'toString' }), /unknown job type/);
    assert.throws(() => submissionOf(null), /JobConfig/);
    assert.throws(() => submissionOf([{ '@type': 'Load' }]), /JobConfig/);
  });

  it('states: every native state has one Alluxio state, and a status filter names them back', () => {
    assert.deepEqual(STATE_MAP, { WAITING: 'CREATED', RUNNING: 'RUNNING', PAUSED: 'RUNNING', VERIFYING: 'RUNNING', SUCCEEDED: 'COMPLETED', FAILED: 'FAILED', STOPPED: 'CANCELED' });
    assert.deepEqual(nativeStates('RUNNING'), ['RUNNING', 'PAUSED', 'VERIFYING']);
    assert.equal(nativeStates('DONE'), undefined);
  });

  it('errors: our codes as Alluxio statuses', () => {
    assert.equal(alluxioStatus('JOB_NOT_FOUND'), 'NOT_FOUND');
    assert.equal(alluxioStatus('VALIDATION_FAILED'), 'INVALID_ARGUMENT');
    assert.equal(alluxioStatus('UNAVAILABLE'), 'UNAVAILABLE');
    assert.equal(alluxioStatus('INTERNAL'), 'INTERNAL');
  });
});
