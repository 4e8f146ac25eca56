import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { isAppError, type AppError } from '../../../../../engine/errors.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../../../../../engine/jobtypes/registry.ts';
import { normalizeTerasliceSpec, type TerasliceSpec } from '../../../../../engine/jobtypes/teraslice/spec.ts';
import { makeRoots, type TempRoots } from '../fileJobs.fixture.ts';

const DOCS_EXAMPLE = { name: 'testing', workers: 1, slicers: 1, lifecycle: 'once', assets: ['standard'], operations: [{ _op: 'data_generator', size: 10000 }, { _op: 'noop' }] };
const gen = (more: Record<string, unknown> = {}) => ({ operations: [{ _op: 'data_generator', ...more }, { _op: 'noop' }] });

function refused(raw: unknown, message: RegExp, code = 'VALIDATION_FAILED'): void {
  assert.throws(() => normalizeTerasliceSpec(raw), (e: AppError) => isAppError(e) && e.code === code && message.test(e.message), JSON.stringify(raw).slice(0, 200));
}

describe('normalizeTerasliceSpec', () => {
  it('fills in every Teraslice default', () => {
    const { spec, warnings } = normalizeTerasliceSpec(gen());
    assert.deepEqual(warnings, []);
    assert.deepEqual(spec, {
      name: 'Custom Job', lifecycle: 'once', workers: 5, slicers: 1, max_retries: 3, probation_window: 300000,
      analytics: true, active: true, autorecover: false, assets: null, stateful: false, labels: null, env_vars: {}, log_level: null, apis: [],
      operations: [
        { _op: 'data_generator', _encoding: 'json', _dead_letter_action: 'throw', size: 5000, json_schema: null, start: null, end: null, format: null, stress_test: false, delay: 0, date_key: 'created', set_id: null, id_start_key: null },
        { _op: 'noop', _encoding: 'json', _dead_letter_action: 'throw' },
      ],
    });
  });

  it('keeps given values, folds durations into ms, keeps _api_name, records slicers and assets', () => {
    const { spec } = normalizeTerasliceSpec({
      ...DOCS_EXAMPLE, slicers: 4, probation_window: '5 minutes', assets: ['standard', 'file', 'teraslice'], env_vars: { A: 'b' }, labels: { team: 'x' }, log_level: 'debug',
      apis: [{ _name: 'file_sender_api', path: '/out/dir', format: 'json' }],
      operations: [{ _op: 'data_generator', size: 10 }, { _op: 'delay', ms: '2s' }, { _op: 'file_exporter', _api_name: 'file_sender_api' }],
    });
    assert.equal(spec.slicers, 4);
    assert.equal(spec.probation_window, 300000);
    assert.deepEqual(spec.assets, ['standard', 'file', 'teraslice']);
    assert.deepEqual(spec.apis, [{ _name: 'file_sender_api' }]);
    assert.deepEqual(spec.operations[1], { _op: 'delay', _encoding: 'json', _dead_letter_action: 'throw', ms: 2000 });
    const exp = spec.operations[2] as Record<string, unknown>;
    assert.deepEqual([exp.path, exp.format, exp._api_name, exp.size], ['out/dir', 'json', 'file_sender_api', null]);
  });

  it("takes data_generator's older date_field_name as date_key (date_key wins when both are given)", () => {
    const ops = (op: Record<string, unknown>) => normalizeTerasliceSpec({ operations: [{ _op: 'data_generator', ...op }, { _op: 'noop' }] });
    const a = ops({ date_field_name: 'ts' });
    assert.equal((a.spec.operations[0] as { date_key: string }).date_key, 'ts');
    assert.deepEqual(a.warnings, []);
    const b = ops({ date_field_name: 'ts', date_key: 'when' });
    assert.equal((b.spec.operations[0] as { date_key: string }).date_key, 'when');
    assert.equal(b.warnings.length, 1, 'the unused date_field_name is dropped with a warning');
  });

  it('drops undeclared keys, with a warning for each', () => {
    const { spec, warnings } = normalizeTerasliceSpec({ ...gen({ index: 'x' }), cpu: 2, targets: [] });
    assert.equal('cpu' in spec, false);
    assert.equal('index' in spec.operations[0]!, false);
    assert.deepEqual(warnings.sort(), [
      'job: undeclared key "cpu" was dropped',
      'job: undeclared key "targets" was dropped',
      'operation data_generator (operations[0]): undeclared key "index" was dropped',
    ]);
  });

  it("refuses bad job fields with Teraslice's messages", () => {
    refused({ ...gen(), workers: 0 }, /^Validation failed for job config: Custom Job - workers: must be valid integer greater than zero: value was 0$/);
    refused({ ...gen(), slicers: -1 }, /slicers: must be valid integer greater than zero/);
    refused({ ...gen(), workers: 10_001 }, /workers: must be at most 10000/);
    refused({ ...gen(), lifecycle: 'invalid' }, /lifecycle: must be one of the following: once,persistent/);
    refused({ ...gen(), name: 5 }, /name: This field is required and must be of type string/);
    refused({ ...gen(), assets: 'standard' }, /assets need to be of type array/);
    refused({ ...gen(), assets: [1] }, /assets needs to be an array of strings/);
    refused({ ...gen(), env_vars: { A: '' } }, /value for key "A" must be not empty/);
    refused({ ...gen(), log_level: 'loud' }, /must be one of the following: trace,debug,info,warn,error,fatal/);
    refused({ ...gen(), apis: [{}] }, /API requires an _name/);
    refused({ ...gen(), apis: [{ _name: 'a' }, { _name: 'a' }] }, /Duplicate API configurations for a found/);
    refused({ ...gen(), max_retries: 100 }, /max_retries: must be at most 99/);
    refused('x', /must be a JSON object/);
  });

  it('refuses operation lists Teraslice refuses, and operations we do not run', () => {
    const supported = /supported: data_generator, file_reader, noop, delay, stdout, file_exporter$/;
    refused({ operations: [{ _op: 'data_generator' }] }, /Operations need to be of type array with at least two operations in it/);
    refused({ operations: 'x' }, /Operations need to be of type array with at least two operations in it/);
    refused({ operations: [{ _op: 'data_generator' }, 5] }, /Invalid Operation config in operations, got number/);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'kafka_sender' }] }, /^Unable to find module for operation: kafka_sender; /);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'kafka_sender' }] }, supported);
    refused({ operations: [{ _op: 'elasticsearch_reader' }, { _op: 'noop' }] }, /Unable to find module for operation: elasticsearch_reader \(Elasticsearch operations are not supported here\)/);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'elasticsearch_bulk' }] }, /Elasticsearch operations are not supported here/);
    refused({ operations: [{ _op: 'id_reader' }, { _op: 'noop' }] }, /Elasticsearch/);
    refused({ operations: [{ _op: 'noop' }, { _op: 'data_generator' }] }, /the first operation must be a reader \(data_generator, file_reader\), got noop/);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'file_reader', path: 'x' }] }, /file_reader is a reader and can only be the first operation/);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'file_exporter', path: 'o' }, { _op: 'noop' }] }, /file_exporter must be the last operation here/);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'noop', _api_name: 'nope' }] }, /refers to api "nope" which is not in apis/);
  });

  it('refuses bad operation configs', () => {
    refused(gen({ size: 0 }), /^Validation failed for operation config: data_generator - size: must be valid integer greater than zero/);
    refused(gen({ size: 1e12 + 1 }), /size: must be at most 1000000000000/);
    refused(gen({ id_start_key: 'a' }), /id_start_key must be used with set_id parameter/);
    refused(gen({ start: '2024-02-01', end: '2024-01-01' }), /Invalid start and end times, start must be before end/);
    refused(gen({ json_schema: 'x.json' }), /json_schema\) are not supported here/);
    refused(gen({ set_id: 'base32' }), /set_id: must be one of the following/);
    refused({ operations: [{ _op: 'file_reader', path: 'in', format: 'csv' }, { _op: 'noop' }] }, /format csv is not supported here/);
    refused({ operations: [{ _op: 'file_reader', path: 'in', compression: 'lz4' }, { _op: 'noop' }] }, /compression lz4 is not supported here/);
    refused({ operations: [{ _op: 'file_reader' }, { _op: 'noop' }] }, /file_reader - path: This field is required/);
    refused({ operations: [{ _op: 'file_reader', path: 'in', line_delimiter: 'aa' }, { _op: 'noop' }] }, /must not overlap itself/);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'noop', _dead_letter_action: 'kafka_dead_letter' }] }, /_dead_letter_action: must be one of the following: throw,log,none/);
  });

  it('bounds sizes: a slice holds at most 1,000,000 records', () => {
    refused(gen({ size: 2_000_000 }), /a data_generator slice would hold 2000000 records, more than 1000000/);
    refused({ lifecycle: 'persistent', ...gen({ size: 5_000_000 }) }, /more than 1000000/);
    const ok = normalizeTerasliceSpec({ operations: [{ _op: 'data_generator', size: 1e12 }, { _op: 'file_exporter', path: 'o', size: 1_000_000 }] });
    assert.equal((ok.spec.operations[0] as { size: number }).size, 1e12);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'file_exporter', path: 'o', size: 1_000_001 }] }, /size: must be at most 1000000/);
  });

  it('file_reader runs in once jobs only', () => {
    refused({ lifecycle: 'persistent', operations: [{ _op: 'file_reader', path: 'in' }, { _op: 'noop' }] }, /file_reader runs in once jobs only/);
  });

  it('takes absolute paths inside the files root and refuses ..', () => {
    const { spec } = normalizeTerasliceSpec({ operations: [{ _op: 'file_reader', path: '/data/in/' }, { _op: 'file_exporter', path: '//out/./x' }] });
    assert.deepEqual(spec.operations.map((o) => (o as { path?: string }).path), ['data/in', 'out/x']);
    refused({ operations: [{ _op: 'file_reader', path: '/data/../../etc' }, { _op: 'noop' }] }, /path: must stay inside the files root/);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'file_exporter', path: 'a\u0000b' }] }, /control characters/);
    refused({ operations: [{ _op: 'data_generator' }, { _op: 'file_exporter', path: 'a\\b' }] }, /backslash/);
  });

  it('checks recovery slices as the reader\'s payloads', () => {
    const { spec } = normalizeTerasliceSpec({ ...gen(), recovery: { slices: [{ payload: { count: 5, processed: 5 } }], resume: true, cursor: { slices: 1, processed: 5 } } });
    assert.deepEqual(spec.recovery, { slices: [{ payload: { count: 5, processed: 5 } }], resume: true, cursor: { slices: 1, processed: 5 } });
    refused({ ...gen(), recovery: { slices: [{ payload: { path: 'a', offset: 0, length: 1, total: 1 } }], resume: false } }, /slices\[0\]\.payload: a data_generator slice has an unknown key/);
    refused({ ...gen(), recovery: { slices: [], resume: 'yes' } }, /resume: must be of type Boolean/);
    refused({ ...gen(), recovery: { slices: Array.from({ length: 100_001 }, () => ({ payload: { count: 1, processed: 1 } })), resume: false } }, /at most 100000/);
  });
});

describe('the teraslice spec schema (native submissions)', () => {
  const registry = createJobTypeRegistry(builtinJobTypes());
  let r: TempRoots;
  before(async () => {
    r = await makeRoots();
  });
  after(() => r.cleanup());

  it('accepts what normalizeTerasliceSpec produces, for every operation', () => {
    const specs = [
      normalizeTerasliceSpec(DOCS_EXAMPLE).spec,
      normalizeTerasliceSpec({ lifecycle: 'persistent', apis: [{ _name: 'a' }], operations: [{ _op: 'data_generator', set_id: 'base64url', id_start_key: 'a', format: 'utcBetween', start: '2024-01-01', end: '2024-02-01' }, { _op: 'delay' }, { _op: 'stdout', limit: 3, _api_name: 'a' }, { _op: 'file_exporter', path: 'out', compression: 'gzip', format: 'raw' }] }).spec,
      normalizeTerasliceSpec({ labels: { a: 'b' }, operations: [{ _op: 'file_reader', path: 'in', format: 'json' }, { _op: 'noop' }], recovery: { slices: [{ payload: { path: 'in/a', offset: 0, length: 3, total: 3 } }], resume: true, cursor: { slices: 1, at: { path: 'in/a', offset: 3, total: 3 } } } }).spec,
    ];
    for (const spec of specs) assert.equal(registry.validateSpec('teraslice', spec, r), spec);
  });

  it('refuses a raw (unnormalised) Teraslice spec and closes every level', () => {
    assert.throws(() => registry.validateSpec('teraslice', DOCS_EXAMPLE, r), (e: AppError) => isAppError(e, 'INVALID_SPEC'));
    const spec = normalizeTerasliceSpec(DOCS_EXAMPLE).spec;
    const withExtra = structuredClone(spec) as unknown as { operations: Record<string, unknown>[] };
    withExtra.operations[1]!.extra = 1;
    assert.throws(() => registry.validateSpec('teraslice', withExtra, r), (e: AppError) => isAppError(e, 'INVALID_SPEC'));
  });

  it('checkSpec re-runs the semantic checks and the symlink check of paths', () => {
    const spec = normalizeTerasliceSpec(DOCS_EXAMPLE).spec;
    const tooBig = structuredClone(spec) as TerasliceSpec;
    (tooBig.operations[0] as { size: number }).size = 5_000_000; // passes the schema, one slice of 5M records does not
    assert.throws(() => registry.validateSpec('teraslice', tooBig, r), (e: AppError) => isAppError(e, 'VALIDATION_FAILED') && /more than 1000000/.test(e.message));
    symlinkSync(r.outside, path.join(r.dataDir, 'escape'));
    const out = normalizeTerasliceSpec({ operations: [{ _op: 'data_generator' }, { _op: 'file_exporter', path: '/escape/x' }] }).spec;
    assert.throws(() => registry.validateSpec('teraslice', out, r), (e: AppError) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
  });
});
