import { useEffect, useRef, useState } from 'preact/hooks';
import { logout } from './client/client.ts';
import { getSession, onSession, type Session } from './client/session.ts';
import { Link } from './components/Link.tsx';
import { useLiveStatus } from './live/hooks.ts';
import { JobPage } from './pages/JobPage.tsx';
import { JobsPage } from './pages/JobsPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { OverviewPage } from './pages/OverviewPage.tsx';
import { WorkersPage } from './pages/WorkersPage.tsx';
import { navigate, useLocation } from './router.ts';

const JOB_PATH = /^\/jobs\/([0-9a-f-]{36})$/;

function useSession(): Session | null {
  const [s, set] = useState(getSession);
  useEffect(() => onSession(set), []);
  return s;
}

function LiveIndicator() {
  const s = useLiveStatus();
  const text = s === 'live' ? 'Live' : s === 'reconnecting' ? 'Reconnecting…' : s === 'connecting' ? 'Connecting…' : 'Not live';
  return <span class={`live live-${s}`} role="status" data-testid="live-status">{text}</span>;
}

/** The shell: skip link, header with navigation and the user, the page for the URL, a status line for actions. */
export function App() {
  const session = useSession();
  const loc = useLocation();
  const [notice, setNotice] = useState('');
  const [ended, setEnded] = useState(false);
  const main = useRef<HTMLElement>(null);
  const had = useRef(session !== null);

  useEffect(() => {
    if (had.current && session === null) setEnded(true);
    had.current = session !== null;
  }, [session]);

  // a new page: its title, and focus on the main region so keyboard and screen-reader users start there
  useEffect(() => {
    const h1 = main.current?.querySelector('h1');
    document.title = `${h1?.textContent ?? 'jetjobs'} · jetjobs`;
    if (document.activeElement === document.body || document.activeElement === null) return;
    main.current?.focus({ preventScroll: true });
  }, [loc.path]);

  if (session === null) {
    return (
      <main id="main" ref={main} tabIndex={-1}>
        <LoginPage ended={ended} onLoggedIn={() => { setEnded(false); if (loc.path === '/login') navigate('/', true); }} />
      </main>
    );
  }

  const job = JOB_PATH.exec(loc.path);
  let page;
  if (loc.path === '/' || loc.path === '/login') page = <OverviewPage />;
  else if (loc.path === '/jobs') page = <JobsPage params={loc.params} />;
  else if (job !== null) page = <JobPage id={job[1]!} notify={setNotice} />;
  else if (loc.path === '/workers') page = <WorkersPage />;
  else page = <section><h1>Not found</h1><p>No page at this address. <Link to="/">Overview</Link></p></section>;
  const current = (p: string) => (loc.path === p || (p === '/jobs' && job !== null) ? 'page' : undefined);

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">jetjobs</span>
        <nav aria-label="Main">
          <Link to="/" aria-current={current('/')}>Overview</Link>
          <Link to="/jobs" aria-current={current('/jobs')}>Jobs</Link>
          <Link to="/workers" aria-current={current('/workers')}>Workers</Link>
        </nav>
        <LiveIndicator />
        <span class="who" data-testid="who">{session.user} ({session.role})</span>
        <button type="button" onClick={() => void logout()}>Sign out</button>
      </header>
      <p class="notice" role="status" aria-live="polite">{notice}</p>
      <main id="main" ref={main} tabIndex={-1}>{page}</main>
    </>
  );
}
