/** Hooks the pages share: a live stream bound to a component, the stream's status for the header, throttled refreshes. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveMessage } from '../client/types.ts';
import { openLiveStream, type LiveStatus } from './liveStream.ts';

const statusListeners = new Set<(s: LiveStatus) => void>();
let lastStatus: LiveStatus = 'connecting';

/** The status of the page's live stream, for the header's indicator. */
export function useLiveStatus(): LiveStatus {
  const [s, set] = useState(lastStatus);
  useEffect(() => {
    statusListeners.add(set);
    return () => void statusListeners.delete(set);
  }, []);
  return s;
}

function announce(s: LiveStatus): void {
  lastStatus = s;
  for (const l of statusListeners) l(s);
}

/**
 * Follows `path` while the component is mounted (and `path` is not null); `onMessage` is always the
 * latest one passed. `after`: resume after that sequence instead of starting with a snapshot.
 */
export function useLiveStream(path: string | null, onMessage: (m: LiveMessage) => void, after?: number): void {
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(() => {
    if (path === null) return;
    const s = openLiveStream({ path, ...(after !== undefined ? { after } : {}), onMessage: (m) => handler.current(m), onStatus: announce });
    return () => s.close();
  }, [path, after]);
}

/** `run` at most once per `ms` however often `request()` is called; the last request always runs. */
export function useThrottle(run: () => void, ms: number): () => void {
  const fn = useRef(run);
  fn.current = run;
  const state = useRef<{ timer: ReturnType<typeof setTimeout> | undefined; last: number }>({ timer: undefined, last: 0 });
  useEffect(() => () => clearTimeout(state.current.timer), []);
  return () => {
    const st = state.current;
    if (st.timer !== undefined) return;
    const wait = Math.max(0, st.last + ms - Date.now());
    st.timer = setTimeout(() => {
      st.timer = undefined;
      st.last = Date.now();
      fn.current();
    }, wait);
  };
}

/** Data loaded by `load` when `deps` change; `reload()` loads it again (keeping what is shown meanwhile). */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { data: T | undefined; error: Error | undefined; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    load(ac.signal).then(
      (d) => { if (!ac.signal.aborted) { setData(d); setError(undefined); } },
      (e: unknown) => { if (!ac.signal.aborted) setError(e instanceof Error ? e : new Error(String(e))); },
    );
    return () => ac.abort();
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}
