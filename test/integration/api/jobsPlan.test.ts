/**
 * `POST /jobs:plan` (the dry run behind `jetjobs submit --dry-run`) over real HTTP against a whole
 * service on a real nats-server: the tasks a load of a tree would be planned into, the request as it
 * would be recorded, the errors POST /jobs answers, roles, and nothing written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SubmissionPlan } from '../../../engine/serviceTypes.ts';
import { http, useTestService } from '../../helpers/service.ts';
import { API, as, userToken, type ApiError } from '../journey/journeyKit.ts';

const PLAN = `${API}/jobs:plan`;

describe('POST /jobs:plan', () => {
  const env = useTestService();
  const base = () => env.svc.baseUrl;

  async function jobCount(): Promise<number> {
    const r = await http<{ jobs: unknown[] }>(base(), 'GET', `${API}/jobs?active=all&limit=1000`);
    return r.body.jobs.length;
  }

  it('answers the tasks a load would be planned into, with the recorded request, and writes nothing', async () => {
    const dir = join(env.svc.config.filesDir, 'plan');
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: 25 }, (_, i) => writeFile(join(dir, `f${i}.txt`), 'x'.repeat(10))));
    const before = await jobCount();

    const res = await http<SubmissionPlan>(base(), 'POST', PLAN, { type: 'load', spec: { path: 'plan', batchSize: 10 }, labels: { team: 'data' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.tasksTotal, res.body.itemsTotal, res.body.bytesTotal, res.body.truncated, res.body.planOpen], [3, 25, 250, false, false]);
    assert.deepEqual(res.body.tasks.map((t) => t.items), [10, 10, 5]);
    assert.deepEqual(res.body.tasks.map((t) => t.taskId), ['t00000', 't00001', 't00002']);
    assert.equal(res.body.request['name'], 'load');
    assert.equal(res.body.request['owner'], 'admin');
    assert.equal(res.body.request['virtualCluster'], 'default');
    assert.deepEqual(res.body.request['labels'], { team: 'data' });

    const exec = await http<SubmissionPlan>(base(), 'POST', PLAN, {
      type: 'exec', spec: { taskRoles: [{ name: 'ps', taskNumber: 1, commands: ['true'] }, { name: 'worker', taskNumber: 3, commands: ['true'] }] },
    });
    assert.equal(exec.status, 200, JSON.stringify(exec.body));
    assert.equal(exec.body.tasksTotal, 4);
    assert.equal(await jobCount(), before, 'a dry run writes no job');
  });

  it('refuses what POST /jobs refuses, with the same codes; a viewer may not plan', async () => {
    const bad = async (body: unknown, code: string, status = 400, headers: Record<string, string> = {}) => {
      const r = await http<ApiError>(base(), 'POST', PLAN, body, headers);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.code, code);
    };
    await bad({ type: 'nope', spec: {} }, 'UNKNOWN_JOB_TYPE');
    await bad({ type: 'load', spec: { path: '../etc' } }, 'PATH_OUTSIDE_ROOT');
    await bad({ type: 'load', spec: { path: 'plan', batchSize: 0 } }, 'INVALID_SPEC');
    await bad({ type: 'noop', spec: {}, extra: 1 }, 'VALIDATION_FAILED');
    await bad({ type: 'noop', spec: {}, virtualCluster: 'nowhere' }, 'VIRTUAL_CLUSTER_NOT_FOUND', 404);
    const viewer = await userToken(base(), 'planviewer', 'viewer');
    await bad({ type: 'noop', spec: {} }, 'FORBIDDEN', 403, as(viewer));
    const operator = await userToken(base(), 'planop', 'operator');
    const r = await http<SubmissionPlan>(base(), 'POST', PLAN, { type: 'noop', spec: { tasks: 7 } }, as(operator));
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.tasksTotal, r.body.request['owner']], [7, 'planop']);
  });
});
