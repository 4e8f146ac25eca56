import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError, type AppError } from '../../../../engine/errors.ts';
import type { JobType } from '../../../../engine/jobtypes/jobType.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../../../../engine/jobtypes/registry.ts';
import { noopJobType } from '../../../../engine/jobtypes/noop.ts';
import { makeRoots, writeTree, type TempRoots } from './fileJobs.fixture.ts';

describe('job type registry', () => {
  const registry = createJobTypeRegistry(builtinJobTypes());
  let r: TempRoots;
  before(async () => {
    r = await makeRoots();
    await writeTree(r.dataDir, { 'ds/a.txt': 'a' });
  });
  after(() => r.cleanup());

  const invalid = (name: string, spec: unknown, field: RegExp) =>
    assert.throws(
      () => registry.validateSpec(name, spec, r),
      (e: AppError) => isAppError(e, 'INVALID_SPEC') && field.test(e.message) && Array.isArray((e.details as { errors: unknown[] }).errors),
      `${name} ${JSON.stringify(spec)}`,
    );

  it('lists and finds the built-in types', () => {
    assert.deepEqual(registry.names(), ['copy', 'free', 'load', 'move', 'noop', 'persist', 'sleep', 'teraslice']);
    assert.equal(registry.get('noop'), noopJobType);
    assert.equal(registry.get('__proto__'), undefined);
  });

  it('returns a valid spec unchanged (no defaults filled in)', () => {
    const spec = { path: 'ds', batchSize: 10 };
    assert.equal(registry.validateSpec('load', spec, r), spec);
    assert.deepEqual(spec, { path: 'ds', batchSize: 10 });
    assert.deepEqual(registry.validateSpec('sleep', { ms: 0, output: [1, 'x', null] }, r), { ms: 0, output: [1, 'x', null] });
  });

  it('rejects unknown types, naming the known ones', () => {
    assert.throws(() => registry.validateSpec('lode', {}, r), (e: AppError) => isAppError(e, 'UNKNOWN_JOB_TYPE') && /copy, free, load, move, noop, persist, sleep, teraslice/.test(e.message));
  });

  it('rejects unknown and missing fields', () => {
    invalid('load', { path: 'ds', batchsize: 2 }, /^spec\.batchsize is not an allowed field$/);
    invalid('load', {}, /^spec\.path is required$/);
    invalid('noop', { tasks: 1, extra: true }, /spec\.extra/);
    invalid('load', null, /^spec must be object$/);
    invalid('load', [], /^spec must be object$/);
  });

  it('rejects wrong types without coercion', () => {
    invalid('load', { path: 'ds', batchSize: '2' }, /^spec\.batchSize must be integer$/);
    invalid('load', { path: 'ds', batchSize: 2.5 }, /spec\.batchSize/);
    invalid('load', { path: 'ds', verify: 'false' }, /spec\.verify/);
    invalid('sleep', { ms: '10' }, /spec\.ms/);
    invalid('copy', { src: 1, dst: 'x' }, /spec\.src/);
  });

  it('rejects out-of-range numbers', () => {
    invalid('load', { path: 'ds', batchSize: 0 }, /spec\.batchSize must be >= 1/);
    invalid('load', { path: 'ds', batchSize: 10_001 }, /spec\.batchSize/);
    invalid('load', { path: 'ds', partitionSizeBytes: 1024 * 1024 - 1 }, /spec\.partitionSizeBytes/);
    invalid('sleep', { ms: 3_600_001 }, /spec\.ms/);
    invalid('sleep', { ms: -1 }, /spec\.ms/);
    invalid('noop', { tasks: 100_001 }, /spec\.tasks/);
  });

  it('rejects long paths and control characters in paths', () => {
    invalid('load', { path: 'a'.repeat(4097) }, /spec\.path/);
    invalid('load', { path: 'a\u0000b' }, /^spec\.path contains characters that are not allowed$/);
    invalid('free', { path: 'x\ny' }, /spec\.path/);
  });

  it('rejects traversal paths through checkSpec', () => {
    const outside = (name: string, spec: unknown) =>
      assert.throws(() => registry.validateSpec(name, spec, r), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'), JSON.stringify(spec));
    outside('load', { path: '../../etc/passwd' });
    outside('load', { path: '/etc/passwd' });
    outside('load', { path: 'ds/../../x' });
    outside('free', { path: '../data/ds' });
    outside('copy', { src: 'ds', dst: '../cache/x' });
    outside('move', { src: '..\\ds', dst: 'x' });
    invalid('free', { path: '' }, /spec\.path/); // by the schema (minLength 1)
    const checked = (name: string, spec: unknown, field: RegExp) =>
      assert.throws(() => registry.validateSpec(name, spec, r), (e: AppError) => isAppError(e, 'INVALID_SPEC') && field.test(e.message));
    checked('free', { path: 'ds/..' }, /spec\.path/);
    checked('copy', { src: 'ds', dst: 'ds/inner' }, /spec\.dst/);
  });

  it('refuses duplicate names and open schemas when built', () => {
    assert.throws(() => createJobTypeRegistry([noopJobType, noopJobType]), /twice/);
    const open = { ...noopJobType, name: 'open', specSchema: { type: 'object', properties: {} } } as JobType;
    assert.throws(() => createJobTypeRegistry([open]), /additionalProperties/);
  });
});
