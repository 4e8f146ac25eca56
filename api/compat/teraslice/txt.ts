/**
 * `/txt/*`: the original's easy-table text: a header row, a dashes row, then one row per record,
 * columns padded and two spaces apart; `fields` (comma or space separated) chooses the columns,
 * `headers=false` drops the first two rows, a missing value prints `N/A` (clients.md §2.3).
 */
import type { FastifyRequest } from 'fastify';
import { list, param } from './query.ts';

export const DEFAULT_FIELDS = {
  jobs: ['job_id', 'name', 'active', 'lifecycle', 'slicers', 'workers', '_created', '_updated'],
  ex: ['name', 'lifecycle', 'slicers', 'workers', '_status', 'ex_id', 'job_id', '_created', '_updated'],
  nodes: ['node_id', 'state', 'hostname', 'total', 'active', 'pid', 'teraslice_version', 'node_version'],
  workers: ['assignment', 'job_id', 'ex_id', 'node_id', 'pid'],
  slicers: ['name', 'job_id', 'workers_available', 'workers_active', 'failed', 'queued', 'processed'],
} as const;

function cell(v: unknown): string {
  if (v === undefined || v === null) return 'N/A';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  // one line per row: control characters would break (or forge) the table
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** The table of `records` with the request's `fields` (else `defaults`) and `headers`. */
export function makeTable(request: FastifyRequest, records: readonly Record<string, unknown>[], defaults: readonly string[]): string {
  const fields = list(param(request, 'fields')) ?? [...defaults];
  const rows = records.map((r) => fields.map((f) => cell(r[f])));
  const widths = fields.map((f, i) => Math.max(f.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out: string[] = [];
  if (param(request, 'headers') !== 'false') {
    out.push(line(fields));
    out.push(line(widths.map((w) => '-'.repeat(w))));
  }
  for (const r of rows) out.push(line(r));
  return `${out.join('\n')}\n`;
}
