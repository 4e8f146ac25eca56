/** Query parameters as Teraslice reads them: one value each, `size`/`from`/`sort` for listings. */
import type { FastifyRequest } from 'fastify';
import { TerasliceError } from './errors.ts';

/** The parameter's value (the first, when repeated); undefined when absent. */
export function param(request: FastifyRequest, name: string): string | undefined {
  const v = (request.query as Record<string, unknown> | undefined)?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s : undefined;
}

/** Most records a listing returns at once. */
export const MAX_SIZE = 10_000;

export interface Page {
  size: number;
  from: number;
  sort: { field: string; desc: boolean };
}

const SORTABLE = new Set(['_created', '_updated', 'name', '_status', 'job_id', 'ex_id', 'slicer_order']);

/** `size` (default 100), `from` (0), `sort` (`field:asc|desc`, default `_updated:desc`). */
export function page(request: FastifyRequest, defaults: { sort?: string } = {}): Page {
  const int = (name: string, dflt: number, max: number) => {
    const raw = param(request, name);
    if (raw === undefined || raw === '') return dflt;
    if (!/^\d{1,9}$/.test(raw)) throw new TerasliceError(400, `${name} must be a number between 0 and ${max}`);
    return Math.min(Number(raw), max);
  };
  const sortText = param(request, 'sort') ?? defaults.sort ?? '_updated:desc';
  const m = /^([A-Za-z_]{1,32}):(asc|desc)$/.exec(sortText);
  if (!m || !SORTABLE.has(m[1]!)) throw new TerasliceError(400, `sort must be one of ${[...SORTABLE].join(', ')} followed by :asc or :desc`);
  return { size: int('size', 100, MAX_SIZE), from: int('from', 0, 1_000_000), sort: { field: m[1]!, desc: m[2] === 'desc' } };
}

/** Sorts records by the page's field and cuts the page. */
export function cut<T extends Record<string, unknown>>(records: T[], p: Page): T[] {
  const { field, desc } = p.sort;
  const sorted = [...records].sort((a, b) => {
    const u = a[field];
    const v = b[field];
    if (typeof u === 'number' && typeof v === 'number') return u - v;
    const x = String(u ?? '');
    const y = String(v ?? '');
    return x < y ? -1 : x > y ? 1 : 0;
  });
  if (desc) sorted.reverse();
  return sorted.slice(p.from, p.from + p.size);
}

/** `true`/`false` query flags; anything else is `fallback`. */
export function flag(request: FastifyRequest, name: string, fallback: boolean | undefined): boolean | undefined {
  const v = param(request, name);
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fallback;
}

/** A comma (or space) separated list. */
export function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(/[,\s]+/).map((s) => s.trim()).filter((s) => s !== '');
  return items.length > 0 ? items.slice(0, 64) : undefined;
}
