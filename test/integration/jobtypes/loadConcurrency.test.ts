/**
 * Many tasks of one `load` (and of two loads at once) create the same cache directories at the
 * same moment. None may fail another: every file lands, no item fails, verification passes.
 * (The old path check could take a directory that appeared mid-check for a dangling symlink; in
 * one process that window is too narrow to hit reliably, so pathsRace.test.ts races it directly.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskPlan, TaskResult } from '../../../actors/events.ts';
import { loadJobType, type LoadSpec } from '../../../engine/jobtypes/load.ts';
import { formatTaskId } from '../../../engine/jobtypes/taskId.ts';
import { makeRoots, runCtx, verifyCtx, type TempRoots } from '../../unit/engine/jobtypes/fileJobs.fixture.ts';

const TASKS = 50;
const FILES_PER_TASK = 200;
const SIZE = 16;

/** `dir/d<k>/f<t>.txt` for every task t and file k: 200 directories of 50 files. */
function rel(t: number, k: number): string {
  return `ds/deep/shared/parents/d${String(k).padStart(3, '0')}/f${String(t).padStart(2, '0')}.txt`;
}

async function writeDataset(dataDir: string): Promise<void> {
  for (let k = 0; k < FILES_PER_TASK; k++) {
    await mkdir(path.dirname(path.join(dataDir, rel(0, k))), { recursive: true });
    await Promise.all(Array.from({ length: TASKS }, (_, t) => writeFile(path.join(dataDir, rel(t, k)), `${t}/${k}`.padEnd(SIZE, '.'))));
  }
}

/**
 * The worst case for directory creation: task t holds file t of each of the first `dirs`
 * directories, so all tasks create the same directories in the same order at the same moment.
 */
function interleavedPlan(dirs: number): TaskPlan[] {
  return Array.from({ length: TASKS }, (_, t) => ({
    taskId: formatTaskId(t),
    payload: { files: Array.from({ length: dirs }, (_, k) => ({ rel: rel(t, k), offset: 0, length: SIZE, size: SIZE })) },
    items: dirs,
    bytes: dirs * SIZE,
  }));
}

/** Runs every task at once, as 50 workers would. */
async function runAll(r: TempRoots, spec: LoadSpec, tasks: TaskPlan[]): Promise<TaskResult[]> {
  return await Promise.all(tasks.map((t) => loadJobType.run(spec, t.payload, runCtx(r, { taskId: t.taskId }))));
}

function failed(results: TaskResult[]): string[] {
  return results.flatMap((res) => res.failures.map((f) => `${f.item}: ${f.error}`));
}

const loaded = (results: TaskResult[]) => results.reduce((n, res) => n + res.itemsDone, 0);

describe(`load of ${TASKS} tasks × ${FILES_PER_TASK} files, all tasks at once`, () => {
  let r: TempRoots;
  before(async () => {
    r = await makeRoots();
    await writeDataset(r.dataDir);
  });
  after(() => r.cleanup());
  const emptyCache = () => rm(path.join(r.cacheDir, 'ds'), { recursive: true, force: true });

  it('as planned: no item fails and verification passes', async () => {
    const spec: LoadSpec = { path: 'ds', batchSize: FILES_PER_TASK };
    const tasks = await loadJobType.plan(spec, { jobId: 'j1', roots: r, signal: new AbortController().signal });
    assert.equal(tasks.length, TASKS);
    const results = await runAll(r, spec, tasks);
    assert.deepEqual(failed(results).slice(0, 5), []);
    assert.equal(loaded(results), TASKS * FILES_PER_TASK);
    assert.deepEqual(await loadJobType.verify(spec, verifyCtx(r, tasks, results)), {
      ok: true,
      summary: { files: TASKS * FILES_PER_TASK, bytes: TASKS * FILES_PER_TASK * SIZE, verified: true },
    });
  });

  it('every task creating the same directories, with a second job doing so too: no item fails', async () => {
    await emptyCache();
    const spec: LoadSpec = { path: 'ds' };
    const dirs = 40;
    const tasks = interleavedPlan(dirs);
    const other = tasks.slice(0, 10).reverse();
    const [mine, theirs] = await Promise.all([runAll(r, spec, tasks), runAll(r, spec, other)]);
    assert.deepEqual(failed([...mine, ...theirs]).slice(0, 5), []);
    assert.equal(loaded(mine), TASKS * dirs);
    assert.deepEqual(await loadJobType.verify(spec, verifyCtx(r, tasks, mine)), {
      ok: true,
      summary: { files: TASKS * dirs, bytes: TASKS * dirs * SIZE, verified: true },
    });
  });
});
