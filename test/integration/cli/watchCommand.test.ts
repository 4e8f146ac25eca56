/**
 * `jetjobs watch` (the real binary) against a real service behind a TCP proxy: the connection is
 * dropped mid-stream, then the service's processes are stopped and started again (a new port behind
 * the same proxy address), and the NDJSON it printed for a job is exactly the job's history: no
 * event twice, none missing.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { useTestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';
import { history, submit } from '../journey/journeyKit.ts';
import { configHome, start, type Started } from './cliKit.ts';

/** A TCP proxy whose connections a test can cut, and whose target can move. */
async function startProxy(targetPort: number): Promise<{ url: string; retarget(port: number): void; dropAll(): number; close(): Promise<void> }> {
  let target = targetPort;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    retarget: (p) => void (target = p),
    dropAll() {
      const n = open.size;
      for (const s of open) s.destroy();
      return n;
    },
    close: () => new Promise((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}

interface Line { kind: string; seq?: number; type?: string; jobId?: string; job?: { state: string } | null }

const lines = (s: Started): Line[] => s.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
const portOf = (url: string) => Number(new URL(url).port);

describe('jetjobs watch (the binary against a service)', () => {
  const ctx = useTestService({ workerConcurrency: 2 });

  it('resumes after a dropped connection and after a service restart with no duplicate and no gap', async () => {
    const proxy = await startProxy(portOf(ctx.svc.baseUrl));
    // from the stream's start: the job's whole history, whenever the watch connects
    const watch = start(['watch', '--after', '0'], { env: { JETJOBS_URL: proxy.url, JETJOBS_TOKEN: TEST_ADMIN_TOKEN, XDG_CONFIG_HOME: await configHome() }, timeoutMs: 90_000 });
    try {
      // The watched job is submitted once the watch runs: the binary's start (seconds on a loaded
      // machine) must not eat the job's life, which has to outlast the drop below (~10 s of tasks).
      const marker = await submit(ctx.svc.baseUrl, { type: 'sleep', spec: { ms: 0, tasks: 1 } });
      await waitFor(() => lines(watch).some((l) => l.kind === 'event' && l.jobId === marker.id), { what: 'the watch to run', timeoutMs: 30_000 });
      const job = await submit(ctx.svc.baseUrl, { type: 'sleep', spec: { ms: 200, tasks: 100 } });
      const ofJob = () => lines(watch).filter((l) => l.kind === 'event' && l.jobId === job.id);
      await waitFor(() => ofJob().filter((l) => l.type === 'TaskSucceeded').length >= 3, { what: 'some tasks to be watched', timeoutMs: 20_000 });
      assert.ok(proxy.dropAll() > 0, 'a connection was cut');
      const before = ofJob().length;
      await waitFor(() => ofJob().length > before + 3, { what: 'watch to go on after the drop', timeoutMs: 20_000 });

      assert.ok(!ofJob().some((l) => l.type === 'JobSucceeded'), 'the job still runs when the service restarts');
      await ctx.svc.restart();
      proxy.retarget(portOf(ctx.svc.baseUrl));
      await waitFor(() => ofJob().some((l) => l.type === 'JobSucceeded'), { what: 'the job to succeed on the watch', timeoutMs: 60_000 });
      watch.child.kill('SIGINT');
      const r = await watch.done;
      assert.equal(r.code, 130, r.stderr);

      const watched = ofJob().map((l) => `${l.seq} ${l.type}`);
      const stored = (await history(ctx.svc.baseUrl, job.id)).map((e) => `${e.seq} ${e.type}`);
      assert.deepEqual(watched, stored, 'every stored event once, in order');
      assert.ok(stored.length > 100, `${stored.length} events`);
      assert.ok(watched.includes(`${job.submitSeq} JobSubmitted`));
    } finally {
      watch.child.kill('SIGKILL');
      await proxy.close();
    }
  });

  it('a one-job watch of a job that does not exist exits 4; an unreachable service 3', async () => {
    const env = { JETJOBS_URL: ctx.svc.baseUrl, JETJOBS_TOKEN: TEST_ADMIN_TOKEN, XDG_CONFIG_HOME: await configHome() };
    assert.equal((await start(['watch', '00000000-0000-4000-8000-000000000000'], { env }).done).code, 4);
    assert.equal((await start(['watch'], { env: { ...env, JETJOBS_URL: 'http://127.0.0.1:1' } }).done).code, 3);
  });
});
