/**
 * `node --import tsx bench/loadJobs.ts [--jobs 200] [--files 50] [--batch 5]`: submits `jobs` load
 * jobs at once over HTTP, each of `files` small files in nested directories, in `batch`-file tasks,
 * so tasks of one job (and of different jobs) create the same cache directories concurrently; then
 * counts jobs that did not succeed and failed items. No fault is injected: any failure is a bug
 * (issue 9 measured about 1 % of load jobs failing this way). Prints one JSON line; asserts nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNats } from '../test/helpers/natsServer.ts';
import { http, startTestService } from '../test/helpers/service.ts';
import { TEST_ADMIN_TOKEN } from '../test/helpers/auth.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const JOBS = arg('jobs', 200);
const FILES = arg('files', 50);
const BATCH = arg('batch', 5);
const DEADLINE_MS = 300_000;

interface JobView {
  id: string;
  state: string;
  error?: unknown;
  progress: { itemsFailed: number; tasksFailed?: number };
}

const nats = await startTestNats();
const svc = await startTestService(nats.url, { workerConcurrency: 8, maxTasksPerWorker: 64 });
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
try {
  const files = svc.config.filesDir;
  // every job's files sit under shared parents, two levels deep: tasks race to create them in the cache
  for (let j = 0; j < JOBS; j++) {
    for (let f = 0; f < FILES; f++) {
      const dir = join(files, 'shared', `g${j % 10}`, `job${j}`, `d${f % 5}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `f${f}`), `job ${j} file ${f}\n`);
    }
  }
  const t0 = performance.now();
  const submitted = await Promise.all(Array.from({ length: JOBS }, async (_, j) => {
    const r = await http<JobView>(svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'load', spec: { path: `shared/g${j % 10}/job${j}`, batchSize: BATCH } }, auth);
    if (r.status !== 201) throw new Error(`submit ${j}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  }));
  const done = new Map<string, JobView>();
  while (done.size < submitted.length && performance.now() - t0 < DEADLINE_MS) {
    for (const id of submitted) {
      if (done.has(id)) continue;
      const v = (await http<JobView>(svc.baseUrl, 'GET', `/native/v1/jobs/${id}`, undefined, auth)).body;
      if (['SUCCEEDED', 'FAILED', 'STOPPED'].includes(v.state)) done.set(id, v);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const views = [...done.values()];
  const failed = views.filter((v) => v.state !== 'SUCCEEDED');
  console.log(JSON.stringify({
    jobs: JOBS, filesPerJob: FILES, batchSize: BATCH, finished: views.length, seconds: Math.round((performance.now() - t0) / 100) / 10,
    notSucceeded: failed.length, itemsFailed: views.reduce((n, v) => n + v.progress.itemsFailed, 0),
    firstErrors: failed.slice(0, 3).map((v) => v.error),
  }));
} finally {
  await svc.stop();
  await nats.cleanup();
}
