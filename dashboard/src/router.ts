/**
 * Routing by the History API under `/ui/`: every page has its own URL (deep links: `/ui/jobs/<id>`,
 * `/ui/jobs?state=FAILED`), the server answers any `/ui/…` path with the app.
 */
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui';

export interface Location {
  /** The path below BASE: `/`, `/jobs`, `/jobs/<id>`, `/workers`, `/login`. */
  path: string;
  params: URLSearchParams;
}

function current(): Location {
  const p = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : '/';
  return { path: p === '' ? '/' : p, params: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

/** Goes to `to` (below BASE, with its query); `replace` keeps the history entry. */
export function navigate(to: string, replace = false): void {
  const url = BASE + to;
  if (url === window.location.pathname + window.location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () => setLoc(current());
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return loc;
}

/** A link's href for a path below BASE. */
export function href(to: string): string {
  return BASE + to;
}

/** Click handler for in-app links: plain clicks navigate here, modified ones (new tab) go to the browser. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null);
  if (a === null || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href);
  if (url.origin !== window.location.origin || !url.pathname.startsWith(BASE)) return;
  e.preventDefault();
  navigate(url.pathname.slice(BASE.length) + url.search);
}
