/** teraslice jobs end to end through the in-memory engine (coordinator, worker, service). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { normalizeTerasliceSpec } from '../../../../../engine/jobtypes/teraslice/spec.ts';
import { SYSTEM_CALLER } from '../../../../../engine/serviceTypes.ts';
import { untilTerminal, withMemoryEngine } from '../../../../helpers/memoryEngine.ts';
import { waitFor } from '../../../../helpers/wait.ts';

const submit = (core: Parameters<Parameters<typeof withMemoryEngine>[1]>[0]['core'], raw: unknown, more: Record<string, unknown> = {}) => {
  const { spec } = normalizeTerasliceSpec(raw);
  return core.service.submit({ type: 'teraslice', spec, parallelism: spec.workers, maxTaskAttempts: spec.max_retries + 1, ...more }, { caller: SYSTEM_CALLER });
};

describe('teraslice jobs in the engine', () => {
  it('data_generator (2000) → noop → file_exporter (size 500) succeeds with 4 files of 2000 ldjson records in all', async () => {
    await withMemoryEngine({}, async ({ core, config }) => {
      const { job } = await submit(core, {
        name: 'testing', workers: 2, assets: ['standard', 'file'],
        operations: [{ _op: 'data_generator', size: 2000 }, { _op: 'noop' }, { _op: 'file_exporter', path: '/out', size: 500 }],
      });
      const done = await untilTerminal(core, job.id);
      assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done.error));
      const files = (await readdir(path.join(config.filesDir, 'out'))).sort();
      assert.deepEqual(files, ['s000000', 's000001', 's000002', 's000003'].map((t) => `${job.id}.${t}.ldjson`));
      let records = 0;
      for (const f of files) {
        const lines = (await readFile(path.join(config.filesDir, 'out', f), 'utf8')).trimEnd().split('\n');
        assert.equal(lines.length, 500);
        for (const l of lines) assert.equal(typeof (JSON.parse(l) as { uuid: unknown }).uuid, 'string');
        records += lines.length;
      }
      assert.equal(records, 2000);
      const history = await core.service.history(job.id, SYSTEM_CALLER);
      const succeeded = history.find((h) => h.type === 'JobSucceeded');
      assert.deepEqual((succeeded?.data as { summary?: unknown }).summary, { slices: 4, records: 2000 });
    });
  });

  it('a persistent generator slices on until stopped', async () => {
    await withMemoryEngine({}, async ({ core }) => {
      const { job } = await submit(core, { lifecycle: 'persistent', workers: 2, operations: [{ _op: 'data_generator', size: 50 }, { _op: 'noop' }] });
      await waitFor(async () => (await core.service.get(job.id, SYSTEM_CALLER)).progress.tasksSucceeded >= 100 || undefined, { what: '100 slices', timeoutMs: 20_000, intervalMs: 10 });
      const live = await core.service.get(job.id, SYSTEM_CALLER);
      assert.deepEqual([live.state, live.planOpen], ['RUNNING', true]);
      const stopped = await core.service.stop(job.id, { caller: SYSTEM_CALLER, force: true });
      assert.equal(stopped.state, 'STOPPED');
    });
  });

  it('a file_reader over an input with one bad JSON line fails that slice and the job', async () => {
    await withMemoryEngine({}, async ({ core, config }) => {
      await mkdir(path.join(config.filesDir, 'in'), { recursive: true });
      await writeFile(path.join(config.filesDir, 'in', 'a.ldjson'), '{"a":1}\n{"a":2}\n');
      await writeFile(path.join(config.filesDir, 'in', 'b.ldjson'), '{"b":1}\n{not json\n{"b":3}\n');
      const { job } = await submit(core, { workers: 1, max_retries: 1, operations: [{ _op: 'file_reader', path: '/in' }, { _op: 'file_exporter', path: 'copied' }] });
      const done = await untilTerminal(core, job.id);
      assert.equal(done.state, 'FAILED');
      const tasks = await core.service.tasks(job.id, SYSTEM_CALLER);
      assert.deepEqual(tasks.map((t) => [t.taskId, t.state]), [['s000000', 'succeeded'], ['s000001', 'failed']]);
      const failed = tasks[1]!;
      assert.equal(failed.error?.code, 'BAD_RECORD');
      assert.match(failed.error!.message, /in\/b\.ldjson:2: invalid JSON/);
      assert.equal(failed.attempts, 1, 'bad input is not retried');
      const copied = await readFile(path.join(config.filesDir, 'copied', `${job.id}.s000000.ldjson`), 'utf8');
      assert.equal(copied, '{"a":1}\n{"a":2}\n');
    });
  });
});
