/**
 * Small measuring helpers shared by the benches and their child processes (load generator, peer
 * producers and workers). Imports nothing of the engine, so a child that needs only these starts fast.
 */
import { readFileSync } from 'node:fs';

/** The `p`th percentile of `xs` (nearest rank; NaN when empty). */
export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** `n` with thousands separators and `d` decimals. */
export const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * Wall-clock ms with sub-ms precision. Comparable across processes on one machine: latencies are
 * stamped in one process (the producer) and ended in another (the service or a worker).
 */
export const wall = () => performance.timeOrigin + performance.now();

/** USER_HZ: 100 on every Linux build Node supports. */
const CLOCK_TICKS = 100;

/** CPU time (user+system, ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
