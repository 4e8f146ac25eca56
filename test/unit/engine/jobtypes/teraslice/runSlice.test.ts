import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { TaskRunError } from '../../../../../engine/jobtypes/jobType.ts';
import { generatorChunks } from '../../../../../engine/jobtypes/teraslice/dataGenerator.ts';
import { runSlice } from '../../../../../engine/jobtypes/teraslice/runSlice.ts';
import { normalizeTerasliceSpec, type DataGeneratorConfig, type TerasliceSpec } from '../../../../../engine/jobtypes/teraslice/spec.ts';
import { makeRoots, runCtx, writeTree, type TempRoots } from '../fileJobs.fixture.ts';

const specOf = (raw: unknown): TerasliceSpec => normalizeTerasliceSpec(raw).spec;
const FIXED_DATES = { format: 'utcBetween', start: '2024-01-01T00:00:00Z', end: '2024-02-01T00:00:00Z' };

describe('running teraslice slices', () => {
  let r: TempRoots;
  before(async () => {
    r = await makeRoots();
  });
  after(() => r.cleanup());

  it('data_generator: the same slice makes the same records; Teraslice\'s record shape, date_key and set_id', () => {
    const op = specOf({ operations: [{ _op: 'data_generator', ...FIXED_DATES, date_key: 'when', set_id: 'hexadecimal', id_start_key: 'a' }, { _op: 'noop' }] }).operations[0] as DataGeneratorConfig;
    const slice = { count: 25_000, processed: 50_000 };
    const a = [...generatorChunks(op, slice, Date.now)];
    const b = [...generatorChunks(op, slice, () => 0)];
    assert.deepEqual(a.map((c) => c.length), [10_000, 10_000, 5_000], 'chunks of at most 10,000');
    assert.deepEqual(a, b);
    const other = [...generatorChunks(op, { count: 25_000, processed: 75_000 }, Date.now)];
    assert.notDeepEqual(other[0]![0], a[0]![0]);
    const rec = a[0]![0]!;
    assert.deepEqual(Object.keys(rec).sort(), ['bytes', 'id', 'ip', 'ipv6', 'location', 'url', 'userAgent', 'uuid', 'when']);
    assert.match(rec.id as string, /^a[0-9a-f]{31}$/);
    assert.match(rec.uuid as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(rec.ip as string, /^\d+\.\d+\.\d+\.\d+$/);
    const t = Date.parse(rec.when as string);
    assert.ok(t >= Date.parse(FIXED_DATES.start) && t < Date.parse(FIXED_DATES.end));
    const stress = specOf({ operations: [{ _op: 'data_generator', stress_test: true }, { _op: 'noop' }] }).operations[0] as DataGeneratorConfig;
    const [chunk] = [...generatorChunks(stress, { count: 3, processed: 3 }, Date.now)];
    assert.deepEqual(chunk![0], chunk![2]);
  });

  it('file_exporter: running a slice twice leaves one identical file (temp names cleaned up)', async () => {
    for (const [format, compression, ext] of [['ldjson', 'none', 'ldjson'], ['json', 'none', 'json'], ['raw', 'gzip', 'txt.gz']] as const) {
      const spec = specOf({ operations: [{ _op: 'data_generator', ...FIXED_DATES }, { _op: 'file_exporter', path: `/out/${format}`, format, compression }] });
      const payload = { count: 12_345, processed: 12_345 };
      const first = await runSlice(spec, payload, runCtx(r, { taskId: 's000000' }));
      const dir = path.join(r.dataDir, 'out', format);
      const bytes1 = await readFile(path.join(dir, `j1.s000000.${ext}`));
      const second = await runSlice(spec, payload, runCtx(r, { taskId: 's000000', attempt: 2 }));
      assert.deepEqual(await readdir(dir), [`j1.s000000.${ext}`]);
      assert.deepEqual(await readFile(path.join(dir, `j1.s000000.${ext}`)), bytes1);
      assert.deepEqual([first.itemsDone, second.itemsDone, first.itemsFailed], [12_345, 12_345, 0]);
      const text = compression === 'gzip' ? gunzipSync(bytes1).toString() : bytes1.toString();
      if (format === 'json') assert.equal((JSON.parse(text) as unknown[]).length, 12_345);
      else assert.equal(text.trimEnd().split('\n').length, 12_345);
    }
  });

  it('file_reader: formats, gzip, and a bad line fails the slice or is skipped as the dead letter action says', async () => {
    await writeTree(r.dataDir, {
      'in/good.ldjson': '{"a":1}\n\n{"a":2}\n',
      'in/bad.ldjson': '{"a":1}\n{oops\n[1]\n{"a":4}',
      'in/all.json': '[{"a":1},{"a":2},{"a":3}]',
      'in/raw.txt': 'one\ntwo\n',
    });
    await writeFile(path.join(r.dataDir, 'in/z.ldjson.gz'), gzipSync('{"z":1}\n{"z":2}\n'));
    const reader = (more: Record<string, unknown>) => specOf({ operations: [{ _op: 'file_reader', path: 'in', ...more }, { _op: 'noop' }] });
    const slice = (p: string, total: number) => ({ path: `in/${p}`, offset: 0, length: total, total });
    const good = await runSlice(reader({}), slice('good.ldjson', 17), runCtx(r));
    assert.deepEqual([good.itemsDone, good.bytesDone], [2, 17]);
    const raw = await runSlice(reader({ format: 'raw' }), slice('raw.txt', 8), runCtx(r));
    assert.equal(raw.itemsDone, 2);
    const json = await runSlice(reader({ format: 'json' }), slice('all.json', 25), runCtx(r));
    assert.equal(json.itemsDone, 3);
    const gz = await runSlice(reader({ compression: 'gzip' }), slice('z.ldjson.gz', 30), runCtx(r));
    assert.equal(gz.itemsDone, 2);
    await assert.rejects(runSlice(reader({}), slice('bad.ldjson', 37), runCtx(r)), (e: TaskRunError) =>
      e instanceof TaskRunError && e.code === 'BAD_RECORD' && !e.retryable && /in\/bad\.ldjson:2: invalid JSON/.test(e.message));
    const skipped = await runSlice(reader({ _dead_letter_action: 'log' }), slice('bad.ldjson', 37), runCtx(r));
    assert.deepEqual([skipped.itemsDone, skipped.itemsFailed, skipped.failures.map((f) => f.item)], [2, 2, ['in/bad.ldjson:2', 'in/bad.ldjson:3']]);
    await assert.rejects(runSlice(reader({}), slice('gone.ldjson', 3), runCtx(r)), (e: TaskRunError) => e instanceof TaskRunError && e.code === 'FILE_NOT_FOUND' && !e.retryable);
    await assert.rejects(runSlice(reader({}), { path: '../x', offset: 0, length: 1, total: 1 }, runCtx(r)), (e: TaskRunError) => e instanceof TaskRunError && e.code === 'BAD_PAYLOAD');
  });

  it('stdout prints prefixed lines, at most 1,000 per slice; delay and the generator honour the abort signal', async () => {
    const lines: string[] = [];
    const spec = specOf({ operations: [{ _op: 'data_generator' }, { _op: 'stdout' }] });
    await runSlice(spec, { count: 5000, processed: 5000 }, runCtx(r, { jobId: 'job', taskId: 's000001' }), { print: (t) => lines.push(...t.trimEnd().split('\n')) });
    assert.equal(lines.length, 1000);
    assert.ok(lines.every((l) => l.startsWith('[teraslice job s000001] {')));
    const limited: string[] = [];
    await runSlice(specOf({ operations: [{ _op: 'data_generator' }, { _op: 'stdout', limit: 3 }] }), { count: 50, processed: 50 }, runCtx(r), { print: (t) => limited.push(...t.trimEnd().split('\n')) });
    assert.equal(limited.length, 3);
    const ac = new AbortController();
    const slow = specOf({ operations: [{ _op: 'data_generator', delay: 60 }, { _op: 'noop' }] });
    const running = runSlice(slow, { count: 1, processed: 1 }, runCtx(r, { signal: ac.signal }));
    ac.abort();
    await assert.rejects(running, (e: TaskRunError) => e instanceof TaskRunError && e.code === 'ABORTED');
    const waits = specOf({ operations: [{ _op: 'data_generator' }, { _op: 'delay', ms: 60_000 }] });
    const ac2 = new AbortController();
    const waiting = runSlice(waits, { count: 1, processed: 1 }, runCtx(r, { signal: ac2.signal }));
    ac2.abort();
    await assert.rejects(waiting, (e: TaskRunError) => e instanceof TaskRunError && e.code === 'ABORTED');
  });
});
