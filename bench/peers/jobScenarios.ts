/**
 * The job scenarios of the peer bench, each run on every system (BullMQ, raw JetStream, then ours)
 * and turned into table rows: tiny jobs at saturation (single and bulk submit), tiny jobs at a fixed
 * rate, and one job of many tasks.
 */
import { fmt } from '../measure.ts';
import type { Pacing } from '../pacing.ts';
import { bullmq, ours, raw, type OursOptions } from './systems.ts';
import type { Stores } from './stores.ts';
import type { Cell, Row } from './table.ts';
import type { SideResult, Workload } from './workload.ts';

/** The three systems' results for one workload. */
export interface Sides { ours: SideResult; peer: SideResult; raw: SideResult }

/** A scenario's rows, and what went short (jobs not finished, files not landed). */
export interface ScenarioOutcome { rows: Row[]; warnings: string[] }

const step = (s: string) => console.error(`  … ${s}`);

/** A peer's side left out by `--ours-only`. */
const NOT_RUN: SideResult = { expected: 0, done: 0, busyMs: 0, p50: NaN, p99: NaN, p999: NaN, cpuMs: { process: 0, store: 0, producer: 0 }, unavailable: 'not run (--ours-only)' };

async function runAll(stores: Stores, name: string, w: Workload, opts: OursOptions): Promise<Sides> {
  if (opts.oursOnly === true) {
    step(`${name}: jetjobs`);
    return { peer: NOT_RUN, raw: NOT_RUN, ours: await ours(stores, w, opts) };
  }
  step(`${name}: BullMQ`);
  const peer = await bullmq(stores, w);
  step(`${name}: raw JetStream`);
  const rawSide = await raw(stores, w);
  step(`${name}: jetjobs`);
  return { peer, raw: rawSide, ours: await ours(stores, w, opts) };
}

/** A figure of each side, or the reason a side has none. */
function figure(sides: Sides, scenario: string, fig: string, better: Row['better'], digits: number, f: (r: SideResult) => Cell): Row {
  const cell = (r: SideResult): Cell => r.unavailable ?? f(r);
  return { scenario, figure: fig, better, digits, ours: cell(sides.ours), peer: cell(sides.peer), raw: cell(sides.raw) };
}

function shortfalls(scenario: string, sides: Sides): string[] {
  return (['ours', 'peer', 'raw'] as const).filter((k) => sides[k].unavailable === undefined && sides[k].done < sides[k].expected)
    .map((k) => `${scenario}: ${{ ours: 'jetjobs', peer: 'BullMQ', raw: 'raw JetStream' }[k]} finished ${fmt(sides[k].done)} of ${fmt(sides[k].expected)} jobs in time` +
      (sides[k].note === undefined ? '' : `: ${sides[k].note}`));
}

const perJobUs = (ms: number, r: SideResult) => (ms * 1000) / r.done;
const jobsPerSec = (r: SideResult) => (r.done * 1000) / r.busyMs;

function cpuRows(sides: Sides, scenario: string): Row[] {
  return [
    figure(sides, scenario, 'CPU µs/job, process + store', 'lower', 0, (r) => ({ parts: [perJobUs(r.cpuMs.process, r), perJobUs(r.cpuMs.store, r)] })),
    figure(sides, scenario, 'CPU µs/job, producer (not in the row above)', 'lower', 0, (r) => perJobUs(r.cpuMs.producer, r)),
  ];
}

/** `jobs` tiny jobs as fast as each system takes them, submitted one per call or in bulk. */
export async function tinyJobs(stores: Stores, jobs: number, pacing: Pacing, opts: OursOptions): Promise<ScenarioOutcome> {
  const how = pacing.kind === 'bulk'
    ? `bulk submit: ours POST jobs:batch of ${pacing.batch}, BullMQ addBulk of ${pacing.batch}, raw ${pacing.batch} publishes pipelined; ${pacing.inflight} calls in flight`
    : `single submit: ours 1 job per HTTP request, BullMQ add, raw publish; ${pacing.kind === 'single' ? pacing.inflight : '?'} calls in flight`;
  const scenario = `${fmt(jobs)} tiny jobs, ${how}`;
  const sides = await runAll(stores, `${fmt(jobs)} tiny, ${pacing.kind}`, { jobs, pacing, tasks: 1 }, opts);
  return {
    warnings: shortfalls(scenario, sides), rows: [
      figure(sides, scenario, 'jobs/s', 'higher', 0, jobsPerSec),
      figure(sides, scenario, 'p50 submit→terminal ms', 'lower', 1, (r) => r.p50),
      figure(sides, scenario, 'p99 submit→terminal ms', 'lower', 1, (r) => r.p99),
      ...cpuRows(sides, scenario),
    ],
  };
}

/** Tiny jobs at `perSec` for `secs` (open loop, one job per call), latency from each job's due time. */
export async function fixedRate(stores: Stores, perSec: number, secs: number, opts: OursOptions): Promise<ScenarioOutcome> {
  const scenario = `${fmt(perSec)} jobs/s for ${secs} s, open loop, one job per call`;
  const sides = await runAll(stores, `${fmt(perSec)}/s`, { jobs: perSec * secs, pacing: { kind: 'rate', perSec }, tasks: 1 }, opts);
  return {
    warnings: shortfalls(scenario, sides), rows: [
      figure(sides, scenario, 'p50 ms', 'lower', 1, (r) => r.p50),
      figure(sides, scenario, 'p99 ms', 'lower', 1, (r) => r.p99),
      figure(sides, scenario, 'p99.9 ms', 'lower', 1, (r) => r.p999),
      figure(sides, scenario, 'jobs/s finished', 'higher', 0, jobsPerSec),
      ...cpuRows(sides, scenario),
    ],
  };
}

/** One job of `tasks` tasks: ours a noop job planning them, BullMQ a flow parent with that many children, raw that many messages. */
export async function fanOut(stores: Stores, tasks: number, opts: OursOptions): Promise<ScenarioOutcome> {
  const scenario = `one job of ${fmt(tasks)} tasks: ours noop {tasks: ${fmt(tasks)}}, BullMQ FlowProducer parent + ${fmt(tasks)} children (terminal: parent completed), raw ${fmt(tasks)} messages pipelined (terminal: last ack acked)`;
  const sides = await runAll(stores, `1 job × ${fmt(tasks)} tasks`, { jobs: 1, pacing: { kind: 'single', inflight: 1 }, tasks }, opts);
  return {
    warnings: shortfalls(scenario, sides), rows: [
      figure(sides, scenario, 'submit→terminal ms', 'lower', 1, (r) => (r.done === 1 ? r.busyMs : NaN)),
      figure(sides, scenario, 'CPU ms, process + store', 'lower', 0, (r) => ({ parts: [r.cpuMs.process, r.cpuMs.store] })),
      figure(sides, scenario, 'CPU ms, producer (not in the row above)', 'lower', 0, (r) => r.cpuMs.producer),
    ],
  };
}
