/**
 * End-to-end journeys over real HTTP against a whole service on a real nats-server: live events
 * (SSE), webhooks and callbacks (signed, retried, redelivered), and retention.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifySignature } from '../../../engine/hooks/sign.ts';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { readJobsStream } from '../../fault/faultKit.ts';
import { startTestNats, type TestNats } from '../../helpers/natsServer.ts';
import { http, startTestService, type TestService } from '../../helpers/service.ts';
import {
  API, as, getJob, history, openSse, sawTerminal, startReceiver, submit, userToken, waitState,
  type ApiError, type LiveData, type Receiver,
} from './journeyKit.ts';
import { waitFor } from '../../helpers/wait.ts';

/** `seq:type` of the stored job events (not webhook records) a stream delivered. */
const eventKeys = (d: LiveData[], jobId: string) =>
  d.filter((m) => m.kind === 'event' && m.jobId === jobId && m.subject !== 'hook').map((m) => `${m.seq}:${m.type}`);

describe('journey: live events and webhooks', () => {
  let nats: TestNats;
  let svc: TestService;
  let base: string;
  let recv: Receiver;
  before(async () => {
    nats = await startTestNats();
    // the receiver listens on 127.0.0.1: private targets must be allowed
    svc = await startTestService(nats.url, { webhookBackoffMs: 100, webhookTimeoutMs: 2000, webhookAllowPrivate: true });
    base = svc.baseUrl;
    recv = await startReceiver();
  });
  after(async () => {
    await recv?.close();
    await svc?.stop();
    await nats?.cleanup();
  });

  it('live: snapshot then every event to the terminal one; Last-Event-ID resumes without gaps or duplicates', async () => {
    const lena = await userToken(base, 'lena', 'operator');
    const job = await submit(base, { type: 'sleep', spec: { ms: 150, tasks: 4 }, name: 'watched' }, lena);

    const s1 = await openSse(base, `${API}/jobs/${job.id}/events`, lena);
    assert.equal(s1.status, 200);
    await s1.until('first message', (d) => d.length > 0, 5000);
    const snapshot = s1.data()[0]!;
    assert.equal(snapshot.kind, 'snapshot');
    assert.deepEqual(snapshot.jobs?.map((j) => j.id), [job.id]);
    await s1.until('terminal event', sawTerminal(job.id));
    s1.close();
    const h = await history(base, job.id);
    const expected = h.filter((e) => e.seq > snapshot.seq).map((e) => `${e.seq}:${e.type}`);
    assert.deepEqual(eventKeys(s1.data(), job.id), expected, 'the stream carries exactly the history after the snapshot');
    assert.ok(expected.some((k) => k.endsWith(':JobSucceeded')));

    // drop after the first record past the snapshot and resume from its id
    const job2 = await submit(base, { type: 'sleep', spec: { ms: 300, tasks: 4 }, name: 'resumed' }, lena);
    const a = await openSse(base, `${API}/jobs/${job2.id}/events`, lena);
    await a.until('a first task outcome', (d) => d.some((m) => m.type === 'TaskSucceeded'));
    a.close();
    const lastId = a.messages.find((m) => m.id !== undefined && m.event !== 'snapshot')?.id;
    assert.ok(lastId !== undefined);
    const firstPart = a.data().filter((m) => m.kind === 'event' && m.seq <= Number(lastId));
    assert.ok(!sawTerminal(job2.id)(firstPart), 'the job was still running at the resume point');
    const b = await openSse(base, `${API}/jobs/${job2.id}/events`, lena, { 'last-event-id': lastId });
    assert.equal(b.status, 200);
    await b.until('terminal event after resuming', sawTerminal(job2.id));
    b.close();
    assert.ok(b.data().every((m) => m.kind === 'event'), 'a resumed stream sends no snapshot');
    const snap2 = a.data()[0]!;
    const joined = [...eventKeys(firstPart, job2.id), ...eventKeys(b.data(), job2.id)];
    const h2 = (await history(base, job2.id)).filter((e) => e.seq > snap2.seq).map((e) => `${e.seq}:${e.type}`);
    assert.deepEqual(joined, h2, 'no duplicates and no gaps across the reconnect');
  });

  it('live: GET /events shows a non-admin only their own jobs; closing a stream leaves the job alone', async () => {
    const lisa = await userToken(base, 'lisa', 'operator');
    const mark = await userToken(base, 'mark', 'operator');
    const all = await openSse(base, `${API}/events`, lisa);
    assert.equal(all.status, 200);
    const other = await submit(base, { type: 'sleep', spec: { ms: 0 }, name: 'marks' }, mark);
    await waitState(base, other.id, 'SUCCEEDED');
    const mine = await submit(base, { type: 'sleep', spec: { ms: 0 }, name: 'lisas' }, lisa);
    // events arrive in stream order: once lisa's job ended, mark's (earlier) events would have come
    await all.until("lisa's job to finish", sawTerminal(mine.id));
    all.close();
    const d = all.data();
    assert.ok(d.some((m) => m.kind === 'event' && m.jobId === mine.id && m.type === 'JobSubmitted'));
    const leaked = d.filter((m) => (m.kind === 'event' ? m.jobId === other.id || m.job?.owner !== 'lisa' : m.jobs?.some((j) => j.owner !== 'lisa')));
    assert.deepEqual(leaked, [], 'nothing of another user');
    // the admin's stream does show mark's job
    const admin = await openSse(base, `${API}/events`, undefined);
    await admin.until('snapshot', (x) => x.length > 0);
    admin.close();
    assert.ok(admin.data()[0]?.jobs?.some((j) => j.id === other.id));

    // a job of another user is 404 before any stream starts
    const foreign = await openSse(base, `${API}/jobs/${other.id}/events`, lisa);
    foreign.close();
    assert.equal(foreign.status, 404);

    // closing the stream mid-job does not touch the job
    const job = await submit(base, { type: 'sleep', spec: { ms: 800, tasks: 2 }, name: 'unwatched' }, lisa);
    const s = await openSse(base, `${API}/jobs/${job.id}/events`, lisa);
    await s.until('snapshot', (x) => x.length > 0);
    s.close();
    await waitFor(() => (s.ended() ? true : undefined), { what: 'stream to end', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    const done = await waitState(base, job.id, 'SUCCEEDED');
    assert.equal(done.progress.tasksSucceeded, 2);
    assert.ok(!(await history(base, job.id)).some((e) => e.type === 'StopRequested' || e.type === 'JobStopped'));
  });

  it('webhooks: callbackUrl and a global webhook are called, signed, on SUCCEEDED and on STOPPED', async () => {
    const hook = await http<{ id: string; secret: string; url: string }>(base, 'POST', `${API}/webhooks`, { url: `${recv.url}/global` });
    assert.equal(hook.status, 201);
    assert.match(hook.body.secret, /^whsec_/);
    const cb = await http<{ secret: string }>(base, 'GET', `${API}/webhooks/callback-secret`);
    assert.equal(cb.status, 200);
    const wendy = await userToken(base, 'wendy', 'operator');

    const ok = await submit(base, { type: 'sleep', spec: { ms: 0 }, callbackUrl: `${recv.url}/cb`, name: 'called back' }, wendy);
    assert.equal(ok.callbackUrl, `${recv.url}/cb`);
    const long = await submit(base, { type: 'sleep', spec: { ms: 30_000 }, callbackUrl: `${recv.url}/cb`, name: 'to stop' }, wendy);
    await waitState(base, long.id, 'RUNNING');
    const stop = await http<JobView>(base, 'POST', `${API}/jobs/${long.id}/stop`, { force: true, reason: 'not needed' }, as(wendy));
    assert.deepEqual([stop.status, stop.body.state], [200, 'STOPPED']);

    const got = (path: string, id: string) => recv.received.find((r) => r.path === path && r.body.job.id === id && r.status === 204);
    for (const [job, event, state] of [[ok, 'job.succeeded', 'SUCCEEDED'], [long, 'job.stopped', 'STOPPED']] as const) {
      const [c, g] = await waitFor(() => {
        const c = got('/cb', job.id);
        const g = got('/global', job.id);
        return c && g ? [c, g] : undefined;
      }, { what: `both notifications of ${state}`, timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
      for (const [r, secret, other] of [[c, cb.body.secret, hook.body.secret], [g, hook.body.secret, cb.body.secret]] as const) {
        assert.equal(r.headers['x-jetjobs-event'], event);
        assert.equal(r.body.event, event);
        assert.equal(r.body.job.state, state);
        assert.equal(r.headers['content-type'], 'application/json');
        assert.ok(verifySignature(secret, r.headers['x-jetjobs-signature'], r.raw, 300), `signature of ${r.path} verifies`);
        assert.ok(!verifySignature(other, r.headers['x-jetjobs-signature'], r.raw, 300), 'and not under the other secret');
        assert.equal(r.headers['x-jetjobs-delivery'], r.body.deliveryId);
      }
      assert.match(c.body.deliveryId, /:callback$/);
      assert.ok(g.body.deliveryId.endsWith(`:${hook.body.id}`));
    }
    // the webhook is global: every job's terminal state, not only those with a callback
    const plain = await submit(base, { type: 'sleep', spec: { ms: 0 }, name: 'no callback' }, wendy);
    await waitFor(() => got('/global', plain.id), { what: 'global webhook for a job without callbackUrl', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    const del = await http(base, 'DELETE', `${API}/webhooks/${hook.body.id}`);
    assert.equal(del.status, 204);
  });

  it('webhooks: a failing receiver is retried, the attempts are logged per job, redelivery sends again', async () => {
    const wes = await userToken(base, 'wes', 'operator');
    recv.failNext('/flaky', 2);
    const job = await submit(base, { type: 'sleep', spec: { ms: 0 }, callbackUrl: `${recv.url}/flaky?token=abc`, name: 'flaky' }, wes);
    await waitState(base, job.id, 'SUCCEEDED');
    const mine = () => recv.received.filter((r) => r.path.startsWith('/flaky') && r.body.job.id === job.id);
    await waitFor(() => (mine().some((r) => r.status === 204) ? true : undefined), { what: 'delivered on the third attempt', intervalMs: 50, retryErrors: true });
    const attempts = mine();
    assert.deepEqual(attempts.map((r) => r.status), [500, 500, 204]);
    assert.equal(new Set(attempts.map((r) => r.headers['x-jetjobs-delivery'])).size, 1, 'one delivery id across retries');

    type Delivery = { seq: number; type: string; data: { target?: string; attempt?: number; status?: number; url?: string; final?: boolean; deliveryId?: string } };
    const log = async () => (await http<{ deliveries: Delivery[] }>(base, 'GET', `${API}/jobs/${job.id}/deliveries`, undefined, as(wes))).body.deliveries;
    const entries = await waitFor(async () => {
      const l = await log();
      return l.filter((e) => e.type !== 'WebhookRedeliveryRequested').length >= 3 ? l : undefined;
    }, { what: 'three attempts in the log', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    assert.deepEqual(entries.map((e) => [e.type, e.data.target, e.data.attempt, e.data.status]), [
      ['WebhookFailed', 'callback', 1, 500],
      ['WebhookFailed', 'callback', 2, 500],
      ['WebhookDelivered', 'callback', 3, 204],
    ]);
    assert.ok(entries.every((e) => !String(e.data.url).includes('token=abc')), 'the log hides the query string');
    assert.ok(entries.every((e) => !e.data.final));

    const redo = await http(base, 'POST', `${API}/jobs/${job.id}/deliveries/redeliver`, { target: 'callback', reason: 'lost it' }, as(wes));
    assert.equal(redo.status, 202);
    const again = await waitFor(() => mine().find((r, i) => i >= 3 && r.status === 204), { what: 'the redelivery', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    assert.notEqual(again.headers['x-jetjobs-delivery'], attempts[0]!.headers['x-jetjobs-delivery'], 'a redelivery has a new id');
    assert.equal(again.body.event, 'job.succeeded');
    const after = await waitFor(async () => {
      const l = await log();
      return l.some((e) => e.type === 'WebhookDelivered' && e.seq > entries[2]!.seq) ? l : undefined;
    }, { what: 'redelivery in the log', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    assert.ok(after.some((e) => e.type === 'WebhookRedeliveryRequested' && e.data.target === 'callback'));
    // a job still running cannot be redelivered; another user's job is 404
    const running = await submit(base, { type: 'sleep', spec: { ms: 2000 }, name: 'still running' }, wes);
    const early = await http<ApiError>(base, 'POST', `${API}/jobs/${running.id}/deliveries/redeliver`, undefined, as(wes));
    assert.deepEqual([early.status, early.body.code], [409, 'INVALID_TRANSITION']);
    const stranger = await userToken(base, 'stranger', 'operator');
    const hidden = await http<ApiError>(base, 'GET', `${API}/jobs/${job.id}/deliveries`, undefined, as(stranger));
    assert.deepEqual([hidden.status, hidden.body.code], [404, 'JOB_NOT_FOUND']);
  });

  it('webhooks: a callbackUrl with credentials or file: is 400 INVALID_CALLBACK_URL and nothing is written', async () => {
    const wil = await userToken(base, 'wil', 'operator');
    for (const callbackUrl of ['http://user:secret@127.0.0.1:9/x', 'file:///etc/passwd']) {
      const r = await http<ApiError>(base, 'POST', `${API}/jobs`, { type: 'sleep', spec: { ms: 0 }, callbackUrl, name: 'bad callback' }, as(wil));
      assert.deepEqual([r.status, r.body.code], [400, 'INVALID_CALLBACK_URL'], callbackUrl);
      assert.ok(!r.body.message.includes('secret'), 'the error does not echo the credentials');
    }
    const list = await http<{ jobs: JobView[] }>(base, 'GET', `${API}/jobs?active=all&owner=wil`);
    assert.deepEqual(list.body.jobs, []);
  });
});

describe('journey: retention', () => {
  let nats: TestNats;
  let svc: TestService;
  let recv: Receiver;
  before(async () => {
    nats = await startTestNats();
    svc = await startTestService(nats.url, {
      // removed 8 s after the end: the test must see each job compacted and act on it before then (at
      // 2 s, a CI pair's load once let a job be removed before its compaction was seen)
      compactAfterMs: 0, retentionMaxAgeMs: 8000, retentionIntervalMs: 200, webhookBackoffMs: 200, webhookAllowPrivate: true,
      // noop jobs: compacted at once too, but never removed by age
      retentionByType: JSON.stringify({ noop: { compactAfterMs: 0, maxAgeMs: 0 } }),
    });
    recv = await startReceiver();
  });
  after(async () => {
    await recv?.close();
    await svc?.stop();
    await nats?.cleanup();
  });

  it('a finished job is compacted (final state kept), then removed; the JOBS stream holds nothing of it', async () => {
    const base = svc.baseUrl;
    const rhea = await userToken(base, 'rhea', 'operator');
    const job = await submit(base, { type: 'sleep', spec: { ms: 0, tasks: 3 }, name: 'short-lived' }, rhea);
    const done = await waitState(base, job.id, 'SUCCEEDED');
    const watching = await openSse(base, `${API}/jobs/${job.id}/events`, rhea); // held open until the job is removed
    const compacted = await waitFor(async () => {
      const h = await history(base, job.id);
      return h.length === 1 && h[0]!.type === 'JobCompacted' ? h : undefined;
    }, { what: 'compaction', timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
    assert.equal(compacted.length, 1);
    const view = await getJob(base, job.id, rhea);
    assert.deepEqual([view.state, view.compacted, view.owner, view.finishedAt], ['SUCCEEDED', true, 'rhea', done.finishedAt]);
    assert.deepEqual(view.progress, done.progress);
    const progress = await http<{ state: string; tasksTotal: number; tasksSucceeded: number }>(base, 'GET', `${API}/jobs/${job.id}/progress`, undefined, as(rhea));
    assert.deepEqual([progress.status, progress.body.state, progress.body.tasksTotal, progress.body.tasksSucceeded], [200, 'SUCCEEDED', 3, 3]);
    // a compacted job can no longer be recovered, only re-run
    const stopped = await submit(base, { type: 'sleep', spec: { ms: 30_000 }, name: 'stopped early' }, rhea);
    assert.equal((await http(base, 'POST', `${API}/jobs/${stopped.id}/stop`, { force: true }, as(rhea))).status, 200);
    await waitFor(async () => ((await getJob(base, stopped.id)).compacted ? true : undefined), { what: 'the stopped job compacted', timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
    const rec = await http<ApiError>(base, 'POST', `${API}/jobs/${stopped.id}/recover`, undefined, as(rhea));
    assert.deepEqual([rec.status, rec.body.code], [409, 'JOB_COMPACTED']);
    const rerun = await http<JobView>(base, 'POST', `${API}/jobs/${stopped.id}/rerun`, undefined, as(rhea));
    assert.deepEqual([rerun.status, rerun.body.rerunOf, rerun.body.spec], [201, stopped.id, { ms: 30_000 }]);
    await http(base, 'POST', `${API}/jobs/${rerun.body.id}/stop`, { force: true }, as(rhea));
    const gone = await waitFor(async () => {
      const r = await http<ApiError>(base, 'GET', `${API}/jobs/${job.id}`, undefined, as(rhea));
      return r.status === 404 ? r : undefined;
    }, { what: 'removal', timeoutMs: 30_000, intervalMs: 100, retryErrors: true });
    assert.equal(gone.body.code, 'JOB_NOT_FOUND');
    // the open stream of that job was told, as its last message, and then ended
    await watching.until('the removal', (d) => d.some((m) => m.kind === 'removed'));
    await waitFor(() => (watching.ended() ? true : undefined), { what: 'the stream ended', timeoutMs: 20_000, intervalMs: 50, retryErrors: true });
    assert.deepEqual(watching.messages.at(-1)?.event, 'removed');
    assert.equal(watching.messages.at(-1)?.id, undefined, 'a removal carries no id to resume from');
    assert.deepEqual(watching.data().at(-1), { kind: 'removed', jobId: job.id });
    const records = await readJobsStream(svc.engine.natsUrl);
    const left = records.filter((r) => r.subject.includes(job.id));
    assert.deepEqual(left.map((r) => r.subject), [], 'no message of the job is left in the JOBS stream');
    assert.equal((await http(base, 'GET', `${API}/jobs/${job.id}/history`, undefined, as(rhea))).status, 404);
  });

  it(
    'a webhook still being retried when its job is compacted is delivered all the same',
    async () => {
      const base = svc.baseUrl;
      recv.failNext('/late', 2);
      const job = await submit(base, { type: 'noop', spec: {}, callbackUrl: `${recv.url}/late`, name: 'compacted early' });
      await waitFor(async () => ((await getJob(base, job.id)).compacted ? true : undefined), { what: 'the job compacted', timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
      await waitFor(() => (recv.received.some((r) => r.path === '/late' && r.status === 204) ? true : undefined), { what: 'the callback delivered after two failures', timeoutMs: 30_000, intervalMs: 50, retryErrors: true });
      const log = await http<{ deliveries: { type: string; data: { attempt: number } }[] }>(base, 'GET', `${API}/jobs/${job.id}/deliveries`);
      assert.deepEqual(log.body.deliveries.map((d) => [d.type, d.data.attempt]), [['WebhookFailed', 1], ['WebhookFailed', 2], ['WebhookDelivered', 3]]);
    },
  );
});
