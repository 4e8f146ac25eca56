/**
 * Decision 0012 F4's measurement: the one-process e2e on tiny `noop` jobs without webhook targets
 * (the common case), printing CPU per job and what the `hooks` durable delivered.
 * `node --import tsx bench/e2eNoTargets.ts [jobs=6000]`
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '../engine/nats/connection.ts';
import { findNatsServerBin, startEmbeddedNats } from '../engine/nats/embeddedServer.ts';
import { endToEnd } from './e2e.ts';

const jobs = Number(process.argv[2] ?? 6000);
const dir = await mkdtemp(join(tmpdir(), 'jj-f4-'));
await mkdir(join(dir, 'nats'));
const nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(dir, 'nats'), syncInterval: '1s' });
try {
  const r = await endToEnd(nats, join(dir, 'svc'), false, { jobs, clients: 64, pacing: { kind: 'single', inflight: 64 }, body: JSON.stringify({ type: 'noop', spec: {} }), drainMs: 120_000 });
  const nc = await connectNats(nats.url, { name: 'bench-f4' });
  const ci = await (await jetstreamManager(nc)).consumers.info('JOBS', 'hooks').catch(() => undefined);
  await nc.close();
  console.log(JSON.stringify({
    jobs: r.done, jobsPerSec: Math.round(r.jobsPerSec), cpuUsPerJob: { service: Math.round(r.cpuUsPerJob.service), nats: Math.round(r.cpuUsPerJob.nats) },
    hooksDeliveredPerJob: ci === undefined ? null : +(ci.delivered.consumer_seq / r.done).toFixed(2), load1: +loadavg()[0]!.toFixed(2),
  }));
} finally {
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
