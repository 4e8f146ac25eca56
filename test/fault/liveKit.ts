/**
 * Helpers of test/fault/liveAndHooks.test.ts: a webhook receiver that fails the first request of
 * every path once (forcing one retry per job), and the comparison keys of live events and history.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveData } from '../integration/journey/journeyKit.ts';

/** One request the receiver got. */
export interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** What the receiver answered. */
  status: number;
  /** When it arrived, ms since the epoch. */
  atMs: number;
}

/** A local receiver on 127.0.0.1 (random port). */
export interface FlakyReceiver {
  url: string;
  hits: Hit[];
  close(): Promise<void>;
}

/** Answers 500 to the first POST of every path, 204 to every later one; records them all. */
export async function startFlakyReceiver(): Promise<FlakyReceiver> {
  const hits: Hit[] = [];
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const status = seen.has(path) ? 204 : 500;
      seen.add(path);
      hits.push({ path, headers: req.headers, raw: Buffer.concat(chunks), status, atMs: Date.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A header's single value. */
export const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The comparison key of one stored or streamed event: its record's seq, its place in the record, subject, job and type. */
export const eventKey = (seq: number, index: number, subject: string, jobId: string, type: string): string => `${seq}#${index} ${subject} ${jobId} ${type}`;

/** Numbers the events of each record (same seq, consecutive) 0, 1, … */
function indexer(): (seq: number) => number {
  let last = -1;
  let i = 0;
  return (seq) => {
    i = seq === last ? i + 1 : 0;
    last = seq;
    return i;
  };
}

/** The keys of the live events of `jobs` in `data`, in the order received. */
export function liveKeys(data: readonly LiveData[], jobs: ReadonlySet<string>): { seq: number; key: string }[] {
  const index = indexer();
  return data
    .filter((d) => d.kind === 'event' && d.jobId !== undefined && jobs.has(d.jobId))
    .map((d) => ({ seq: d.seq, key: eventKey(d.seq, index(d.seq), d.subject ?? '?', d.jobId!, d.type ?? '?') }));
}

/** The keys of the stored events (GET /jobs/:id/history of every job) after `afterSeq`, in stream order. */
export function historyKeys(histories: ReadonlyMap<string, readonly { seq: number; subject: string; type: string }[]>, afterSeq: number): { seq: number; key: string }[] {
  const all = [...histories].flatMap(([jobId, evs]) => evs.map((e) => ({ jobId, ...e }))).filter((e) => e.seq > afterSeq);
  all.sort((a, b) => a.seq - b.seq); // stable: a record's events keep their order
  const index = indexer();
  return all.map((e) => ({ seq: e.seq, key: eventKey(e.seq, index(e.seq), e.subject, e.jobId, e.type) }));
}

/** Entries of `keys` that occur more than once. */
export function duplicates(keys: readonly string[]): string[] {
  const seen = new Set<string>();
  const out = new Set<string>();
  for (const k of keys) (seen.has(k) ? out : seen).add(k);
  return [...out];
}
