/**
 * `npm run bench:retention`: memory and JOBS stream size under a steady submit rate, with retention
 * (compact at once, remove after ~5 s, a pass every second) and then, for contrast, without it.
 * Each phase runs the engine in this process (api+coordinator+worker) on its own nats-server and
 * submits `noop` jobs; every 5 s it prints submitted jobs, jobs in the projection, JOBS messages
 * and bytes, process RSS and heap used (after a full GC). The verdict compares the second half's averages with the
 * first half's (after a warm-up). Prints figures; asserts nothing. About 2.5 min by default.
 *
 *   JETJOBS_BENCH_RATE=200 JETJOBS_BENCH_SECS=60 JETJOBS_BENCH_MAX_AGE_MS=5000 JETJOBS_BENCH_FLAT_PCT=25 \
 *     node --import tsx bench/retention.ts
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { jetstreamManager } from '@nats-io/jetstream';
import { JOB_STATES } from '../actors/events.ts';
import { resolveConfig, silentLogger, startEngine, type Config, type Engine } from '../engine/index.ts';
import { connectNats } from '../engine/nats/connection.ts';
import { findNatsServerBin, startEmbeddedNats } from '../engine/nats/embeddedServer.ts';
import { SYSTEM_CALLER } from '../engine/serviceTypes.ts';
import { STREAM_JOBS } from '../engine/subjects.ts';

const num = (name: string, dflt: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? dflt : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return n;
};
const RATE = num('JETJOBS_BENCH_RATE', 200);
const SECS = num('JETJOBS_BENCH_SECS', 60);
const MAX_AGE_MS = num('JETJOBS_BENCH_MAX_AGE_MS', 5_000);
/** Second-half averages within this many percent of the first half's count as flat. */
const FLAT_PCT = num('JETJOBS_BENCH_FLAT_PCT', 25);
const SAMPLE_MS = 5_000;
const TICK_MS = 50;
/** Samples before this are warm-up (the first removals happen after max age + one interval). */
const WARMUP_MS = 2 * (MAX_AGE_MS + 1_000);
const NEVER = 10 * 365 * 24 * 3600_000;

// A full GC before each sample, so "heap used" is the live heap rather than GC timing noise.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Sample {
  t: number;
  submitted: number;
  jobs: number;
  msgs: number;
  bytes: number;
  rss: number;
  heap: number;
  natsRss: number;
}

const MiB = 2 ** 20;
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Resident set of another process (Linux), 0 when unknown. */
async function rssOf(pid: number): Promise<number> {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function phase(label: string, retentionOn: boolean): Promise<Sample[]> {
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-bench-retention-'));
  const nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(dir, 'nats') });
  let engine: Engine | undefined;
  const nc = await connectNats(nats.url, { name: 'bench-retention-stats' });
  try {
    const overrides: Partial<Config> = retentionOn
      ? { compactAfterMs: 0, retentionMaxAgeMs: MAX_AGE_MS, retentionIntervalMs: 1_000 }
      : { compactAfterMs: NEVER, retentionMaxAgeMs: 0, retentionIntervalMs: 1_000 };
    const config = resolveConfig({ natsUrl: nats.url, stateDir: join(dir, 'svc'), port: 0, logLevel: 'silent', ...overrides });
    engine = await startEngine(config, silentLogger); // its coordinator role runs retention (engine.retention)
    const jsm = await jetstreamManager(nc);
    const service = engine.service;
    const projection = engine.projection;
    const samples: Sample[] = [];
    let submitted = 0;
    let failed = 0;
    let inFlight = 0;
    const t0 = performance.now();
    const sample = async (): Promise<Sample> => {
      const info = await jsm.streams.info(STREAM_JOBS);
      gc();
      const mem = process.memoryUsage();
      let jobs = 0;
      for (const s of JOB_STATES) jobs += projection.countByState(s);
      return {
        t: performance.now() - t0, submitted, jobs, msgs: info.state.messages, bytes: info.state.bytes,
        rss: mem.rss, heap: mem.heapUsed, natsRss: await rssOf(nats.pid),
      };
    };
    const print = (s: Sample) =>
      console.log(`  [${label}] t=${fmt(s.t / 1000).padStart(3)} s  submitted ${fmt(s.submitted).padStart(6)}  in projection ${fmt(s.jobs).padStart(6)}  ` +
        `JOBS ${fmt(s.msgs).padStart(7)} msgs ${fmt(s.bytes / MiB, 1).padStart(6)} MiB  rss ${fmt(s.rss / MiB).padStart(4)} MiB  ` +
        `heap ${fmt(s.heap / MiB).padStart(4)} MiB  nats rss ${fmt(s.natsRss / MiB).padStart(4)} MiB`);
    const sampler = setInterval(() => {
      void sample().then((s) => {
        samples.push(s);
        print(s);
      }, (err: unknown) => console.log(`  [${label}] sample failed: ${String(err)}`));
    }, SAMPLE_MS);
    // steady rate: by time t, RATE * t jobs were asked for (bounded in flight, so a slow engine shows as lag)
    while (performance.now() - t0 < SECS * 1000) {
      const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
      while (submitted + failed + inFlight < due && inFlight < 256) {
        inFlight++;
        service.submit({ type: 'noop', spec: {} }, { caller: SYSTEM_CALLER }).then(
          () => void (inFlight--, submitted++),
          () => void (inFlight--, failed++),
        );
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    clearInterval(sampler);
    while (inFlight > 0) await new Promise((r) => setTimeout(r, TICK_MS));
    const last = await sample();
    if (last.t - (samples.at(-1)?.t ?? 0) > 1_000) {
      print(last);
      samples.push(last);
    }
    if (failed > 0) console.log(`  [${label}] ${fmt(failed)} submissions failed`);
    const lag = Math.floor(SECS * RATE) - submitted - failed;
    if (lag > RATE) console.log(`  [${label}] the engine fell ${fmt(lag)} jobs behind the asked rate`);
    return samples;
  } finally {
    await engine?.shutdown().catch((err: unknown) => console.log(`  [${label}] shutdown: ${String(err)}`));
    await nc.close().catch(() => undefined);
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Second-half / first-half averages of each figure (warm-up samples left out). */
function verdict(label: string, samples: Sample[]): boolean {
  const steady = samples.filter((s) => s.t >= WARMUP_MS);
  const mid = Math.floor(steady.length / 2);
  const [first, second] = [steady.slice(0, mid), steady.slice(mid)];
  if (first.length === 0 || second.length === 0) {
    console.log(`${label}: too few samples after the ${fmt(WARMUP_MS / 1000)} s warm-up for a verdict (run longer)`);
    return false;
  }
  const figures: [string, (s: Sample) => number][] = [
    ['jobs in projection', (s) => s.jobs], ['JOBS messages', (s) => s.msgs], ['JOBS bytes', (s) => s.bytes],
    ['process rss', (s) => s.rss], ['heap used', (s) => s.heap],
  ];
  let flat = true;
  const parts = figures.map(([name, f]) => {
    const ratio = avg(second.map(f)) / Math.max(1, avg(first.map(f)));
    const ok = ratio <= 1 + FLAT_PCT / 100;
    flat &&= ok;
    return `${name} ×${fmt(ratio, 2)}${ok ? '' : ' (grows)'}`;
  });
  console.log(`${label}: second half vs first half (after ${fmt(WARMUP_MS / 1000)} s warm-up): ${parts.join(', ')} → ${flat ? 'FLAT' : 'NOT FLAT'} (flat = within ${FLAT_PCT}%)`);
  return flat;
}

async function main() {
  console.log(`jetjobs retention bench — ${fmt(RATE)} noop jobs/s for ${fmt(SECS)} s per phase; node ${process.version}`);
  console.log(`phase 1: retention on (compactAfterMs 0, retentionMaxAgeMs ${fmt(MAX_AGE_MS)}, retentionIntervalMs 1000)`);
  const on = await phase('retention', true);
  console.log('phase 2: retention off (contrast)');
  const off = await phase('no retention', false);
  console.log('');
  const flatOn = verdict('with retention', on);
  const flatOff = verdict('without retention', off);
  console.log(flatOn && !flatOff
    ? 'verdict: with retention memory and stream size stay flat; without it they grow with the number of jobs'
    : `verdict: unexpected (with retention ${flatOn ? 'flat' : 'not flat'}, without ${flatOff ? 'flat' : 'not flat'})`);
}

await main();
