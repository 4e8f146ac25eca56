/**
 * Load generator, run as its own process so the client's CPU is not charged to the service:
 * POSTs `jobs` noop submissions with `clients` keep-alive connections and prints one JSON line:
 * { sent: [[id, wallMs], ...], failed, secs }.
 * `loadgen.ts port jobs clients [body] [ratePerSec]`: with a rate, job i is due at start + i/rate
 * (open loop) and its wallMs is that due time, so a late send counts in the latency.
 */
import { Agent, request } from 'node:http';

const [port, jobs, clients, bodyJson] = [Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]), process.argv[5] ?? '{"type":"noop","spec":{}}'];
const ratePerSec = process.argv[6] === undefined ? undefined : Number(process.argv[6]);
/** The service's admin token, from the environment (never on the command line, where `ps` shows it). */
const AUTH: Record<string, string> = process.env['LOADGEN_TOKEN'] ? { authorization: `Bearer ${process.env['LOADGEN_TOKEN']}` } : {};
const wall = () => performance.timeOrigin + performance.now();

function post(agent: Agent, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/native/v1/jobs', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...AUTH } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: clients });
const sent: [string, number][] = [];
let next = 0;
let failed = 0;
const t0 = wall();
await Promise.all(Array.from({ length: clients }, async () => {
  while (next < jobs) {
    const i = next++;
    let at = wall();
    if (ratePerSec !== undefined) {
      const due = t0 + (i * 1000) / ratePerSec;
      if (due > at) await new Promise((r) => setTimeout(r, due - at));
      at = due;
    }
    const r = await post(agent, bodyJson);
    if (r.status === 201) sent.push([(JSON.parse(r.body) as { id: string }).id, at]);
    else failed++;
  }
}));
agent.destroy();
process.stdout.write(JSON.stringify({ sent, failed, secs: (wall() - t0) / 1000 }) + '\n');
