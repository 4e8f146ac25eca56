import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, login } from '../client/client.ts';

/** User name and password for a bearer token (`POST /auth/login`); the token stays in this tab's sessionStorage. */
export function LoginPage({ onLoggedIn, ended }: { onLoggedIn: () => void; ended: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const user = useRef<HTMLInputElement>(null);
  useEffect(() => user.current?.focus(), []);
  async function submit(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await login(String(f.get('username') ?? ''), String(f.get('password') ?? ''));
      onLoggedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'INVALID_CREDENTIALS' ? 'Wrong user name or password.' : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="login" aria-labelledby="h-login">
      <h1 id="h-login">Sign in to jetjobs</h1>
      {ended && <p class="note" role="status">Your session ended; sign in again.</p>}
      <form onSubmit={submit}>
        <label for="username">User name</label>
        <input id="username" name="username" ref={user} autocomplete="username" required maxLength={32} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required maxLength={256} />
        {error !== null && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </section>
  );
}
