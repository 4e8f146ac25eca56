/** Translations of the Alluxio EE coordinator facade: types, identity paths and keys, load bodies, progress JSON, error shape. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { AppError, type JobView } from '../../../../engine/index.ts';
import { eeNotFound, sendEeError } from '../../../../api/compat/alluxio/eeErrors.ts';
import { eeType, identityKey, identityPath, jobAlluxioPath, jobPath, nativeType } from '../../../../api/compat/alluxio/jobIdentity.ts';
import { eeState, loadSubmissions, MAX_PATHS, toLoadProgress } from '../../../../api/compat/alluxio/loadRequest.ts';

function job(over: Partial<JobView> = {}): JobView {
  return {
    id: '0b6a3c1e-1111-4222-8333-444455556666', submitSeq: 7, type: 'load', name: 'Load', state: 'RUNNING', priority: 0, owner: 'alluxio',
    spec: { path: 'data/x', verify: true }, epoch: 1, coordinatorId: 'c1', submittedAt: '2025-01-01T00:00:00.000Z',
    startedAt: '2025-01-01T00:00:01.000Z', finishedAt: null,
    progress: { tasksTotal: 2, tasksSucceeded: 1, tasksFailed: 0, itemsTotal: 10, itemsDone: 4, itemsFailed: 1, bytesTotal: 1000, bytesDone: 400 },
    error: null, summary: null, reclaims: 0, virtualCluster: 'default', active: true, stopRequested: null, rerunOf: null, callbackUrl: null, callbackFormat: 'job', labels: {}, parallelism: null, planOpen: false,
    recoveries: 0, retries: 0, compacted: false, origin: null, pauseRequested: false, ...over,
  };
}

describe('EE job types', () => {
  it('LOAD, FREE, COPY, MOVE ↔ load, free, copy, move; nothing else', () => {
    for (const [ee, native] of [['LOAD', 'load'], ['FREE', 'free'], ['COPY', 'copy'], ['MOVE', 'move']] as const) {
      assert.equal(nativeType(ee), native);
      assert.equal(eeType(native), ee);
    }
    for (const t of ['load', 'SLEEP', 'toString', '__proto__']) assert.equal(nativeType(t), undefined);
    assert.equal(eeType('sleep'), undefined);
  });
});

describe('(type, path) identity', () => {
  it('one identity path for every spelling of a path; / is the root', () => {
    for (const p of ['/a/b', '/a/b/', '//a//b', '/a/./b', 'alluxio://m:19998/a/b', 'alluxio:///a/b/']) assert.equal(identityPath('p', p), 'a/b', p);
    assert.equal(identityPath('p', '/'), '.');
    assert.equal(identityPath('p', 'alluxio://m:19998/'), '.');
    assert.equal(identityPath('p', '/a/../b'), 'b');
    assert.equal(identityPath('p', '/../x'), '../x', 'left for the engine to refuse');
    assert.throws(() => identityPath('p', 'a/b'), (e: unknown) => e instanceof AppError && e.code === 'VALIDATION_FAILED');
    assert.throws(() => identityPath('p', 3), (e: unknown) => e instanceof AppError && e.code === 'VALIDATION_FAILED');
  });

  it('a job is identified by path (load, free) or src (copy, move)', () => {
    assert.equal(jobPath({ type: 'load', spec: { path: 'a/b/' } }), 'a/b');
    assert.equal(jobPath({ type: 'free', spec: { path: '.' } }), '.');
    assert.equal(jobPath({ type: 'copy', spec: { src: 's', dst: 'd' } }), 's');
    assert.equal(jobPath({ type: 'move', spec: { src: 's/t', dst: 'd' } }), 's/t');
    assert.equal(jobPath({ type: 'sleep', spec: { tasks: 1 } }), '');
    assert.equal(jobAlluxioPath({ type: 'load', spec: { path: '.' } }), '/');
    assert.equal(jobAlluxioPath({ type: 'copy', spec: { src: 'x/y', dst: 'z' } }), '/x/y');
  });

  it('the idempotency key: the same for the same (type, path, previous job), different otherwise, short', () => {
    const k = identityKey('load', 'a/b', 0);
    assert.equal(identityKey('load', 'a/b', 0), k);
    assert.notEqual(identityKey('load', 'a/b', 12), k);
    assert.notEqual(identityKey('free', 'a/b', 0), k);
    assert.notEqual(identityKey('load', 'a/c', 0), k);
    assert.ok(identityKey('load', 'x'.repeat(4000), 99).length < 100);
    assert.match(k, /^[\x21-\x7e]+$/, 'visible ASCII, as the native API accepts keys');
  });
});

describe('loadSubmissions', () => {
  it('one load per distinct path, options to the spec, alias as the name', () => {
    const s = loadSubmissions({ paths: ['/a', '/b/', '/a/'], alias: 'nightly run', options: { batchSize: 10, verify: false, replicas: 2, skipIfExists: true, loadPolicy: 'x', loadMetadataOnly: false, fileFilterRegex: '' } });
    assert.deepEqual(s, [
      { path: 'a', request: { type: 'load', name: 'nightly run', spec: { path: 'a', batchSize: 10, verify: false } } },
      { path: 'b', request: { type: 'load', name: 'nightly run', spec: { path: 'b', batchSize: 10, verify: false } } },
    ]);
    assert.deepEqual(loadSubmissions({ paths: ['/'] }), [{ path: '.', request: { type: 'load', name: 'Load', spec: { path: '.' } } }]);
    assert.deepEqual(loadSubmissions({ paths: ['/a'], options: null, alias: null })[0]!.request.name, 'Load');
  });

  it('refuses what is missing, malformed or not supported (VALIDATION_FAILED: 400)', () => {
    const bad: unknown[] = [
      undefined, null, [], 'x', {}, { paths: [] }, { paths: '/a' }, { paths: ['a'] }, { paths: [''] }, { paths: [1] },
      { paths: Array.from({ length: MAX_PATHS + 1 }, (_, i) => `/p${i}`) }, { index: '/idx' }, { paths: ['/a'], index: '/idx' },
      { paths: ['/a'], alias: '' }, { paths: ['/a'], alias: 'bad\nalias' }, { paths: ['/a'], alias: 5 }, { paths: ['/a'], options: [] },
      { paths: ['/a'], options: { batchSize: 1.5 } }, { paths: ['/a'], options: { verify: 'yes' } }, { paths: ['/a'], options: { replicas: 'two' } },
      { paths: ['/a'], options: { loadMetadataOnly: true } }, { paths: ['/a'], options: { fileFilterRegex: '.*\\.csv' } },
    ];
    for (const body of bad) assert.throws(() => loadSubmissions(body), (e: unknown) => e instanceof AppError && e.code === 'VALIDATION_FAILED', JSON.stringify(body));
  });

  it('refuses a path the engine would refuse by name before any is submitted (PATH_OUTSIDE_ROOT: 400), so a refused request writes no job', () => {
    // found by the route fuzz: the first paths were submitted, then the engine refused a later one
    for (const later of ['/../x', '/a/../../x', 'alluxio://m/../etc', '/a\u0000b', '/a\nb', '/a\\b']) {
      assert.throws(() => loadSubmissions({ paths: ['/data/d1', later] }), (e: unknown) => e instanceof AppError && e.code === 'PATH_OUTSIDE_ROOT' && e.status === 400, later);
    }
    assert.deepEqual(loadSubmissions({ paths: ['/data/d1', '/a/../b', '/%2e%2e/x'] }).map((s) => s.path), ['data/d1', 'b', '%2e%2e/x']);
  });
});

describe('EE progress JSON', () => {
  it('states: ours, PAUSED as RUNNING with runningState PAUSED', () => {
    for (const s of ['WAITING', 'RUNNING', 'VERIFYING', 'SUCCEEDED', 'FAILED', 'STOPPED'] as const) assert.deepEqual(eeState(s), { state: s, runningState: null });
    assert.deepEqual(eeState('PAUSED'), { state: 'RUNNING', runningState: 'PAUSED' });
  });

  it('from the job view: counters, paths, elapsed; null or 0 for what we cannot know', () => {
    const p = toLoadProgress(job(), Date.parse('2025-01-01T00:00:03.500Z'));
    assert.deepEqual(p, {
      id: '0b6a3c1e-1111-4222-8333-444455556666', startTime: Date.parse('2025-01-01T00:00:01.000Z'), state: 'RUNNING', runningState: null,
      errorMessage: null, failedFileListPath: null, paths: ['/data/x'], index: null, skipIfExists: false, loadMetadataOnly: false, verify: true,
      bandwidth: null, timeElapsedMilliseconds: 2500, loadedBytes: 400, skippedBytes: 0, totalBytes: 1000, loadedNonEmptyFiles: 4, failedFiles: 1,
      scannedFiles: 10, quota: { totalBytes: null, remaining: null }, quotaCheckError: null,
    });
    const waiting = toLoadProgress(job({ state: 'WAITING', startedAt: null, spec: { path: '.', verify: false } }), 0);
    assert.deepEqual([waiting.startTime, waiting.timeElapsedMilliseconds, waiting.paths, waiting.verify], [Date.parse('2025-01-01T00:00:00.000Z'), 0, ['/'], false]);
    const failed = toLoadProgress(job({ state: 'FAILED', finishedAt: '2025-01-01T00:00:02.000Z', error: { code: 'ITEMS_FAILED', message: 'too many failed' } as JobView['error'] }), 9e12);
    assert.deepEqual([failed.state, failed.errorMessage, failed.timeElapsedMilliseconds], ['FAILED', 'too many failed', 1000]);
  });
});

describe('EE error shape', () => {
  it('{status: <message>} with the error\'s HTTP status; internals hidden; retry-after when retryable', async () => {
    const app = Fastify();
    const errors: Record<string, AppError> = {
      nf: new AppError('JOB_NOT_FOUND', 'No job found for id x'),
      bad: new AppError('VALIDATION_FAILED', 'paths is required'),
      conflict: new AppError('INVALID_TRANSITION', 'already RUNNING'),
      internal: new AppError('INTERNAL', 'secret at /var/lib/x'),
      busy: new AppError('UNAVAILABLE', 'nats down'),
    };
    app.get('/e/:k', (request, reply) => sendEeError(request, reply, errors[(request.params as { k: string }).k]!));
    app.setNotFoundHandler((request, reply) => eeNotFound(request, reply));
    const answers = [];
    for (const k of [...Object.keys(errors), '../nope']) {
      const r = await app.inject({ method: 'GET', url: k === '../nope' ? '/nope' : `/e/${k}` });
      answers.push([r.statusCode, r.json(), r.headers['retry-after'] ?? null]);
    }
    assert.deepEqual(answers, [
      [404, { status: 'No job found for id x' }, null],
      [400, { status: 'paths is required' }, null],
      [409, { status: 'already RUNNING' }, null],
      [500, { status: 'Internal error.' }, null],
      [503, { status: 'The event store (NATS) is unavailable.' }, '1'],
      [404, { status: 'No resource GET /nope' }, null],
    ]);
    await app.close();
  });
});
