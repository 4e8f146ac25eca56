/**
 * Load generator, run as its own process so the client's CPU is not charged to the service.
 *
 * `loadgen.ts --port P --jobs N --clients C [--body JSON] [--rate R | --batch B [--inflight I] | --inflight I] [--max-secs S]`
 *
 * Submits `jobs` copies of `body` (default a noop job) over `clients` keep-alive connections, paced
 * as bench/pacing.ts says: one job per `POST /native/v1/jobs` (`--inflight` outstanding, default
 * `clients`), `--batch B` jobs per `POST /native/v1/jobs:batch`, or `--rate R` jobs a second (open
 * loop: job i is stamped with its due time, so a late send counts in the latency). Stops sending
 * after `--max-secs`. Prints one JSON line ({@link LoadgenReport}).
 */
import { Agent, request } from 'node:http';
import { cpuMs, wall } from './measure.ts';
import { pace, pacingFromArgs, type Sender } from './pacing.ts';

/** What the load generator prints. */
export interface LoadgenReport {
  /** [job id, wall ms it counts from] of every accepted job. */
  sent: [string, number][];
  failed: number;
  secs: number;
  /** The bulk route answered 404/405: it does not exist on this build. */
  noRoute: boolean;
  /** This process's CPU while sending. */
  cpuMs: number;
}

const arg = (name: string): number | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : Number(process.argv[i + 1]);
};
const text = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const port = arg('port') ?? 8080;
const jobs = arg('jobs') ?? 1;
const clients = arg('clients') ?? 64;
const body = text('body') ?? '{"type":"noop","spec":{}}';
const maxMs = (arg('max-secs') ?? Infinity) * 1000;
const pacing = pacingFromArgs(arg, clients);
/** The service's admin token, from the environment (never on the command line, where `ps` shows it). */
const AUTH: Record<string, string> = process.env['LOADGEN_TOKEN'] ? { authorization: `Bearer ${process.env['LOADGEN_TOKEN']}` } : {};

const agent = new Agent({ keepAlive: true, maxSockets: clients });
function post(path: string, payload: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...AUTH } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end(payload);
  });
}

const report: LoadgenReport = { sent: [], failed: 0, secs: 0, noRoute: false, cpuMs: 0 };

/** Submits one job per request. */
async function one(at: number): Promise<void> {
  const r = await post('/native/v1/jobs', body);
  if (r.status === 201) report.sent.push([(JSON.parse(r.body) as { id: string }).id, at]);
  else report.failed++;
}

/** Submits `n` jobs in one `jobs:batch` request; per-item results come back in order. */
async function many(at: number, n: number): Promise<void> {
  const r = await post('/native/v1/jobs:batch', `{"jobs":[${Array.from({ length: n }, () => body).join(',')}]}`);
  if (r.status === 404 || r.status === 405) {
    report.noRoute = true;
    return;
  }
  if (r.status !== 200) {
    report.failed += n;
    return;
  }
  const { results } = JSON.parse(r.body) as { results: { status: number; job?: { id: string } }[] };
  for (const item of results) {
    if (item.status === 201 && item.job !== undefined) report.sent.push([item.job.id, at]);
    else report.failed++;
  }
}

const sender: Sender = { one, many };
const cpu0 = cpuMs(process.pid);
const start = wall();
await pace(jobs, pacing, sender, () => report.noRoute || wall() - start > maxMs);
report.secs = (wall() - start) / 1000;
report.cpuMs = cpuMs(process.pid) - cpu0;
agent.destroy();
process.stdout.write(JSON.stringify(report) + '\n');
