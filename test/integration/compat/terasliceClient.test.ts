/**
 * teraslice-client-js (the version on the npm registry, 0.1.0) driven unchanged against the
 * Teraslice facade, on the real engine and a real nats-server: submit a persistent
 * data_generator → delay → file_exporter pipeline, wait for it to run, pause, resume, add workers,
 * see them in the cluster state, stop it, recover it, read its errors, and check the files it wrote.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

interface TsJob {
  id(): string;
  status(): Promise<string>;
  ex(): Promise<string>;
  spec(): Promise<Record<string, unknown>>;
  waitForStatus(target: string, intervalMs?: number, timeoutMs?: number): Promise<string>;
  pause(): Promise<{ status: string }>;
  resume(): Promise<{ status: string }>;
  stop(qs?: Record<string, unknown>): Promise<{ status: string }>;
  recover(qs?: Record<string, unknown>): Promise<{ job_id: string; ex_id: string }>;
  changeWorkers(action: string, n: number): Promise<{ message: string }>;
  workers(): Promise<{ assignment: string; job_id: string; node_id: string }[]>;
  errors(): Promise<unknown[]>;
}
interface TsClient {
  jobs: { submit(spec: unknown, shouldNotStart?: boolean): Promise<TsJob>; list(opts?: unknown): Promise<{ ex_id: string; _status: string }[]> };
  cluster: { state(): Promise<Record<string, unknown>>; stats(): Promise<Record<string, unknown>>; txt(type: string): Promise<string> };
}

const TerasliceClient = createRequire(import.meta.url)('teraslice-client-js') as new (config: { host: string }) => TsClient;

describe('teraslice-client-js 0.1.0 against the facade', () => {
  const env = useTestService({});

  it('submit → running → pause → resume → add workers → stop → recover → errors, with the output on disk', async () => {
    const client = new TerasliceClient({ host: env.svc.facadeUrls['teraslice cluster master']! });
    const job = await client.jobs.submit({
      name: 'client journey', lifecycle: 'persistent', workers: 1, max_retries: 1,
      operations: [{ _op: 'data_generator', size: 50 }, { _op: 'delay', ms: 30 }, { _op: 'file_exporter', path: 'client-out', format: 'ldjson' }],
    });
    assert.match(job.id(), /^[0-9a-f-]{36}$/);
    assert.equal(await job.waitForStatus('running', 50, 30_000), 'running');
    const firstEx = await job.ex();
    assert.equal((await job.spec())['name'], 'client journey');

    assert.deepEqual(await job.pause(), { status: 'paused' });
    assert.equal(await job.status(), 'paused');
    assert.deepEqual(await job.resume(), { status: 'running' });
    const added = await job.changeWorkers('add', 2);
    assert.equal(added.message, `2 workers have been enqueued for execution: ${firstEx}`);
    const workers = await waitFor(async () => {
      const w = await job.workers();
      return w.length > 0 ? w : undefined;
    }, { what: 'a worker of the job in the cluster state', timeoutMs: 30_000 });
    assert.ok(workers.every((w) => w.assignment === 'worker' && w.job_id === job.id() && typeof w.node_id === 'string'));
    assert.ok((await client.jobs.list()).some((e) => e.ex_id === firstEx), 'jobs.list() sends status=*');
    assert.ok((await client.cluster.txt('jobs')).includes(job.id()));

    assert.deepEqual(await job.stop(), { status: 'stopped' });
    await assert.rejects(job.waitForStatus('running', 10, 5_000), /terminal state, "stopped"/);

    // the records on disk are exactly those of the slices that finished: a stopped slice wrote nothing
    const finished = (await (await fetch(`${env.svc.facadeUrls['teraslice cluster master']!}/ex/${firstEx}`)).json()) as { _slicer_stats: { processed: number; failed: number } };
    const dir = join(env.svc.config.filesDir, 'client-out');
    let records = 0;
    for (const name of await readdir(dir)) records += (await readFile(join(dir, name), 'utf8')).split('\n').filter((l) => l !== '').length;
    assert.equal(records, (finished._slicer_stats.processed - finished._slicer_stats.failed) * 50);

    const recovered = await job.recover({ cleanup: 'errors' });
    assert.notEqual(recovered.ex_id, firstEx);
    assert.equal(await job.waitForStatus('completed', 50, 30_000), 'completed', 'no failed slice to re-run: the recovery completes');
    assert.deepEqual(await job.errors(), []);
    assert.ok(Object.keys(await client.cluster.stats()).includes('controllers'));
  });

  it('errors come back as the client expects: a rejected promise with the message and the numeric code', async () => {
    const client = new TerasliceClient({ host: env.svc.facadeUrls['teraslice cluster master']! });
    await assert.rejects(client.jobs.submit({ name: 'bad', operations: [{ _op: 'data_generator' }, { _op: 'my_op' }] }), (err: Error & { code?: unknown }) => {
      assert.match(err.message, /^Unable to find module for operation: my_op/);
      assert.equal(err.code, 400);
      return true;
    });
  });
});
