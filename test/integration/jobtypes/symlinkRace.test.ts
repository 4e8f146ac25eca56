/**
 * Races a thread that keeps swapping a symlink inside each root (`flip` → `safe`, a directory
 * inside, or → a directory OUTSIDE the roots full of canary files) against every file job type:
 * plan, run (whole files and ranges, reading and writing through the link) and verify (which
 * stats, and for `move` deletes, through it). Whatever the interleaving, nothing outside may be
 * read (no canary bytes inside the roots), written, created or deleted (the outside tree stays
 * byte for byte the same), and no message may name anything outside.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskPlan, TaskResult } from '../../../actors/events.ts';
import { copyJobType, type CopySpec } from '../../../engine/jobtypes/copy.ts';
import type { FileEntry } from '../../../engine/jobtypes/fileBatches.ts';
import { freeJobType } from '../../../engine/jobtypes/free.ts';
import type { JobType } from '../../../engine/jobtypes/jobType.ts';
import { loadJobType } from '../../../engine/jobtypes/load.ts';
import { moveJobType } from '../../../engine/jobtypes/move.ts';
import { makeRoots, runCtx, verifyCtx, type TempRoots } from '../../unit/engine/jobtypes/fileJobs.fixture.ts';
import { startLoop, type RaceLoop } from './raceLoop.fixture.ts';

/** Each job type races for at most this many rounds or this long, whichever ends first. */
const MAX_ROUNDS = 5000;
const BUDGET_MS = 4000;
/** Rounds run side by side between two checks (more interleavings per second). */
const LANES = 4;
/** Fewer raced operations than this means the race barely ran: fail rather than pass vacuously. */
const MIN_OPERATIONS = 200;
/** Violations kept for the failure message (all are counted). */
const VIOLATIONS_SHOWN = 20;

const SIZE = 64;
/** Names present both in the safe directories (SAFE bytes) and outside (CANARY bytes). */
const SHARED = ['shared-0.txt', 'shared-1.txt', 'shared-2.txt'];
/** Names only outside: seeing one anywhere means something listed the outside directory. */
const SECRET = 'canary-secret';

const fill = (tag: string) => Buffer.from(tag.padEnd(SIZE, '.'));

/** The outside tree: every kind of thing a broken job could read, overwrite, create in or delete. */
const OUTSIDE_TREE: Record<string, Buffer> = {
  ...Object.fromEntries(SHARED.map((n) => [n, fill(`CANARY ${n}`)])),
  'shared-dir/x.txt': fill('CANARY x'),
  [`${SECRET}-a.txt`]: fill('CANARY a'),
  [`${SECRET}-dir/${SECRET}-b.txt`]: fill('CANARY b'),
};
const SAFE_TREE: Record<string, Buffer> = {
  ...Object.fromEntries(SHARED.map((n) => [n, fill(`SAFE ${n}`)])),
  'shared-dir/x.txt': fill('SAFE x'),
};

async function writeAll(dir: string, files: Record<string, Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
}

/** Every entry under `dir` without following symlinks: rel → content, `<dir>` or `-> target`. */
async function snapshot(dir: string, prefix = '', out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const name of (await readdir(dir)).sort()) {
    const abs = path.join(dir, name);
    const rel = path.posix.join(prefix, name);
    const st = await lstat(abs).catch(() => undefined);
    if (st === undefined) continue; // a flipper temp link that came and went
    if (st.isDirectory()) {
      out.set(rel, '<dir>');
      await snapshot(abs, rel, out);
    } else if (st.isFile()) out.set(rel, await readFile(abs, 'latin1'));
    else out.set(rel, '<other>');
  }
  return out;
}

/** One race: roots, the flipping thread, and everything observed so far. */
interface Race {
  r: TempRoots;
  loop: RaceLoop;
  /** The outside tree as it should still be. */
  outsideBefore: Map<string, string>;
  /** Every error message, item failure, verify message and planned name seen. */
  messages: string[];
  /** Invariant violations, with the round they were seen in (the first few), and how many in all. */
  violations: string[];
  violationCount: number;
  /** Job type operations (plan, run, verify) raced, and how many of them did real work. */
  operations: number;
  productive: number;
}

async function startRace(): Promise<Race> {
  const r = await makeRoots();
  await writeAll(r.outside, OUTSIDE_TREE);
  await mkdir(path.join(r.outside, `${SECRET}-empty`));
  for (const root of [r.dataDir, r.cacheDir]) await writeAll(path.join(root, 'safe'), SAFE_TREE);
  const outsideBefore = await snapshot(r.outside);
  const loop = startLoop({
    kind: 'flip',
    links: [r.dataDir, r.cacheDir].map((root) => ({ link: path.join(root, 'flip'), targets: ['safe', r.outside] as [string, string] })),
  });
  return { r, loop, outsideBefore, messages: [], violations: [], violationCount: 0, operations: 0, productive: 0 };
}

/** Runs `fn`, keeping any thrown message (failures are expected while the link points outside). */
async function attempt<T>(race: Race, fn: () => Promise<T>): Promise<T | undefined> {
  race.operations++;
  try {
    return await fn();
  } catch (e) {
    race.messages.push(e instanceof Error ? e.message : String(e));
    return undefined;
  }
}

function task(taskId: string, files: FileEntry[]): TaskPlan {
  return { taskId, payload: { files }, items: files.filter((f) => f.offset === 0).length, bytes: files.reduce((n, f) => n + f.length, 0) };
}

/** A task of whole files under `dir` and one of the two halves of the last file (ranges). */
function fixedTasks(dir: string): TaskPlan[] {
  const rel = (n: string) => path.posix.join(dir, n);
  const whole = SHARED.slice(0, -1).map((n) => ({ rel: rel(n), offset: 0, length: SIZE, size: SIZE }));
  const last = rel(SHARED.at(-1) ?? '');
  const half = SIZE / 2;
  return [task('t00000', whole), task('t00001', [{ rel: last, offset: 0, length: half, size: SIZE }, { rel: last, offset: half, length: half, size: SIZE }])];
}

/** Runs `tasks` (the plan's too, when planning succeeded) and verifies, as a worker and coordinator would. */
async function runAndVerify<S extends Record<string, unknown>>(race: Race, type: JobType<S>, spec: S, tasks: TaskPlan[]): Promise<void> {
  const results: TaskResult[] = [];
  for (const t of tasks) {
    const res = await attempt(race, () => type.run(spec, t.payload, runCtx(race.r, { taskId: t.taskId })));
    if (res === undefined) continue;
    results.push(res);
    if (res.itemsDone > 0 || res.bytesDone > 0) race.productive++;
    for (const f of res.failures) race.messages.push(f.item, f.error);
  }
  const outcome = await attempt(race, () => type.verify(spec, verifyCtx(race.r, tasks.slice(0, results.length), results)));
  if (outcome?.ok === true) race.productive++;
  else if (outcome !== undefined) race.messages.push(outcome.message);
}

/** Plans `spec` (noting every planned name) and, if that worked, runs and verifies the plan. */
async function planRunVerify<S extends Record<string, unknown>>(race: Race, type: JobType<S>, spec: S): Promise<void> {
  const tasks = await attempt(race, () => type.plan(spec, { jobId: 'j1', roots: race.r, signal: new AbortController().signal }));
  if (tasks === undefined) return;
  for (const t of tasks) race.messages.push(JSON.stringify(t.payload));
  await runAndVerify(race, type, spec, tasks);
}

function violation(race: Race, what: string): void {
  race.violationCount++;
  if (race.violations.length < VIOLATIONS_SHOWN) race.violations.push(what);
}

/** Entries that differ between two snapshots, with what happened to each. */
function changes(before: Map<string, string>, now: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [rel, v] of before) {
    if (!now.has(rel)) out.push(`${rel} deleted`);
    else if (now.get(rel) !== v) out.push(`${rel} overwritten`);
  }
  for (const rel of now.keys()) if (!before.has(rel)) out.push(`${rel} created`);
  return out;
}

/**
 * Records what broke after a round: canary bytes or names inside the roots, or any change outside
 * (then taken as the new baseline, so every later change is counted once).
 */
async function checkRound(race: Race, round: number): Promise<void> {
  for (const root of [race.r.dataDir, race.r.cacheDir]) {
    for (const [rel, content] of await snapshot(root)) {
      if (content.includes('CANARY')) violation(race, `round ${round}: ${path.basename(root)}/${rel} holds bytes read from outside`);
      if (rel.includes(SECRET)) violation(race, `round ${round}: ${path.basename(root)}/${rel} is named after an outside file`);
    }
  }
  const now = await snapshot(race.r.outside);
  const changed = changes(race.outsideBefore, now);
  if (changed.length > 0) {
    violation(race, `round ${round}: outside: ${changed.join(', ')}`);
    race.outsideBefore = now;
  }
}

/** Runs `round` in lanes until the budget is spent; then stops the flipper and asserts. */
async function race(t: TestContext, name: string, round: (race: Race) => Promise<void>): Promise<void> {
  const rc = await startRace();
  let rounds = 0;
  let flips = 0;
  try {
    const deadline = Date.now() + BUDGET_MS;
    while (rounds < MAX_ROUNDS && Date.now() < deadline) {
      await Promise.all(Array.from({ length: LANES }, () => round(rc)));
      await checkRound(rc, rounds);
      rounds += LANES;
    }
  } finally {
    flips = await rc.loop.stop();
    await rc.r.cleanup();
  }
  const leaked = rc.messages.filter((m) => m.includes(rc.r.outside) || m.includes(SECRET));
  t.diagnostic(
    `${name}: ${rounds} rounds, ${rc.operations} operations (${rc.productive} did work), ${flips} flips, ` +
      `${rc.messages.length} messages, ${rc.violationCount} violations, ${leaked.length} leaky messages`,
  );
  assert.deepEqual(rc.violations, [], `${name}: nothing outside may be read, written, created or deleted`);
  assert.deepEqual(leaked.slice(0, 5), [], `${name}: no message may name anything outside the roots`);
  assert.ok(rc.operations >= MIN_OPERATIONS, `${name}: only ${rc.operations} operations ran`);
  assert.ok(rc.productive > 0, `${name}: no operation got through while the link pointed inside`);
}

async function refill(dir: string): Promise<void> {
  for (const [rel, content] of Object.entries(SAFE_TREE)) {
    const abs = path.join(dir, rel);
    if (await lstat(abs).then(() => false, () => true)) await writeAll(dir, { [rel]: content });
  }
}

describe('file job types against a symlink swapped between inside and outside the roots', () => {
  it('load: reads and writes through the link (plan, whole files, ranges, verify)', async (t) => {
    await race(t, 'load', async (rc) => {
      const spec = { path: 'flip' };
      await planRunVerify(rc, loadJobType, spec);
      await runAndVerify(rc, loadJobType, spec, fixedTasks('flip'));
    });
  });

  it('copy: from the link, and into a directory below the link', async (t) => {
    await race(t, 'copy', async (rc) => {
      const from: CopySpec = { src: 'flip', dst: 'out' };
      await planRunVerify(rc, copyJobType, from);
      await runAndVerify(rc, copyJobType, from, fixedTasks(''));
      await runAndVerify(rc, copyJobType, { src: 'safe', dst: 'flip/sub' }, fixedTasks(''));
    });
  });

  it('move: deletes sources through the link, and moves into it', async (t) => {
    await race(t, 'move', async (rc) => {
      await refill(path.join(rc.r.dataDir, 'safe'));
      await refill(path.join(rc.r.dataDir, 'msrc'));
      await runAndVerify(rc, moveJobType, { src: 'flip', dst: 'moved' }, fixedTasks(''));
      await planRunVerify(rc, moveJobType, { src: 'msrc', dst: 'flip/moved' });
    });
  });

  it('free: evicts a file and a directory below the link', async (t) => {
    await race(t, 'free', async (rc) => {
      await refill(path.join(rc.r.cacheDir, 'safe'));
      await planRunVerify(rc, freeJobType, { path: 'flip/shared-0.txt' });
      await planRunVerify(rc, freeJobType, { path: 'flip/shared-dir' });
    });
  });
});
