/** The example subscriber of docs/events.md, run as documented against a real service. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { http, useTestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

const SCRIPT = fileURLToPath(new URL('../../../scripts/example-subscriber.ts', import.meta.url));

describe('scripts/example-subscriber.ts', () => {
  const env = useTestService();

  it('prints every event of a job as one JSON line, and exits cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, env.nats.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      await waitFor(() => (err.includes('listening on') ? true : undefined), { what: 'the subscriber to listen', timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
      const job = await http<{ id: string }>(env.svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'noop', spec: { tasks: 2 } });
      assert.equal(job.status, 201);
      const lines = () =>
        out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { subject: string; type: string; jobId: string });
      await waitFor(() => lines().some((l) => l.jobId === job.body.id && l.type === 'JobSucceeded'), {
        what: 'the job to succeed, as the subscriber saw it', timeoutMs: 20_000, intervalMs: 50, retryErrors: true,
      });
      const mine = lines().filter((l) => l.jobId === job.body.id);
      assert.equal(mine[0]?.type, 'JobSubmitted');
      assert.equal(mine[0]?.subject, `job.${job.body.id}.ev`);
      assert.equal(mine.filter((l) => l.type === 'TaskSucceeded' && l.subject === `job.${job.body.id}.task`).length, 2);
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, err);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
