/** How numbers, times and sizes read on the pages. */

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

/** `12:03:04` today, else `2026-12-05 12:03`. */
export function time(iso: string | null): string {
  if (iso === null) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date().toDateString() === d.toDateString();
  const pad = (n: number) => String(n).padStart(2, '0');
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return today ? hms : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms}`;
}

export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return '—';
  const ms = now - Date.parse(iso);
  return ms < 0 ? time(iso) : `${duration(ms)} ago`;
}

/** The facades' names as their users know them. */
export const ORIGIN_NAMES: Readonly<Record<string, string>> = {
  native: 'native API', alluxio: 'Alluxio', teraslice: 'Teraslice', spark: 'Spark Jobserver', openpai: 'OpenPAI',
};

export function originName(origin: string | null): string {
  return origin === null ? 'not recorded' : ORIGIN_NAMES[origin] ?? origin;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
