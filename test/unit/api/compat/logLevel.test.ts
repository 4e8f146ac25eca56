/** Alluxio's logLevel routes change the serving process's level live, for every logger derived from the root. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../../../engine/index.ts';
import { createLogger, levelControl } from '../../../../engine/log.ts';
import { buildFacadeListener } from '../../../../api/compat/facadeListeners.ts';
import { alluxioFacade } from '../../../../api/compat/alluxio/index.ts';
import { createApi } from '../harness.ts';

describe('levelControl', () => {
  it('sets the root and every logger derived from it, before or after the change', () => {
    const root = createLogger({ level: 'info' });
    const child = root.child({ role: 'api' });
    const grandchild = child.child({ req: 1 });
    const levels = levelControl(root);
    levels.set('debug');
    assert.deepEqual([root.level, child.level, grandchild.level, root.child({}).level], ['debug', 'debug', 'debug', 'debug']);
    assert.throws(() => levels.set('loud'), /unknown log level/);
    assert.equal(levels.get(), 'debug');
  });

  it('after seal(), new loggers are not remembered but take their parent\'s level when made', () => {
    const root = createLogger({ level: 'info' });
    const early = root.child({ role: 'api' });
    const levels = levelControl(root);
    levels.seal();
    const perRequest = early.child({ reqId: 1 });
    levels.set('warn');
    assert.deepEqual([root.level, early.level, perRequest.level, early.child({ reqId: 2 }).level], ['warn', 'warn', 'info', 'warn']);
  });
});

describe('POST /api/v1/job_master/logLevel and /api/v1/job_worker/logLevel', () => {
  const api = createApi();
  after(() => api.app.close());
  const root = createLogger({ level: 'silent' });
  const child = root.child({ role: 'coordinator' });
  const levels = levelControl(root);
  // an admin facade user may change the level; the default facade user (an operator) only reads it
  const adminConfig = resolveConfig({ alluxioRole: 'admin' });
  const facade = alluxioFacade(adminConfig);
  const settings = { ...adminConfig, host: '127.0.0.1', bodyLimitBytes: 1 << 20 };
  const master = buildFacadeListener(facade, 0, { service: api.service, identity: api.identity, levels }, settings, false);
  const worker = buildFacadeListener(facade, 1, { service: api.service, identity: api.identity, levels }, settings, false);
  const operatorConfig = resolveConfig({});
  const asOperator = buildFacadeListener(alluxioFacade(operatorConfig), 0, { service: api.service, identity: api.identity, levels }, { ...operatorConfig, host: '127.0.0.1', bodyLimitBytes: 1 << 20 }, false);
  after(() => Promise.all([master.close(), worker.close(), asOperator.close()]));

  it('answers LogInfo; with a level, changes the live level of the whole process', async () => {
    const read = await master.inject({ method: 'POST', url: '/api/v1/job_master/logLevel?logName=alluxio.master.job.JobMaster' });
    assert.equal(read.statusCode, 200, read.body);
    assert.deepEqual(read.json(), { logName: 'alluxio.master.job.JobMaster', level: 'OFF', message: null });
    const set = await worker.inject({ method: 'POST', url: '/api/v1/job_worker/logLevel?logName=alluxio.worker&level=debug' });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal(set.json<{ level: string }>().level, 'DEBUG');
    assert.match(set.json<{ message: string }>().message, /^Setting Level to DEBUG/);
    assert.equal(child.level, 'debug', 'an existing child logger follows');
    levels.set('silent');
  });

  it('a blank logName gets the original\'s message; a bad level is INVALID_ARGUMENT and changes nothing', async () => {
    const blank = await master.inject({ method: 'POST', url: '/api/v1/job_master/logLevel' });
    assert.equal(blank.statusCode, 200);
    assert.equal(blank.json<{ message: string }>().message, 'Please specify a correct logName.');
    const bad = await master.inject({ method: 'POST', url: '/api/v1/job_master/logLevel?logName=x&level=LOUD' });
    assert.equal(bad.statusCode, 500);
    assert.deepEqual(bad.json(), { status: 'INVALID_ARGUMENT', message: 'Bad level : LOUD' });
    assert.equal(root.level, 'silent');
    assert.equal((await master.inject({ method: 'POST', url: '/api/v1/job_worker/logLevel?logName=x' })).statusCode, 404, 'each port serves its own component');
  });

  it('an operator reads the level but may not change it (PERMISSION_DENIED, level unchanged)', async () => {
    const read = await asOperator.inject({ method: 'POST', url: '/api/v1/job_master/logLevel?logName=x' });
    assert.deepEqual([read.statusCode, read.json<{ level: string }>().level], [200, 'OFF']);
    for (const level of ['OFF', 'ALL', 'DEBUG']) {
      const set = await asOperator.inject({ method: 'POST', url: `/api/v1/job_master/logLevel?logName=x&level=${level}` });
      assert.equal(set.statusCode, 500, set.body);
      assert.equal(set.json<{ status: string }>().status, 'PERMISSION_DENIED');
    }
    assert.equal(root.level, 'silent');
  });
});
