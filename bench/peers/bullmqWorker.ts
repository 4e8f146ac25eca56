/**
 * BullMQ's worker for bench/peers (protocol: childIo.ts): a `Worker` with concurrency 100 and a
 * no-op processor; terminal = its `completed` event (the job moved to completed in Redis). For a
 * flow only the parent counts. Default job options: completed jobs are kept.
 */
import { childConfig, closeInput, completions, heard, tell } from './childIo.ts';
import { connectionTo, loadBullMq } from './bullmqApi.ts';
import type { PeerWorkerConfig } from './workload.ts';

/** Jobs one worker runs at once. */
const CONCURRENCY = 100;

const config = childConfig<PeerWorkerConfig>();
const { Worker } = await loadBullMq();
const done = completions(config.expected);
const worker = new Worker(config.name, async () => {}, { ...connectionTo(config.store), concurrency: CONCURRENCY });
worker.on('completed', (job) => {
  if (config.terminalName === undefined || job.name === config.terminalName) done.record(job.data.t);
});
await worker.waitUntilReady();
tell({ ready: true });
await Promise.race([done.all, heard('finish')]);
tell(done.report());
await heard('exit');
await worker.close();
closeInput();
