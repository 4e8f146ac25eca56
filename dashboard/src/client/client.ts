/** Calls to the native API with the session's bearer token; errors keep the API's stable code. */
import { getSession, setSession, type Session } from './session.ts';

export const API_PREFIX = '/native/v1';

/** An answer other than 2xx: the API's `{ statusCode, code, message }`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const b = (await res.json()) as { code?: string; message?: string };
    return new ApiError(res.status, b.code ?? 'HTTP_' + res.status, b.message ?? res.statusText);
  } catch {
    return new ApiError(res.status, 'HTTP_' + res.status, res.statusText);
  }
}

/** JSON from `path` (under the API prefix); a 401 ends the session (the app shows the login). */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const s = getSession();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (s !== null) headers['authorization'] = `Bearer ${s.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(API_PREFIX + path, {
    method: init.method ?? 'GET', headers, cache: 'no-store',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.signal !== undefined ? { signal: init.signal } : {}),
  });
  if (res.status === 401 && s !== null) setSession(null);
  if (!res.ok) throw await errorOf(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export async function login(username: string, password: string): Promise<Session> {
  const r = await api<{ token: string; expiresAt: string; user: { name: string; role: Session['role'] } }>('/auth/login', {
    method: 'POST', body: { username, password },
  });
  const s: Session = { token: r.token, user: r.user.name, role: r.user.role, expiresAt: r.expiresAt };
  setSession(s);
  return s;
}

/** Revokes the token on the server, then forgets it here (also when the server cannot be reached). */
export async function logout(): Promise<void> {
  try {
    await api('/auth/logout', { method: 'POST' });
  } finally {
    setSession(null);
  }
}

/** `?a=1&b=2` from the defined, non-empty entries. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
