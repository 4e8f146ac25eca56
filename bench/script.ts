/**
 * `node --import tsx bench/script.ts`: what a `script` job costs beside its reference, the same
 * runner started by hand. For each runtime (node, python, java when a JVM is found) it runs the
 * word count N times one after the other through the engine (submit → SUCCEEDED: binary fetched
 * from the object store, work dir, sandbox uid, limits, task log, result event) and N times as a
 * bare `spawn` of the same runner in a prepared dir, and prints p50/p99 of both and the overhead;
 * then a burst of C concurrent jobs (node) as jobs/s. Engine in this process on its own
 * nats-server. Prints figures; asserts nothing.
 *
 *   JETJOBS_BENCH_N=20 JETJOBS_BENCH_CONCURRENT=16 node --import tsx bench/script.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveConfig, silentLogger, startEngine, SYSTEM_CALLER, type Engine, type JobView } from '../engine/index.ts';
import { findNatsServerBin, startEmbeddedNats } from '../engine/nats/embeddedServer.ts';
import { runnerCommand } from '../engine/jobtypes/script/runners/index.ts';
import { javaRunnerClasses } from '../engine/jobtypes/script/javaRunnerClasses.ts';

const N = Number(process.env['JETJOBS_BENCH_N'] ?? 20);
const CONCURRENT = Number(process.env['JETJOBS_BENCH_CONCURRENT'] ?? 16);
const REPO = join(import.meta.dirname, '..');
const CONFIG = { input: { string: 'a b c a b see' } };
const MIB = 1024 * 1024;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

async function finished(engine: Engine, id: string): Promise<JobView> {
  const ac = new AbortController();
  try {
    for await (const m of engine.service.live({ caller: SYSTEM_CALLER, jobId: id, signal: ac.signal })) {
      const j = m.kind === 'snapshot' ? m.jobs[0] : m.kind === 'event' ? m.job : null;
      if (j && ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(j.state)) return j;
    }
    throw new Error('live ended');
  } finally {
    ac.abort();
  }
}

async function viaEngine(engine: Engine, binary: string, classPath: string): Promise<number> {
  const t0 = performance.now();
  const { job } = await engine.service.submit({ type: 'script', spec: { binary, classPath, config: CONFIG } }, { caller: SYSTEM_CALLER });
  const j = await finished(engine, job.id);
  if (j.state !== 'SUCCEEDED') throw new Error(`${binary}: ${JSON.stringify(j.error)}`);
  return performance.now() - t0;
}

/** The runner by hand: a prepared dir with the binary and job.json, one spawn, wait for exit. */
async function bare(runtime: 'node' | 'python' | 'java', dir: string, file: string, exe: { node: string; python: string; java: string; javaClassDir?: string }, classPath: string): Promise<number> {
  await writeFile(join(dir, 'job.json'), JSON.stringify({ classPath, config: CONFIG, jobId: 'x', taskId: 't00000', context: null }));
  const cmd = runnerCommand(runtime, { binaryPath: join(dir, file), memoryLimitBytes: 2048 * MIB, nodePath: exe.node, pythonPath: exe.python, javaPath: exe.java, ...(exe.javaClassDir ? { javaClassDir: exe.javaClassDir } : {}) });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const p = spawn(cmd.command, cmd.args, { cwd: dir, stdio: 'ignore', env: { PATH: '/usr/bin:/bin', HOME: dir } });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${runtime} runner exited ${code}`))));
  });
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'jetjobs-bench-script-'));
  await chmod(stateDir, 0o711);
  const nats = await startEmbeddedNats({ bin: await findNatsServerBin(), port: 0, storeDir: join(stateDir, 'nats') });
  const engine = await startEngine(resolveConfig({ natsUrl: nats.url, stateDir, scriptJava: '/usr/bin/java', roles: ['coordinator', 'worker'] }), silentLogger);
  try {
    const work = join(stateDir, 'build');
    await mkdir(work);
    const wheel = join(work, 'wc.whl');
    execFileSync('python3', [join(REPO, 'examples/spark/build-python-wheel.py'), wheel]);
    const jar = join(work, 'wc.jar');
    let java = true;
    try {
      execFileSync('bash', [join(REPO, 'examples/spark/build-java-example.sh'), jar], { stdio: 'ignore' });
    } catch {
      java = false;
    }
    const put = async (name: string, file: string, contentType: string) =>
      engine.binaries.put(name, { contentType, source: (async function* () { yield await readFile(file); })(), maxBytes: 64 * MIB, uploadedBy: 'bench' });
    await put('wc-js', join(REPO, 'examples/spark/word-count.mjs'), 'application/javascript');
    await put('wc-py', wheel, 'application/python-wheel');
    if (java) await put('wc-java', jar, 'application/java-archive');
    const rt = engine.scriptRuntimes;
    const javaPath = 'path' in rt.java ? rt.java.path : '';
    // the reference runs the runner as the engine does: compiled once when a javac is there
    const javaClassDir = await javaRunnerClasses(join(work, 'runners'), () => javaPath || undefined, silentLogger)();
    const exe = { node: 'path' in rt.node ? rt.node.path : '', python: 'path' in rt.python ? rt.python.path : '', java: javaPath, ...(javaClassDir ? { javaClassDir } : {}) };
    const cases = [
      { runtime: 'node' as const, binary: 'wc-js', file: 'app.mjs', src: join(REPO, 'examples/spark/word-count.mjs'), classPath: 'WordCountExample' },
      { runtime: 'python' as const, binary: 'wc-py', file: 'app.whl', src: wheel, classPath: 'word_count.WordCountSparkJob' },
      ...(java ? [{ runtime: 'java' as const, binary: 'wc-java', file: 'app.jar', src: jar, classPath: 'WordCountExample' }] : []),
    ];
    console.log(`script jobs, ${N} sequential runs each (word count), engine vs the same runner spawned by hand`);
    console.log('runtime  | engine p50 | engine p99 | bare p50 | bare p99 | overhead p50');
    for (const c of cases) {
      const dir = join(work, `bare-${c.runtime}`);
      await mkdir(dir);
      await cp(c.src, join(dir, c.file));
      await viaEngine(engine, c.binary, c.classPath); // warm-up
      await bare(c.runtime, dir, c.file, exe, c.classPath);
      const e: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < N; i++) {
        e.push(await viaEngine(engine, c.binary, c.classPath));
        b.push(await bare(c.runtime, dir, c.file, exe, c.classPath));
      }
      console.log(`${c.runtime.padEnd(8)} | ${ms(pct(e, 50)).padStart(10)} | ${ms(pct(e, 99)).padStart(10)} | ${ms(pct(b, 50)).padStart(8)} | ${ms(pct(b, 99)).padStart(8)} | ${ms(pct(e, 50) - pct(b, 50)).padStart(12)}`);
    }
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENT }, () => viaEngine(engine, 'wc-js', 'WordCountExample')));
    const s = (performance.now() - t0) / 1000;
    console.log(`burst: ${CONCURRENT} node jobs at once in ${s.toFixed(2)} s = ${(CONCURRENT / s).toFixed(1)} jobs/s`);
  } finally {
    await engine.shutdown();
    await nats.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

await main();
