/**
 * The peer bench's command-line options, parsed and defaulted in one place. `--quick` picks the
 * headline scenarios only, at small counts (under 2 minutes on a 2-core machine).
 */

/** Resolved options of bench/peers/run.ts. */
export interface PeerBenchOptions {
  readonly quick: boolean;
  /** Tiny-job counts, single and bulk submit each (a 0 is skipped); `big` for `--big-jobs` (bounded by `oursMaxSecs`). */
  readonly sizes: readonly { jobs: number; big: boolean }[];
  /** Fixed rates, jobs/s, each for `rateSecs`. */
  readonly rates: readonly number[];
  readonly rateSecs: number;
  /** Keep-alive connections of our load generator, and calls in flight of every single-submit producer. */
  readonly clients: number;
  /** Jobs per bulk call, and bulk calls in flight, for every system. */
  readonly batch: number;
  readonly bulkInflight: number;
  /** Tasks of the one fan-out job (0: skipped). */
  readonly tasks: number;
  /** Small files of the load scenario and their size (0 files: skipped). */
  readonly smallFiles: number;
  readonly smallKiB: number;
  /** Large files of the load scenario and their size (0 files: skipped). */
  readonly largeFiles: number;
  readonly largeMiB: number;
  /** In the larger tiny-job size, our load generator sends for at most this many seconds and the jobs get as long again to finish. */
  readonly oursMaxSecs: number;
  /** nats-server `sync_interval`. */
  readonly syncInterval: string;
  /** `--ours-only`: run only this service's side of the job scenarios (BullMQ and raw JetStream show "not run"). */
  readonly oursOnly: boolean;
  /** `--submit single|bulk`: only that pacing of the tiny-job scenarios. @defaultValue both */
  readonly submit: 'both' | 'single' | 'bulk';
}

/** Defaults of the full run (`npm run bench:peers`). */
export const FULL_DEFAULTS = {
  jobs: 10_000, bigJobs: 100_000, rates: '500,2000', rateSecs: 10, clients: 64, batch: 100, bulkInflight: 4,
  tasks: 1_000, smallFiles: 10_000, smallKiB: 4, largeFiles: 4, largeMiB: 256, oursMaxSecs: 300,
} as const;
/** What `--quick` changes: 3,000 tiny jobs, 500/s for 5 s, the small-file load; nothing else. */
export const QUICK_DEFAULTS = { ...FULL_DEFAULTS, jobs: 3_000, bigJobs: 0, rates: '500', rateSecs: 5, tasks: 0, largeFiles: 0 } as const;

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): PeerBenchOptions {
  const quick = argv.includes('--quick');
  const d = quick ? QUICK_DEFAULTS : FULL_DEFAULTS;
  const text = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? undefined : argv[i + 1];
  };
  const num = (name: string, dflt: number) => {
    const raw = text(name);
    const n = raw === undefined ? dflt : Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got ${String(raw)}`);
    return n;
  };
  const submit = text('submit') ?? 'both';
  if (submit !== 'both' && submit !== 'single' && submit !== 'bulk') throw new Error(`--submit must be single, bulk or both, got ${submit}`);
  const rates = (text('rates') ?? text('rate') ?? d.rates).split(',').map(Number).filter((r) => r > 0);
  return Object.freeze({
    quick,
    sizes: [{ jobs: num('jobs', d.jobs), big: false }, { jobs: num('big-jobs', d.bigJobs), big: true }].filter((x) => x.jobs > 0),
    rates, rateSecs: num('rate-secs', d.rateSecs), clients: num('clients', d.clients),
    batch: num('batch', d.batch), bulkInflight: num('bulk-inflight', d.bulkInflight), tasks: num('tasks', d.tasks),
    smallFiles: num('small-files', d.smallFiles), smallKiB: num('small-kib', d.smallKiB),
    largeFiles: num('large-files', d.largeFiles), largeMiB: num('large-mib', d.largeMiB),
    oursMaxSecs: num('ours-max-secs', d.oursMaxSecs),
    syncInterval: env['JETJOBS_SYNC_INTERVAL'] ?? '1s',
    oursOnly: argv.includes('--ours-only'), submit,
  });
}

/** The usage line printed by `--help`. */
export const USAGE = 'node --import tsx bench/peers/run.ts [--quick] [--jobs N] [--big-jobs N] [--rates R1,R2] [--rate-secs S] [--clients C] ' +
  '[--batch B] [--bulk-inflight I] [--tasks T] [--small-files N] [--small-kib K] [--large-files N] [--large-mib M] [--ours-max-secs S] ' +
  '[--ours-only] [--submit single|bulk]';
