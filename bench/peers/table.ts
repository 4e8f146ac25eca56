/**
 * The peer bench's one table: a row per figure, a column per system, and the ratios of ours to
 * the peer (BullMQ, or `cp -r` for the load scenarios) and to raw JetStream.
 */
import { fmt } from '../measure.ts';

/**
 * A figure of one system: a number; parts that add up (shown `a + b`, compared by their sum); a
 * reason there is none (`n/a …`); or nothing (the system has no part in this scenario).
 */
export type Cell = number | { parts: number[] } | string | undefined;

export interface Row {
  scenario: string;
  figure: string;
  better: 'higher' | 'lower';
  digits: number;
  ours: Cell;
  peer: Cell;
  raw: Cell;
}

const value = (c: Cell): number | undefined =>
  typeof c === 'number' ? c : typeof c === 'object' ? c.parts.reduce((a, b) => a + b, 0) : undefined;

function show(c: Cell, digits: number): string {
  if (c === undefined) return '—';
  if (typeof c === 'string') return c;
  if (typeof c === 'number') return Number.isFinite(c) ? fmt(c, digits) : '—';
  return `${fmt(value(c) ?? NaN, digits)} = ${c.parts.map((p) => fmt(p, digits)).join(' + ')}`;
}

/** `a / b` as `0.12×`, or — when either is missing. */
export function ratio(a: Cell, b: Cell): string {
  const [x, y] = [value(a), value(b)];
  if (x === undefined || y === undefined || !Number.isFinite(x / y)) return '—';
  return `${fmt(x / y, x / y >= 100 ? 0 : 2)}×`;
}

/** The rows as one markdown table; a scenario's name is printed on its first row only. */
export function renderTable(rows: Row[]): string {
  const lines = [
    '| scenario | figure | jetjobs | peer: BullMQ (load: `cp -r`) | jetjobs / peer | raw JetStream | jetjobs / raw |',
    '|---|---|---|---|---|---|---|',
  ];
  let prev = '';
  for (const r of rows) {
    const cells = [r.scenario === prev ? '' : r.scenario, `${r.figure} (${r.better} is better)`,
      show(r.ours, r.digits), show(r.peer, r.digits), ratio(r.ours, r.peer), show(r.raw, r.digits), ratio(r.ours, r.raw)];
    lines.push(`| ${cells.join(' | ')} |`);
    prev = r.scenario;
  }
  return lines.join('\n');
}
