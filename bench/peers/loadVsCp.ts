/**
 * Our `load` job beside `cp -r` of the same files. `load` copies `<filesDir>/<path>` into
 * `<cacheDir>/<path>` (engine/jobtypes/load.ts: listed by the coordinator, copied by workers in tasks
 * of up to 200 files and 256 MiB, ranges of 256 MiB, sizes verified at the end; the spec gives only
 * the path, so the product's defaults apply). `cp -r` copies the same source to a fresh directory
 * on the same filesystem. The source was just written, so both read it warm from the page cache; neither
 * fsyncs what it writes; `sync` runs before each copy so neither pays for the other's writeback.
 * Time: ours from the submit request to SUCCEEDED in the projection, cp from spawn to exit.
 * On ext4 without a journal (this bench's usual home), creating files within a minute (five until
 * the inode table is written back) of deleting many, such as an earlier run's cleanup or other work
 * on the machine, cost cp and ours alike 10–20 times the CPU (the inode allocator steps over every
 * recently deleted inode, ext4's RECENTCY_MIN/RECENTCY_DIRTY): compare runs that started more than
 * a minute after the last large delete and a `sync`, or set TMPDIR to a tmpfs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmbeddedNats } from '../../engine/nats/embeddedServer.ts';
import { endToEnd } from '../e2e.ts';
import { fmt } from '../measure.ts';
import type { Stores } from './stores.ts';
import type { ScenarioOutcome } from './jobScenarios.ts';
import type { Row } from './table.ts';

/** A tree of `files` files of `bytes` each, 100 to a directory. */
export interface FileSet { files: number; bytes: number }

/** One copy: wall ms, CPU ms (ours: service + nats-server; cp: user + system), what landed. */
interface CopyRun { ms: number; cpuMs: number[]; landed: { files: number; bytes: number }; failed?: string }

const FILES_PER_DIR = 100;
const WRITERS = 16;

async function writeTree(root: string, set: FileSet): Promise<void> {
  const content = randomBytes(set.bytes);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(WRITERS, set.files) }, async () => {
    while (next < set.files) {
      const i = next++;
      const dir = join(root, `d${String(Math.floor(i / FILES_PER_DIR)).padStart(4, '0')}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `f${String(i).padStart(6, '0')}`), content);
    }
  }));
}

async function measureTree(root: string): Promise<{ files: number; bytes: number }> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile());
  const sizes = await Promise.all(files.map(async (e) => (await stat(join(e.parentPath, e.name))).size));
  return { files: files.length, bytes: sizes.reduce((a, b) => a + b, 0) };
}

/** `cp -r src dst` timed from here; its CPU from bash's `times` (children's user and system). */
async function cpR(src: string, dst: string): Promise<CopyRun> {
  spawnSync('sync');
  const t0 = performance.now();
  const child = spawn('bash', ['-c', 'cp -r "$0" "$1" && times', src, dst], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise((r) => child.once('exit', r));
  const ms = performance.now() - t0;
  const secs = (s: string) => Number(/(\d+)m([\d.]+)s/.exec(s)?.[1] ?? NaN) * 60 + Number(/(\d+)m([\d.]+)s/.exec(s)?.[2] ?? NaN);
  const children = (out.trim().split('\n')[1] ?? '').split(' ');
  const cpu = (secs(children[0] ?? '') + secs(children[1] ?? '')) * 1000;
  return { ms, cpuMs: [cpu], landed: await measureTree(dst), ...(code === 0 ? {} : { failed: `cp exited ${String(code)}` }) };
}

/** Our `load` of `<stateDir>/files/<rel>`, one job through the whole service. */
async function ourLoad(nats: EmbeddedNats, stateDir: string, rel: string): Promise<CopyRun> {
  spawnSync('sync');
  const r = await endToEnd(nats, stateDir, false, { jobs: 1, clients: 1, body: JSON.stringify({ type: 'load', spec: { path: rel } }), drainMs: 600_000 });
  const landed = await measureTree(join(stateDir, 'cache', rel));
  return { ms: r.busyMs, cpuMs: [r.cpuMs.service, r.cpuMs.nats], landed, ...(r.states['SUCCEEDED'] === 1 ? {} : { failed: `not SUCCEEDED: ${JSON.stringify(r.states)}` }) };
}

/** Rows comparing ours with cp -r over one file set. */
function rows(scenario: string, set: FileSet, mine: CopyRun, cp: CopyRun): Row[] {
  const mib = (set.files * set.bytes) / 2 ** 20;
  const cell = (run: CopyRun, f: (r: CopyRun) => number) => run.failed ?? f(run);
  const row = (figure: string, better: Row['better'], digits: number, f: (r: CopyRun) => number): Row =>
    ({ scenario, figure, better, digits, ours: cell(mine, f), peer: cell(cp, f), raw: undefined });
  return [
    row('seconds', 'lower', 2, (r) => r.ms / 1000),
    row('MiB/s (the issue\'s "load ≥ 0.8× cp -r")', 'higher', 0, (r) => mib / (r.ms / 1000)),
    row('files/s', 'higher', 0, (r) => set.files / (r.ms / 1000)),
    { scenario, figure: 'CPU ms, process + store (cp: user + system)', better: 'lower', digits: 0, ours: mine.failed ?? { parts: mine.cpuMs }, peer: cp.failed ?? cp.cpuMs[0], raw: undefined },
  ];
}

const sizeText = (bytes: number) => (bytes >= 2 ** 20 ? `${fmt(bytes / 2 ** 20)} MiB` : `${fmt(bytes / 1024)} KiB`);

/** `load` of `set` beside `cp -r` of it, on one fresh store and directory (cp first, then ours). */
export async function loadVsCp(stores: Stores, set: FileSet): Promise<ScenarioOutcome> {
  const scenario = `load ${fmt(set.files)} files × ${sizeText(set.bytes)} vs cp -r (same fs, source warm in page cache, no fsync, sync before each)`;
  return stores.withNats(async (nats, stateDir) => {
    const src = join(stateDir, 'files', 'set');
    console.error(`  … ${scenario}: writing the files`);
    await writeTree(src, set);
    await mkdir(join(stateDir, 'cp'), { recursive: true });
    console.error('  … cp -r');
    const cp = await cpR(src, join(stateDir, 'cp', 'set'));
    console.error('  … jetjobs load');
    const mine = await ourLoad(nats, stateDir, 'set');
    const warnings = ([['jetjobs', mine], ['cp -r', cp]] as const)
      .filter(([, run]) => run.landed.files !== set.files || run.landed.bytes !== set.files * set.bytes)
      .map(([who, run]) => `${scenario}: ${who} landed ${fmt(run.landed.files)} files, ${fmt(run.landed.bytes)} bytes of ${fmt(set.files)}, ${fmt(set.files * set.bytes)}`);
    return { rows: rows(scenario, set, mine, cp), warnings };
  });
}
