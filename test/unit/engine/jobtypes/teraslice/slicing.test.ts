import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import type { TaskPlan } from '../../../../../actors/events.ts';
import { isAppError, type AppError } from '../../../../../engine/errors.ts';
import type { FileRoots } from '../../../../../engine/jobtypes/jobType.ts';
import { terasliceJobType, unplannedWork } from '../../../../../engine/jobtypes/teraslice/index.ts';
import { runSlice } from '../../../../../engine/jobtypes/teraslice/runSlice.ts';
import { normalizeTerasliceSpec, type TerasliceSpec } from '../../../../../engine/jobtypes/teraslice/spec.ts';
import { makeRoots, planCtx, runCtx, writeTree, type TempRoots } from '../fileJobs.fixture.ts';

const specOf = (raw: unknown): TerasliceSpec => normalizeTerasliceSpec(raw).spec;
const extendCtx = (r: FileRoots, want: number) => ({ ...planCtx(r), planned: 0, want });

/** Runs the open plan to its end (or `max` slices), asking `want` at a time. */
async function allSlices(spec: TerasliceSpec, r: FileRoots, want = 7, max = 10_000): Promise<{ tasks: TaskPlan[]; open: boolean }> {
  let res = await terasliceJobType.openPlan!(spec, planCtx(r));
  const tasks = [...res.tasks];
  while (res.cursor !== undefined && tasks.length < max) {
    assert.deepEqual(JSON.parse(JSON.stringify(res.cursor)), res.cursor, 'the cursor is plain JSON');
    res = await terasliceJobType.extend!(spec, res.cursor, extendCtx(r, want));
    tasks.push(...res.tasks);
  }
  return { tasks, open: res.cursor !== undefined };
}

describe('teraslice slicing', () => {
  let r: TempRoots;
  before(async () => {
    r = await makeRoots();
  });
  after(() => r.cleanup());

  it('the docs example (size 10000, then noop) is exactly one slice of 10000', async () => {
    const spec = specOf({ name: 'testing', operations: [{ _op: 'data_generator', size: 10000 }, { _op: 'noop' }] });
    const plan = await terasliceJobType.openPlan!(spec, planCtx(r));
    assert.deepEqual(plan, { tasks: [{ taskId: 's000000', payload: { count: 10000, processed: 10000 }, items: 10000, bytes: 0 }] });
  });

  it('the last operation\'s size cuts the slices, with the remainder last', async () => {
    const two = await allSlices(specOf({ operations: [{ _op: 'data_generator', size: 10000 }, { _op: 'file_exporter', path: 'o', size: 5000 }] }), r);
    assert.deepEqual(two.tasks.map((t) => t.payload), [{ count: 5000, processed: 5000 }, { count: 5000, processed: 10000 }]);
    const rem = await allSlices(specOf({ operations: [{ _op: 'data_generator', size: 2500 }, { _op: 'file_exporter', path: 'o', size: 1000 }] }), r, 1);
    assert.deepEqual(rem.tasks.map((t) => t.payload), [{ count: 1000, processed: 1000 }, { count: 1000, processed: 2000 }, { count: 500, processed: 2500 }]);
    assert.deepEqual(rem.tasks.map((t) => t.taskId), ['s000000', 's000001', 's000002']);
    assert.equal(rem.open, false);
    const many = await allSlices(specOf({ operations: [{ _op: 'data_generator', size: 1000 }, { _op: 'file_exporter', path: 'o', size: 7 }] }), r, 10);
    assert.equal(many.tasks.length, 143);
    assert.equal(many.tasks.reduce((n, t) => n + t.items, 0), 1000);
    assert.equal(new Set(many.tasks.map((t) => t.taskId)).size, 143);
  });

  it('a persistent generator never closes its plan', async () => {
    const spec = specOf({ lifecycle: 'persistent', operations: [{ _op: 'data_generator', size: 1000 }, { _op: 'noop' }] });
    const { tasks, open } = await allSlices(spec, r, 50, 500);
    assert.ok(open);
    assert.ok(tasks.length >= 500);
    assert.deepEqual(tasks[499]!.payload, { count: 1000, processed: 500_000 });
    await assert.rejects(terasliceJobType.plan(spec, planCtx(r)), (e: AppError) => isAppError(e, 'INVALID_SPEC'));
  });

  it('recovery re-runs the given slices first, then resumes from the cursor only if asked', async () => {
    const base = { operations: [{ _op: 'data_generator', size: 10 }, { _op: 'file_exporter', path: 'o', size: 2 }] };
    const slices = [{ payload: { count: 2, processed: 4 } }, { payload: { count: 2, processed: 6 } }];
    const resumed = await allSlices(specOf({ ...base, recovery: { slices, resume: true, cursor: { slices: 3, processed: 6 } } }), r, 1);
    assert.deepEqual(resumed.tasks.map((t) => [t.taskId, t.payload]), [
      ['r000000', { count: 2, processed: 4 }], ['r000001', { count: 2, processed: 6 }],
      ['s000003', { count: 2, processed: 8 }], ['s000004', { count: 2, processed: 10 }],
    ]);
    const only = await allSlices(specOf({ ...base, recovery: { slices, resume: false, cursor: { slices: 3, processed: 6 } } }), r);
    assert.deepEqual(only.tasks.map((t) => t.taskId), ['r000000', 'r000001']);
    const done = await allSlices(specOf({ ...base, recovery: { slices, resume: true } }), r);
    assert.deepEqual(done.tasks.map((t) => t.taskId), ['r000000', 'r000001'], 'resume without a cursor: the slicer had finished');
    // stopped while re-running: what is left to plan
    const spec = specOf({ ...base, recovery: { slices, resume: true, cursor: { slices: 3, processed: 6 } } });
    assert.deepEqual(unplannedWork(spec, { rerun: 1 }), { slices: [slices[1]], cursor: { slices: 3, processed: 6 } });
  });

  describe('file_reader', () => {
    afterEach(async () => {
      await r.cleanup();
      r = await makeRoots();
    });

    it('walks files (hidden names skipped, symlinks only inside the root) and cuts byte ranges', async () => {
      await writeTree(r.dataDir, { 'in/b.txt': 'x'.repeat(25), 'in/a.txt': 'y'.repeat(10), 'in/.hidden': 'h', 'in/.dir/z': 'z', 'in/sub/c.txt': '', 'in/sub/d/e.txt': 'e' });
      await writeFile(path.join(r.outside, 'secret'), 'secret');
      await symlink(path.join(r.outside, 'secret'), path.join(r.dataDir, 'in', 'leak'));
      await symlink(path.join(r.dataDir, 'in', 'a.txt'), path.join(r.dataDir, 'in', 'link'));
      const spec = specOf({ operations: [{ _op: 'file_reader', path: '/in', size: 10 }, { _op: 'noop' }] });
      const { tasks } = await allSlices(spec, r, 2);
      assert.deepEqual(tasks.map((t) => t.payload), [
        { path: 'in/a.txt', offset: 0, length: 10, total: 10 },
        { path: 'in/b.txt', offset: 0, length: 10, total: 25 },
        { path: 'in/b.txt', offset: 10, length: 10, total: 25 },
        { path: 'in/b.txt', offset: 20, length: 5, total: 25 },
        { path: 'in/link', offset: 0, length: 10, total: 10 },
        { path: 'in/sub/c.txt', offset: 0, length: 0, total: 0 },
        { path: 'in/sub/d/e.txt', offset: 0, length: 1, total: 1 },
      ]);
      assert.deepEqual(tasks.map((t) => t.bytes), [10, 10, 10, 5, 10, 0, 1]);
      const whole = await allSlices(specOf({ operations: [{ _op: 'file_reader', path: 'in', size: 10, file_per_slice: true }, { _op: 'noop' }] }), r);
      assert.equal(whole.tasks.length, 5);
      const one = await allSlices(specOf({ operations: [{ _op: 'file_reader', path: 'in/b.txt', size: 10, format: 'json' }, { _op: 'noop' }] }), r);
      assert.deepEqual(one.tasks.map((t) => t.payload), [{ path: 'in/b.txt', offset: 0, length: 25, total: 25 }]);
      await assert.rejects(allSlices(specOf({ operations: [{ _op: 'file_reader', path: 'missing' }, { _op: 'noop' }] }), r), (e: AppError) => isAppError(e, 'INVALID_SPEC') && /does not exist/.test(e.message));
    });

    it('property: for random ldjson files and slice sizes, every line is read exactly once', async () => {
      await fc.assert(fc.asyncProperty(
        fc.array(fc.array(fc.record({ k: fc.string({ maxLength: 12 }).map((s) => s.replaceAll('|', '')), n: fc.integer() }), { maxLength: 30 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 120 }),
        fc.constantFrom('\n', '\r\n', '|'),
        fc.boolean(),
        async (files, size, delimiter, trailing) => {
          await r.cleanup(); // fresh roots each run (a failed run, shrinking, must not leave files behind)
          r = await makeRoots();
          const tree: Record<string, string> = {};
          const expected: unknown[] = [];
          files.forEach((recs, i) => {
            tree[`p/f${i}.ldjson`] = recs.map((x) => JSON.stringify(x)).join(delimiter) + (trailing && recs.length > 0 ? delimiter : '');
            expected.push(...recs.map((x) => JSON.parse(JSON.stringify(x)) as unknown));
          });
          await writeTree(r.dataDir, tree);
          const spec = specOf({ operations: [{ _op: 'file_reader', path: 'p', size, line_delimiter: delimiter }, { _op: 'noop' }] });
          const { tasks } = await allSlices(spec, r, 5);
          let read = 0;
          let readBytes = 0;
          const seen: unknown[] = [];
          const capture = specOf({ operations: [{ _op: 'file_reader', path: 'p', size, line_delimiter: delimiter }, { _op: 'stdout' }] });
          for (const t of tasks) {
            const result = await runSlice(capture, t.payload, runCtx(r, { taskId: t.taskId }), {
              print: (text) => seen.push(...text.trim().split('\n').map((l) => JSON.parse(l.slice(l.indexOf('] ') + 2)) as unknown)),
            });
            read += result.itemsDone;
            readBytes += result.bytesDone;
          }
          assert.equal(read, expected.length);
          assert.deepEqual(seen, expected);
          const bytes = Object.values(tree).reduce((n, c) => n + Buffer.byteLength(c), 0);
          assert.equal(tasks.reduce((n, t) => n + t.bytes, 0), bytes);
          assert.equal(readBytes, bytes, 'the lines the slices owned cover every byte once');
        },
      ), { numRuns: 60 });
    });
  });
});
