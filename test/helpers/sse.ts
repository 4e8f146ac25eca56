/** Server-Sent Events parsing for tests: a chunk-fed parser that yields each complete message. */

/** One SSE message: its fields, or only a comment (`: keep-alive`). */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Returns a function to feed text chunks; `onMessage` gets every message once its blank line arrived. */
export function createSseParser(onMessage: (m: SseMessage) => void): (chunk: string) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n\n')) !== -1) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const m: SseMessage = {};
      for (const line of block.split('\n')) {
        if (line === '') continue;
        if (line.startsWith(':')) {
          m.comment = line.slice(1).trim();
          continue;
        }
        const c = line.indexOf(':');
        const k = c === -1 ? line : line.slice(0, c);
        const v = c === -1 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (k === 'id' || k === 'event' || k === 'data') m[k] = v;
      }
      onMessage(m);
    }
  };
}
