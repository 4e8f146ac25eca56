/**
 * Job labels: validated at submission, kept on the job (views, re-runs, compaction, a restart's
 * replay), and selected by in listings through the projection's label index.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../../engine/errors.ts';
import { MAX_LABELS, parseLabelSelector, validateLabels } from '../../../engine/jobservice/labels.ts';
import { SYSTEM_CALLER, type Caller } from '../../../engine/serviceTypes.ts';
import type { Roles } from '../../../engine/startRoles.ts';
import { untilTerminal, withMemoryEngine } from '../../helpers/memoryEngine.ts';
import { waitFor } from '../../helpers/wait.ts';

const ANN: Caller = { user: 'ann', role: 'operator', virtualClusters: [] };
const BOB: Caller = { user: 'bob', role: 'operator', virtualClusters: [] };
const invalid = (e: unknown) => isAppError(e, 'VALIDATION_FAILED');

async function ids(core: Roles, caller: Caller, labels: Record<string, string>): Promise<string[]> {
  return (await core.service.list({ limit: 1000, active: 'all', labels }, caller)).jobs.map((j) => j.id);
}

describe('validateLabels', () => {
  it('keeps valid labels with their keys sorted; refuses bad keys, values, types and too many', () => {
    assert.deepEqual(Object.entries(validateLabels({ z: '', 'a.b/c-d_e': 'X:y/z@1+2-3.4_5' })), [['a.b/c-d_e', 'X:y/z@1+2-3.4_5'], ['z', '']]);
    for (const bad of [null, [], 'a=b', { A: 'x' }, { '': 'x' }, { '-a': 'x' }, { a: 'x,y' }, { a: 'x=y' }, { a: 'with space' }, { a: 1 }, { a: 'x'.repeat(257) }, { ['k'.repeat(64)]: 'x' }]) {
      assert.throws(() => validateLabels(bad), invalid, JSON.stringify(bad));
    }
    const many = Object.fromEntries(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, 'v']));
    assert.throws(() => validateLabels(many), invalid);
  });

  it('parses k=v,k2=v2 selectors; an empty value is a value; malformed pairs are refused', () => {
    assert.deepEqual(parseLabelSelector('b=2,a=1,c='), { a: '1', b: '2', c: '' });
    assert.deepEqual(parseLabelSelector('a=1,a=1'), { a: '1' });
    for (const bad of ['', 'a', '=1', 'a=1,,b=2', 'a=1,a=2', 'a=b=c', 'A=1']) assert.throws(() => parseLabelSelector(bad), invalid, bad);
  });
});

describe('labels on jobs', () => {
  it('are shown on the job, selected by (every pair must match), only among jobs the caller sees, and kept by a re-run', async () => {
    await withMemoryEngine({}, async ({ core }) => {
      const submit = (caller: Caller, labels?: Record<string, string>) =>
        core.service.submit({ type: 'noop', spec: {}, ...(labels ? { labels } : {}) }, { caller }).then((r) => r.job);
      const a1 = await submit(ANN, { team: 'x', run: '1' });
      const a2 = await submit(ANN, { team: 'x', run: '2' });
      const b1 = await submit(BOB, { team: 'x', run: '1' });
      const plain = await submit(ANN);
      assert.deepEqual(a1.labels, { run: '1', team: 'x' });
      assert.deepEqual(plain.labels, {});
      assert.deepEqual(await ids(core, SYSTEM_CALLER, { team: 'x' }), [b1.id, a2.id, a1.id]);
      assert.deepEqual(await ids(core, SYSTEM_CALLER, { team: 'x', run: '1' }), [b1.id, a1.id]);
      assert.deepEqual(await ids(core, ANN, { team: 'x' }), [a2.id, a1.id], 'another owner\'s job is not listed');
      assert.deepEqual(await ids(core, ANN, { team: 'y' }), []);
      assert.deepEqual(await ids(core, ANN, { run: '1', team: 'x' }), [a1.id]);
      // paging through one label's jobs
      const page1 = await core.service.list({ limit: 1, active: 'all', labels: { team: 'x' } }, SYSTEM_CALLER);
      const page2 = await core.service.list({ limit: 5, active: 'all', labels: { team: 'x' }, cursor: page1.nextCursor! }, SYSTEM_CALLER);
      assert.deepEqual([...page1.jobs, ...page2.jobs].map((j) => j.id), [b1.id, a2.id, a1.id]);
      await untilTerminal(core, a1.id);
      const rerun = await core.service.rerun(a1.id, { caller: ANN });
      assert.deepEqual(rerun.labels, a1.labels);
      assert.deepEqual(await ids(core, ANN, { run: '1' }), [rerun.id, a1.id]);
      await assert.rejects(submit(ANN, { Bad: 'x' }), invalid);
    });
  });

  it('an idempotent retry must carry the same labels (they are part of the request)', async () => {
    await withMemoryEngine({}, async ({ core }) => {
      const req = { type: 'noop', spec: {}, labels: { a: '1' } };
      const first = await core.service.submit(req, { caller: ANN, idempotencyKey: 'k' });
      const again = await core.service.submit({ ...req, labels: { a: '1' } }, { caller: ANN, idempotencyKey: 'k' });
      assert.deepEqual([again.created, again.job.id], [false, first.job.id]);
      await assert.rejects(core.service.submit({ ...req, labels: { a: '2' } }, { caller: ANN, idempotencyKey: 'k' }), (e) => isAppError(e, 'IDEMPOTENCY_KEY_REUSED'));
    });
  });

  it('survive compaction and a restart\'s replay, and stay selectable', async () => {
    await withMemoryEngine({ compactAfterMs: 0 }, async (e) => {
      const job = (await e.core.service.submit({ type: 'noop', spec: { tasks: 2 }, labels: { owner: 'tera', ex: 'e1' } }, { caller: ANN })).job;
      await untilTerminal(e.core, job.id);
      await waitFor(async () => {
        await e.core.retention.runOnce();
        return (await e.core.service.get(job.id, ANN)).compacted || undefined;
      }, { what: 'compacted', intervalMs: 5 });
      const restarted = await e.restart({ roles: ['api'] });
      assert.deepEqual((await restarted.service.get(job.id, ANN)).labels, { ex: 'e1', owner: 'tera' });
      assert.deepEqual(await ids(restarted, ANN, { ex: 'e1' }), [job.id]);
    });
  });
});
