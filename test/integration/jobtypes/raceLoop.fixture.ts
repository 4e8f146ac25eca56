/**
 * Tight loops in a worker thread (a real second thread, so they interleave with the main thread's
 * file operations at the syscall level) for race tests: swapping symlinks, or creating and
 * deleting directories.
 */
import { symlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Swap each `link` between its two targets, atomically (symlink to a temp name, rename over). */
export interface FlipLoop {
  kind: 'flip';
  links: { link: string; targets: [string, string] }[];
}

/** Create `dirs` (each with its parents) and delete them again, deepest first. */
export interface ChurnLoop {
  kind: 'churn';
  dirs: string[];
}

/** A running loop; `stop()` ends it and resolves with how many rounds it ran. */
export interface RaceLoop {
  stop(): Promise<number>;
}

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const stop = new Int32Array(workerData.stop);
const spec = workerData.spec;
const quiet = (fn) => { try { fn(); } catch {} };
let rounds = 0;
while (Atomics.load(stop, 0) === 0) {
  if (spec.kind === 'flip') {
    for (const { link, targets } of spec.links) {
      const tmp = link + '.flip-tmp';
      quiet(() => fs.unlinkSync(tmp));
      fs.symlinkSync(targets[(rounds + 1) % 2], tmp);
      fs.renameSync(tmp, link);
    }
  } else {
    for (const dir of spec.dirs) quiet(() => fs.mkdirSync(dir, { recursive: true }));
    for (const dir of spec.dirs) {
      for (let d = dir; d !== spec.base; d = path.dirname(d)) quiet(() => fs.rmdirSync(d));
    }
  }
  rounds++;
}
parentPort.postMessage(rounds);
`;

/**
 * Starts `spec` in a worker thread; for churn, `base` bounds the deletes (never removed itself).
 * Flip links are created here first, so nothing can take their place before the thread starts.
 */
export function startLoop(spec: FlipLoop | (ChurnLoop & { base: string })): RaceLoop {
  if (spec.kind === 'flip') for (const { link, targets } of spec.links) symlinkSync(targets[0], link);
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { stop, spec } });
  // Settled either way, so a loop that dies early is reported by stop(), not as an unhandled rejection.
  const rounds = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).then(
    (n) => ({ n }),
    (error: unknown) => ({ error }),
  );
  return {
    async stop() {
      Atomics.store(new Int32Array(stop), 0, 1);
      const outcome = await rounds;
      await worker.terminate();
      if ('error' in outcome) throw outcome.error;
      return outcome.n;
    },
  };
}
