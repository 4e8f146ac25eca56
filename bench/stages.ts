/**
 * Where the submit→terminal latency of a tiny job goes, stage by stage, at a fixed rate:
 * `node --import tsx bench/stages.ts [--rate 500] [--secs 10]`. Runs bench/e2e.ts's endToEnd (the whole
 * service in one process, the load generator in its own), then reads every record of the JOBS stream
 * and prints p50/p99 of the gaps between the server receive times of one job's records: submit →
 * claim, claim → task outcome, outcome → terminal, and the whole. Asserts nothing.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats } from '../engine/nats/connection.ts';
import { findNatsServerBin, startEmbeddedNats } from '../engine/nats/embeddedServer.ts';
import { createJetStreamEventLog } from '../engine/eventlog/jetStreamEventLog.ts';
import { endToEnd, pct } from './e2e.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const RATE = arg('rate', 500);
const SECS = arg('secs', 10);

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-stages-'));
  await mkdir(join(dir, 'nats'));
  const nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(dir, 'nats'), syncInterval: process.env['JETJOBS_SYNC_INTERVAL'] ?? '1s' });
  try {
    const r = await endToEnd(nats, join(dir, 'state'), false, { jobs: RATE * SECS, clients: 64, ratePerSec: RATE });
    console.log(`${r.done} jobs at ${RATE}/s: bench submit→terminal p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; CPU µs/job service ${Math.round(r.cpuUsPerJob.service)}, nats ${Math.round(r.cpuUsPerJob.nats)}`);
    const nc = await connectNats(nats.url, { name: 'bench-stages' });
    const log = createJetStreamEventLog({ nc });
    const last = await log.lastSeq();
    const at = new Map<string, Record<string, number>>();
    await new Promise<void>((resolve) => {
      const f = log.follow(1, (rec) => {
        const id = rec.subject.split('.')[1]!;
        const t = Date.parse(rec.time);
        const m = at.get(id) ?? {};
        for (const e of rec.events) m[e.type] ??= t;
        at.set(id, m);
        if (rec.seq >= last) void f.stop().then(resolve);
      });
    });
    const gaps: Record<string, number[]> = { 'submit → claim': [], 'claim → outcome': [], 'outcome → terminal': [], 'submit → terminal (log)': [] };
    for (const m of at.values()) {
      const [s, c, o, t] = [m['JobSubmitted'], m['JobClaimed'], m['TaskSucceeded'], m['JobSucceeded']];
      if (s === undefined || c === undefined || o === undefined || t === undefined) continue;
      gaps['submit → claim']!.push(c - s);
      gaps['claim → outcome']!.push(o - c);
      gaps['outcome → terminal']!.push(t - o);
      gaps['submit → terminal (log)']!.push(t - s);
    }
    for (const [k, v] of Object.entries(gaps)) console.log(`  ${k.padEnd(26)} p50 ${pct(v, 50).toFixed(1)} ms  p99 ${pct(v, 99).toFixed(1)} ms  max ${Math.max(...v).toFixed(1)} ms`);
    await log.close();
    await nc.close();
  } finally {
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
