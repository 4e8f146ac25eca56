/**
 * How a producer sends its jobs, the same for every system the peer bench compares (our load
 * generator, bench/loadgen.ts, and the BullMQ and raw JetStream producers in bench/peers/), so that
 * only the system differs between the columns.
 */
import { wall } from './measure.ts';

/** One way of pacing submissions. */
export type Pacing =
  /** One job per call, `inflight` calls outstanding (closed loop). */
  | { kind: 'single'; inflight: number }
  /** `batch` jobs per call, `inflight` calls outstanding (closed loop). */
  | { kind: 'bulk'; batch: number; inflight: number }
  /** One job per call; job i is due at start + i/perSec whether or not earlier calls returned (open loop). */
  | { kind: 'rate'; perSec: number };

/** What a producer does per call. Neither method rejects: a sender counts its own failures. */
export interface Sender {
  /** Sends one job stamped `at` (wall ms; its latency counts from there); resolves when accepted. */
  one(at: number): Promise<void>;
  /** Sends `n` jobs stamped `at` in one call; resolves when accepted. */
  many(at: number, n: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `jobs` jobs through `sender` as `pacing` says, until done or `stop()` says so (checked
 * before each call). Resolves with the wall time of the start once every call has returned.
 */
export async function pace(jobs: number, pacing: Pacing, sender: Sender, stop: () => boolean = () => false): Promise<number> {
  const t0 = wall();
  let next = 0;
  if (pacing.kind === 'rate') {
    const calls: Promise<void>[] = [];
    for (; next < jobs && !stop(); next++) {
      const due = t0 + (next * 1000) / pacing.perSec;
      const now = wall();
      if (due > now) await sleep(due - now);
      calls.push(sender.one(due));
    }
    await Promise.all(calls);
    return t0;
  }
  const perCall = pacing.kind === 'bulk' ? pacing.batch : 1;
  await Promise.all(Array.from({ length: pacing.inflight }, async () => {
    while (next < jobs && !stop()) {
      const n = Math.min(perCall, jobs - next);
      next += n;
      await (pacing.kind === 'bulk' ? sender.many(wall(), n) : sender.one(wall()));
    }
  }));
  return t0;
}

/** Reads a pacing from command-line flags: `--rate R`, or `--batch B [--inflight I]`, else single with `--inflight I`. */
export function pacingFromArgs(arg: (name: string) => number | undefined, dfltInflight: number): Pacing {
  const rate = arg('rate');
  if (rate !== undefined) return { kind: 'rate', perSec: rate };
  const batch = arg('batch');
  const inflight = arg('inflight') ?? dfltInflight;
  return batch === undefined ? { kind: 'single', inflight } : { kind: 'bulk', batch, inflight };
}

/** The same pacing as command-line flags (the inverse of {@link pacingFromArgs}). */
export function pacingArgs(p: Pacing): string[] {
  if (p.kind === 'rate') return ['--rate', String(p.perSec)];
  if (p.kind === 'bulk') return ['--batch', String(p.batch), '--inflight', String(p.inflight)];
  return ['--inflight', String(p.inflight)];
}
