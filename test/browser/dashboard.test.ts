/**
 * The dashboard in a real browser (headless Debian chromium) against a real service and nats-server:
 * log in, watch a job's bar reach 100 %, stop a job through the confirmation, a viewer sees no
 * actions, and the live view survives an API restart without a gap. Skips, saying why, when there is
 * no chromium (scripts/ensure-chromium.sh).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../helpers/browser.ts';
import { http, useTestService } from '../helpers/service.ts';

const found = chromiumPath();
const skip = 'missing' in found ? found.missing : false;
const PASSWORD = 'correct horse battery';
const WAIT_MS = 30_000;

interface Job { id: string; state: string }

describe('dashboard in a browser', { skip }, () => {
  const ctx = useTestService({ stopGraceMs: 300 });
  let browser: Browser;
  const tokens: Record<string, string> = {};

  const as = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });
  async function submit(user: string, spec: Record<string, unknown>, name: string, more: Record<string, unknown> = {}): Promise<Job> {
    const r = await http<Job>(ctx.svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'sleep', name, spec, ...more }, as(user));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }
  async function signIn(user: string, path = '/ui/'): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    await page.goto(ctx.svc.baseUrl + path);
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('who').getByText(user).waitFor({ timeout: WAIT_MS });
    return page;
  }
  const pct = (page: Page) => page.getByTestId('progress-pct').textContent();

  before(async () => {
    browser = await launchChromium((found as { path: string }).path);
    for (const [name, role] of [['olga', 'operator'], ['vera', 'operator']] as const) {
      assert.equal((await http(ctx.svc.baseUrl, 'POST', '/native/v1/users', { name, password: PASSWORD, role })).status, 201);
      const r = await http<{ token: string }>(ctx.svc.baseUrl, 'POST', '/native/v1/auth/login', { username: name, password: PASSWORD }, { authorization: '' });
      tokens[name] = r.body.token;
    }
  });
  after(async () => {
    await browser?.close();
  });

  it('logs in (a wrong password is refused on the form) and shows the overview', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(ctx.svc.baseUrl + '/');
    await page.getByLabel('User name').fill('olga');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Wrong user name or password.').waitFor({ timeout: WAIT_MS });
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByTestId('who').textContent(), 'olga (operator)');
    assert.equal(new URL(page.url()).pathname, '/ui/');
    await page.context().close();
  });

  it('shows a job submitted through the API from its deep link, and its bar rises live to 100 %', async () => {
    // one task at a time: 5 × 600 ms, so the bar is seen at 20, 40, … on its way
    // signed in first: the job's 3 s are not spent logging in (a new context, the login and the first page could take them on a loaded machine)
    const page = await signIn('olga');
    const job = await submit('olga', { ms: 600, tasks: 5 }, 'bar to full', { parallelism: 1 });
    await page.goto(`${ctx.svc.baseUrl}/ui/jobs/${job.id}`);
    await page.getByRole('heading', { name: /bar to full/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByTestId('origin').textContent(), 'native API');
    // every value the bar's label takes from now on, recorded in the page
    await page.evaluate(`(() => {
      const el = document.querySelector('[data-testid=progress-pct]');
      window.seenPct = [el.textContent];
      new MutationObserver(() => window.seenPct.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
    })()`);
    await page.getByTestId('progress-pct').filter({ hasText: '100 %' }).waitFor({ timeout: WAIT_MS });
    const seen = (await page.evaluate('window.seenPct')) as string[];
    assert.ok(seen.some((v) => v !== '0 %' && v !== '100 %'), `the bar moved through values below 100 %: ${seen.join(', ')}`);
    // the page was open before the job ended: its live timeline got the end from the stream
    await page.locator('[data-testid=timeline] li[data-type=JobSucceeded]').waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('.job-head .state').textContent(), 'SUCCEEDED');
    await page.context().close();
  });

  it('stops a running job after the confirmation (Cancel changes nothing), with the reason in its timeline', async () => {
    const job = await submit('olga', { ms: 60_000, tasks: 1 }, 'to be stopped');
    const page = await signIn('olga', `/ui/jobs/${job.id}`);
    await page.locator('.job-head .state', { hasText: 'RUNNING' }).waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Stop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Stop this job?' });
    await dialog.waitFor({ timeout: WAIT_MS });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: WAIT_MS });
    assert.equal((await http<Job>(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${job.id}`)).body.state, 'RUNNING');

    await page.getByRole('button', { name: 'Stop' }).click();
    await dialog.getByLabel(/Reason/).fill('browser test');
    await dialog.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.job-head .state', { hasText: 'STOPPED' }).waitFor({ timeout: WAIT_MS });
    const stop = page.locator('[data-testid=timeline] li[data-type=StopRequested]');
    assert.match((await stop.textContent()) ?? '', /olga.*“browser test”/);
    assert.equal((await http<Job>(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${job.id}`)).body.state, 'STOPPED');
    await page.context().close();
  });

  it('shows a viewer no action buttons (the same job shows them to its operator owner)', async () => {
    const job = await submit('vera', { ms: 60_000, tasks: 1 }, 'viewer job');
    const asOperator = await signIn('vera', `/ui/jobs/${job.id}`);
    await asOperator.getByRole('group', { name: 'Job actions' }).getByRole('button', { name: 'Stop' }).waitFor({ timeout: WAIT_MS });
    await asOperator.context().close();
    assert.equal((await http(ctx.svc.baseUrl, 'PATCH', '/native/v1/users/vera', { role: 'viewer' })).status, 200);
    const page = await signIn('vera', `/ui/jobs/${job.id}`);
    await page.getByRole('heading', { name: /viewer job/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByTestId('who').textContent(), 'vera (viewer)');
    await page.getByTestId('explain-summary').waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByRole('group', { name: 'Job actions' }).count(), 0);
    assert.equal(await page.locator('button[data-action]').count(), 0);
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.locator(`tr[data-job="${job.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('button[data-action]').count(), 0);
    await http(ctx.svc.baseUrl, 'POST', `/native/v1/jobs/${job.id}/stop`, { force: true });
    await page.context().close();
  });

  it('keeps what is typed into the job filters while live events redraw the list', async () => {
    const page = await signIn('olga', '/ui/jobs');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: WAIT_MS });
    await page.getByLabel('Search').fill('half typed');
    await page.getByLabel('State').selectOption('FAILED');
    // a new job: the first page reads the list again and redraws, the form included
    const job = await submit('olga', { ms: 10, tasks: 1 }, 'redraws the list');
    await page.locator(`tr[data-job="${job.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByLabel('Search').inputValue(), 'half typed');
    assert.equal(await page.getByLabel('State').inputValue(), 'FAILED');
    assert.equal(new URL(page.url()).search, '', 'nothing was applied yet');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/\/ui\/jobs\?q=half\+typed&state=FAILED$/, { timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForURL(/\/ui\/jobs$/, { timeout: WAIT_MS });
    await page.waitForFunction(`document.querySelector('#f-q').value === ''`, undefined, { timeout: WAIT_MS });
    assert.equal(await page.getByLabel('Search').inputValue(), '');
    assert.equal(await page.getByLabel('State').inputValue(), '');
    await page.context().close();
  });

  it('keeps the live view through an API restart: it reconnects and shows every later event, none twice', async () => {
    const page = await signIn('olga');
    const job = await submit('olga', { ms: 500, tasks: 10 }, 'across a restart', { parallelism: 1 });
    await page.goto(`${ctx.svc.baseUrl}/ui/jobs/${job.id}`);
    await page.getByLabel('Show task outcomes').check();
    await page.locator('[data-testid=timeline] li[data-type=TaskSucceeded]').first().waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByTestId('live-status').textContent(), 'Live');

    await ctx.svc.restart({}, { samePort: true });

    await page.locator('.job-head .state', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 60_000 });
    assert.equal(await pct(page), '100 %');
    const history = await http<{ events: { seq: number; type: string }[] }>(ctx.svc.baseUrl, 'GET', `/native/v1/jobs/${job.id}/history`);
    const expected = history.body.events.map((e) => `${e.seq}:${e.type}`);
    // the shutdown's handoff (JobRequeued) was written while the page was cut off: it must be there too
    assert.ok(expected.some((e) => e.endsWith(':JobRequeued')), `a handoff in ${expected.join(' ')}`);
    const shown = await page.locator('[data-testid=timeline] li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-seq')}:${li.getAttribute('data-type')}`));
    assert.deepEqual(shown, expected);
    assert.equal(await page.getByTestId('live-status').textContent(), 'Live');
    await page.context().close();
  });
});
