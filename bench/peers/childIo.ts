/**
 * The child side of the peer bench's process protocol (the parent side is pair.ts): a child reads
 * its JSON config from argv[2], writes one JSON object per stdout line, and waits for words
 * (`finish`, `exit`) on stdin lines. When stdin ends (the parent is gone), every wait resolves, so
 * a child never outlives the bench.
 */
import { createInterface } from 'node:readline';
import { pct, wall } from '../measure.ts';
import type { WorkerReport } from './workload.ts';

/** The config the parent passed (argv[2], JSON). */
export function childConfig<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** Sends one message (a JSON line) to the parent. */
export function tell(msg: object): void {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

const waiting = new Map<string, () => void>();
/** Words already said (before anyone waited for them), and `eof` once stdin ended. */
const said = new Set<string>();
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  said.add(line.trim());
  waiting.get(line.trim())?.();
});
input.on('close', () => {
  said.add('eof');
  for (const resolve of waiting.values()) resolve();
});

/** Resolves when the parent writes `word` (or goes away). */
export function heard(word: 'finish' | 'exit'): Promise<void> {
  if (said.has(word) || said.has('eof')) return Promise.resolve();
  return new Promise((resolve) => waiting.set(word, resolve));
}

/** Counts terminal states and their latencies until `expected` are in. */
export function completions(expected: number) {
  const latencies: number[] = [];
  let last = 0;
  let allIn: () => void = () => {};
  const all = new Promise<void>((r) => (allIn = r));
  if (expected <= 0) allIn();
  return {
    /** Resolves when `expected` terminal states were recorded. */
    all,
    /** One terminal state now, of a job submitted (or due) at `sentAt`. */
    record(sentAt: number): void {
      last = wall();
      latencies.push(last - sentAt);
      if (latencies.length === expected) allIn();
    },
    report(): WorkerReport {
      return { done: latencies.length, last, p50: pct(latencies, 50), p99: pct(latencies, 99), p999: pct(latencies, 99.9) };
    },
  };
}

/** Stops reading stdin so the process can exit. */
export function closeInput(): void {
  input.close();
}
