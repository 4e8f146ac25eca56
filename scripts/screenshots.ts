/**
 * `npm run screenshots`: PNGs of the dashboard's main pages into docs/images/ (shown in the README and
 * docs/dashboard.md). Starts a real nats-server and service (the test helpers), submits a few demo
 * jobs (some finished, one failed with failed items, one running, some waiting), then drives
 * headless Debian chromium (scripts/ensure-chromium.sh) over the overview, the job list, a job's
 * detail, the workers page and a job on a 360 px wide screen.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumPath, launchChromium } from '../test/helpers/browser.ts';
import { startTestNats } from '../test/helpers/natsServer.ts';
import { http, startTestService } from '../test/helpers/service.ts';
import { waitFor } from '../test/helpers/wait.ts';

const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url));
const PASSWORD = 'screenshots-password';

interface Job { id: string; state: string }

async function main(): Promise<void> {
  const found = chromiumPath();
  if ('missing' in found) throw new Error(found.missing);
  const nats = await startTestNats();
  const svc = await startTestService(nats.url, { runningJobCapacity: 2, stopGraceMs: 500 });
  const browser = await launchChromium(found.path);
  try {
    const B = svc.baseUrl;
    await http(B, 'POST', '/native/v1/virtual-clusters', { name: 'batch', capacity: 40, maxCapacity: 60, description: 'nightly batch' });
    await http(B, 'POST', '/native/v1/users', { name: 'alice', password: PASSWORD, role: 'admin' });
    const submit = async (body: Record<string, unknown>) => (await http<Job>(B, 'POST', '/native/v1/jobs', body)).body;
    const done = (id: string) => waitFor(async () => {
      const j = (await http<Job>(B, 'GET', `/native/v1/jobs/${id}`)).body;
      return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(j.state) ? j : undefined;
    }, { timeoutMs: 60_000, what: `job ${id} done` });

    // files for a load job, a missing one among them (failed items)
    const files = join(svc.config.filesDir, 'datasets', 'ds1');
    await mkdir(files, { recursive: true });
    for (let i = 0; i < 12; i++) await writeFile(join(files, `part-${String(i).padStart(3, '0')}.csv`), 'x'.repeat(1000 + i * 300));
    const finished = [
      await submit({ type: 'load', name: 'nightly ds1', spec: { path: 'datasets/ds1', batchSize: 3 }, labels: { team: 'data' } }),
      await submit({ type: 'sleep', name: 'reindex search', spec: { ms: 200, tasks: 6 } }),
      await submit({ type: 'sleep', name: 'flaky export', spec: { ms: 50, tasks: 4, failTimes: 5 }, maxTaskAttempts: 2, virtualCluster: 'batch' }),
    ];
    const ts = await fetch(`${svc.facadeUrls['teraslice cluster master']!}/v1/jobs`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'generate-events', operations: [{ _op: 'data_generator', size: 500 }, { _op: 'noop' }] }),
    });
    if (!ts.ok) throw new Error(`teraslice submit: ${ts.status} ${await ts.text()}`);
    for (const j of finished) await done(j.id);
    const running = await submit({ type: 'sleep', name: 'train model', spec: { ms: 1500, tasks: 40 }, parallelism: 4, virtualCluster: 'batch' });
    await submit({ type: 'sleep', name: 'backfill 2025', spec: { ms: 60_000, tasks: 2 } });
    for (const name of ['compact logs', 'rebuild index']) await submit({ type: 'sleep', name, spec: { ms: 1000 } });
    await waitFor(async () => (await http<{ progress: { tasksSucceeded: number } }>(B, 'GET', `/native/v1/jobs/${running.id}`)).body.progress.tasksSucceeded >= 8, { timeoutMs: 60_000, what: 'the running job part done' });

    await mkdir(OUT, { recursive: true });
    const shoot = async (path: string, file: string, width: number, ready: string, height = 900) => {
      const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(`${B}/ui/`);
      await page.getByLabel('User name').fill('alice');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('who').waitFor();
      await page.goto(B + path);
      await page.locator(ready).first().waitFor({ timeout: 30_000 });
      await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
      await page.waitForTimeout(400); // let the throttled refreshes land: a picture, not a test
      await page.screenshot({ path: join(OUT, file), fullPage: file !== 'job.png' });
      await context.close();
      process.stderr.write(`wrote docs/images/${file}\n`);
    };
    await shoot('/ui/', 'overview.png', 1280, '[data-testid=count-SUCCEEDED]');
    await shoot('/ui/jobs?active=all', 'jobs.png', 1280, 'tr[data-job]');
    await shoot(`/ui/jobs/${running.id}`, 'job.png', 1280, '[data-testid=explain-summary]', 1500);
    await shoot(`/ui/jobs/${finished[2]!.id}`, 'job-failed.png', 1280, '.failure-groups');
    await shoot('/ui/workers', 'workers.png', 1280, 'table.workers tbody tr');
    await shoot(`/ui/jobs/${running.id}`, 'narrow.png', 360, '[data-testid=explain-summary]', 780);
  } finally {
    await browser.close();
    await svc.stop();
    await nats.cleanup();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`screenshots failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
