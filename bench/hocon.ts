/**
 * Parse speed of the Spark Jobserver facade's HOCON parser (api/compat/spark/hocon.ts) on the 1 MB
 * inputs of docs/research/hocon-parsers.md §2c, beside JSON.parse on the JSON one.
 * `node --import tsx bench/hocon.ts [--runs N]` prints, per input, the best and median of N runs
 * (default 30) in ms and the MB/s of the best. Nothing is asserted.
 */
import { parseHocon } from '../api/compat/spark/hocon.ts';

const MB = 1024 * 1024;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 30;

function realisticConfig(bytes: number): string {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const line = `job${i}.input.string = a b c a b see\njob${i}.n = ${i}\njob${i}.list = [1, 2, 3]\n`;
    lines.push(line);
    n += line.length;
  }
  return lines.join('');
}

const json = JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, { s: 'a b c a b see', n: i, l: [1, 2, 3] }])));
const inputs: [name: string, text: string, parse: (text: string) => unknown][] = [
  ['1 MB quoted string', `s = "${'x'.repeat(MB)}"`, parseHocon],
  ['1 MB escaped string', `s = "${'ab\\n'.repeat(MB / 4)}"`, parseHocon],
  ['1 MB unquoted string', `s = ${'word '.repeat(MB / 5).trim()}`, parseHocon],
  ['1 MB realistic config', realisticConfig(MB), parseHocon],
  ['1 MB JSON', json, parseHocon],
  ['1 MB JSON, JSON.parse', json, JSON.parse],
];

console.log(`node ${process.version}, ${RUNS} runs each`);
for (const [name, text, parse] of inputs) {
  const ms: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    parse(text);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const best = ms[0] ?? NaN;
  const median = ms[Math.floor(ms.length / 2)] ?? NaN;
  const mbPerS = text.length / MB / (best / 1000);
  console.log(`${name.padEnd(24)} ${(text.length / MB).toFixed(2)} MB  best ${best.toFixed(1)} ms  median ${median.toFixed(1)} ms  ${mbPerS.toFixed(0)} MB/s`);
}
