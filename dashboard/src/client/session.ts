/**
 * The logged-in user: the bearer token and who it is, kept in sessionStorage (this tab only, gone
 * when it closes; not localStorage, which every tab and later visit would share), and announced to
 * whoever subscribed (the app shell) when it changes.
 */
import type { Role } from './types.ts';

export interface Session {
  token: string;
  user: string;
  role: Role;
  expiresAt: string;
}

const KEY = 'jetjobs.session';
const listeners = new Set<(s: Session | null) => void>();
let current: Session | null = read();

function read(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return s !== null && Date.parse(s.expiresAt) > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  return current;
}

export function setSession(s: Session | null): void {
  current = s;
  if (s === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, JSON.stringify(s));
  for (const l of listeners) l(s);
}

export function onSession(l: (s: Session | null) => void): () => void {
  listeners.add(l);
  return () => void listeners.delete(l);
}

/** Operators and admins may submit and control jobs (the API still checks every call). */
export function mayControl(s: Session | null): boolean {
  return s !== null && (s.role === 'operator' || s.role === 'admin');
}
