/**
 * `npm run bench:peers` (full) and `npm run bench:quick` (`--quick`: the headline scenarios at small
 * counts): the same workloads on this service, on BullMQ (local redis-server, AOF `everysec`) and on
 * raw JetStream, in one run, printed as one table with ratios; then the headline ratios beside the
 * goals of issue 15. Every scenario runs on fresh stores (stores.ts), stopped by PID afterwards, in
 * a temp dir removed at the end. Options: options.ts; scenarios: jobScenarios.ts, loadVsCp.ts.
 * Asserts nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fmt } from '../measure.ts';
import { fanOut, fixedRate, tinyJobs, type ScenarioOutcome } from './jobScenarios.ts';
import { loadVsCp } from './loadVsCp.ts';
import { parseOptions, USAGE, type PeerBenchOptions } from './options.ts';
import { ensurePeerModules, openStores, type Stores } from './stores.ts';
import { ratio, renderTable, type Row } from './table.ts';

/** The outcomes the headline reads, by name. */
interface Headlines { bulk?: ScenarioOutcome; single?: ScenarioOutcome; rate500?: ScenarioOutcome; loadSmall?: ScenarioOutcome }

async function runScenarios(stores: Stores, o: PeerBenchOptions): Promise<{ all: ScenarioOutcome[]; head: Headlines }> {
  const all: ScenarioOutcome[] = [];
  const head: Headlines = {};
  const add = (x: ScenarioOutcome) => (all.push(x), x);
  for (const [i, { jobs, big }] of o.sizes.entries()) {
    // the larger size is bounded on our side: at ~500–1,000 jobs/s, 100,000 jobs take 2–3 minutes
    const oursOpts = { clients: o.clients, oursOnly: o.oursOnly, ...(big ? { maxSecs: o.oursMaxSecs } : {}) };
    const single = o.submit === 'bulk' ? undefined : add(await tinyJobs(stores, jobs, { kind: 'single', inflight: o.clients }, oursOpts));
    const bulk = o.submit === 'single' ? undefined : add(await tinyJobs(stores, jobs, { kind: 'bulk', batch: o.batch, inflight: o.bulkInflight }, oursOpts));
    if (i === 0) Object.assign(head, { single, bulk });
  }
  for (const rate of o.rates) {
    const r = add(await fixedRate(stores, rate, o.rateSecs, { clients: o.clients, oursOnly: o.oursOnly }));
    if (rate === 500) head.rate500 = r;
  }
  if (o.tasks > 0) add(await fanOut(stores, o.tasks, { clients: o.clients, oursOnly: o.oursOnly }));
  if (o.smallFiles > 0) head.loadSmall = add(await loadVsCp(stores, { files: o.smallFiles, bytes: o.smallKiB * 1024 }));
  if (o.largeFiles > 0) add(await loadVsCp(stores, { files: o.largeFiles, bytes: o.largeMiB * 2 ** 20 }));
  return { all, head };
}

/** "ours / peer" of the first row of `x` whose figure starts with `figure`. */
function headRatio(x: ScenarioOutcome | undefined, figure: string): string {
  const row: Row | undefined = x?.rows.find((r) => r.figure.startsWith(figure));
  return row === undefined ? 'not run' : ratio(row.ours, row.peer);
}

function headline(h: Headlines): string {
  return [
    'headline (ours / peer, issue 15 goals):',
    `  tiny jobs, bulk submit, jobs/s: ${headRatio(h.bulk, 'jobs/s')} BullMQ addBulk (goal ≥ 1.0×)`,
    `  tiny jobs, single submit, jobs/s: ${headRatio(h.single, 'jobs/s')} BullMQ add (goal ≥ 0.5×)`,
    `  p99 at 500 jobs/s: ${headRatio(h.rate500, 'p99')} BullMQ's (goal ≤ 2×)`,
    `  load of small files, MiB/s: ${headRatio(h.loadSmall, 'MiB/s')} cp -r (goal ≥ 0.8×)`,
  ].join('\n');
}

/** The commit measured, and whether tracked files differ from it (other work in the tree is measured too). */
async function codeVersion(): Promise<string> {
  const git = (...args: string[]) => promisify(execFile)('git', args).then((r) => r.stdout.trim(), () => '?');
  const [head, dirty] = await Promise.all([git('rev-parse', '--short', 'HEAD'), git('status', '--porcelain', '--untracked-files=no')]);
  return dirty === '' ? `at ${head}` : `at ${head} + uncommitted changes in ${dirty.split('\n').length} tracked files`;
}

async function main() {
  if (process.argv.includes('--help')) return console.log(USAGE);
  const o = parseOptions(process.argv, process.env);
  const load = loadavg()[0] ?? NaN;
  await ensurePeerModules();
  const dir = await mkdtemp(join(tmpdir(), 'jetjobs-peers-'));
  try {
    const t0 = performance.now();
    const stores = await openStores(dir, o.syncInterval);
    console.log(`jetjobs ${await codeVersion()} vs BullMQ vs raw JetStream${o.quick ? ' (--quick)' : ''}${o.oursOnly ? ' (--ours-only: jetjobs alone)' : ''}; ${new Date().toISOString().slice(0, 10)}; node ${process.version}, ` +
      `${cpus().length} cores, load average ${fmt(load, 2)} before the run; ${stores.description}`);
    const { all, head } = await runScenarios(stores, o);
    console.log(renderTable(all.flatMap((x) => x.rows)));
    for (const w of all.flatMap((x) => x.warnings)) console.log(`warning: ${w}`);
    console.log(headline(head));
    console.log(`run took ${fmt((performance.now() - t0) / 1000)} s; peak rss of this process (it hosts our service) ${fmt(process.resourceUsage().maxRSS / 1024)} MiB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
