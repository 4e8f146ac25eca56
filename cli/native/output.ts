/**
 * How the native commands print an answer: `-o table` (for people: aligned columns or `key: value`
 * lines), `json` (the API's answer, indented), `yaml`, `ndjson` (one JSON document a line: a list's
 * items, or the one answer). Every cell of a table has its control characters escaped: server text
 * never drives the terminal.
 */
import { dump } from 'js-yaml';
import { InvalidArgumentError } from 'commander';
import { printable } from '../http.ts';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'ndjson'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** commander's parser of `-o`. */
export function outputFormat(value: string): OutputFormat {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${OUTPUT_FORMATS.join(', ')}`);
  return value as OutputFormat;
}

/** `value` in `format`; `table` is the command's own layout. */
export function formatOutput(value: unknown, format: OutputFormat, table: () => string): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(value, null, 2)}\n`;
    case 'yaml':
      return dump(value, { lineWidth: -1, noRefs: true });
    case 'ndjson':
      return (Array.isArray(value) ? value : [value]).map((v) => `${JSON.stringify(v)}\n`).join('');
    case 'table':
      return table();
  }
}

/** Aligned columns under a header; an empty list is the header alone. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [headers, ...rows].map((r) => r.map((c) => printable(c).replace(/\n/g, ' ')));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n').join('');
}

/** `key: value` lines, keys aligned; pairs whose value is null are left out. */
export function renderFields(pairs: readonly (readonly [string, string | null])[]): string {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== null);
  const width = Math.max(...shown.map(([k]) => k.length)) + 1;
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)} ${printable(v)}\n`).join('');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u]}`;
}

/** `75_000` → `1m15s`; under a minute with a tenth of a second below 10 s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h${String(m % 60).padStart(2, '0')}m` : `${Math.floor(h / 24)}d${h % 24}h`;
}

/** How long ago `iso` was, at `nowMs` (`3m12s`); `-` for none. */
export function age(iso: string | null | undefined, nowMs: number): string {
  if (iso === null || iso === undefined) return '-';
  return formatDuration(nowMs - Date.parse(iso));
}
