/**
 * A live stream of the API (`GET /events`, `GET /jobs/:id/events`) read with fetch, because the
 * browser's EventSource cannot send the Authorization header. Messages are parsed with
 * eventsource-parser. When the stream ends or the connection fails (a server restart), it connects
 * again after a backoff (0.5 s doubling to 8 s) with `Last-Event-ID` = the last id received, so the
 * server sends every record after it: nothing is missed and nothing comes twice (docs/api.md, Live
 * events). A 401 ends it (the session is over); so does a 404 (the job is gone or not yours).
 */
import { createParser } from 'eventsource-parser';
import { API_PREFIX } from '../client/client.ts';
import { getSession, setSession } from '../client/session.ts';
import type { LiveMessage } from '../client/types.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface LiveStreamOptions {
  /** Under the API prefix: `/events` or `/jobs/<id>/events`. */
  path: string;
  /** Start after this stream sequence (no snapshot): for a page that read the state up to it. */
  after?: number;
  onMessage(m: LiveMessage): void;
  onStatus?(s: LiveStatus, detail?: string): void;
}

export const MIN_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 8000;

/** Opens the stream; `close()` ends it for good. */
export function openLiveStream(opts: LiveStreamOptions): { close(): void } {
  const ac = new AbortController();
  let lastId: string | undefined = opts.after === undefined ? undefined : String(opts.after);
  const status = (s: LiveStatus, detail?: string) => opts.onStatus?.(s, detail);

  async function once(): Promise<'again' | 'stop'> {
    const s = getSession();
    if (s === null) return 'stop';
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${s.token}` };
    if (lastId !== undefined) headers['last-event-id'] = lastId;
    const res = await fetch(API_PREFIX + opts.path, { headers, cache: 'no-store', signal: ac.signal });
    if (res.status === 401) {
      setSession(null);
      return 'stop';
    }
    if (res.status === 404) {
      status('ended', 'not found');
      return 'stop';
    }
    if (!res.ok || res.body === null) throw new Error(`live stream answered ${res.status}`);
    status('live');
    let ended = false;
    const parser = createParser({
      onEvent(e) {
        if (e.id !== undefined && e.id !== '') lastId = e.id;
        // `error`: this client fell too far behind; the server ends the stream and we resume from lastId
        if (e.event === 'error') return;
        const m = JSON.parse(e.data) as LiveMessage;
        if (m.kind === 'removed' && opts.path !== '/events') ended = true;
        opts.onMessage(m);
      },
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } finally {
      reader.releaseLock();
    }
    return ended ? 'stop' : 'again';
  }

  void (async () => {
    let attempt = 0;
    status('connecting');
    while (!ac.signal.aborted) {
      const openedAt = Date.now();
      try {
        if ((await once()) === 'stop') break;
      } catch {
        if (ac.signal.aborted) break;
      }
      // a stream that stayed up a while starts the backoff over
      if (Date.now() - openedAt > MAX_BACKOFF_MS) attempt = 0;
      const wait = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** attempt++);
      status('reconnecting', `reconnecting in ${Math.round(wait / 100) / 10} s`);
      await new Promise((r) => setTimeout(r, wait));
    }
    if (!ac.signal.aborted) status('ended');
  })();

  return { close: () => ac.abort() };
}
