/**
 * What a user of webhooks and live events notices when a process dies (issue 5 items 4 and 5), with
 * real processes on one nats-server:
 * 1. kill -9 of a coordinator while jobs run and their callbacks are retried: every job still ends,
 *    every callback still arrives (at least once, one deliveryId per job, correctly signed), the
 *    delivery log shows it, and the JOBS stream audits clean;
 * 2. kill -9 of the API process serving an SSE stream: resuming on another API process with
 *    Last-Event-ID loses nothing and repeats nothing, compared with the stored history.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WebhookAttemptData } from '../../actors/events.ts';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verifySignature } from '../../engine/hooks/sign.ts';
import type { DeliveryEntry, JobView } from '../../engine/serviceTypes.ts';
import { audit } from '../helpers/auditor.ts';
import { startTestNats } from '../helpers/natsServer.ts';
import { createProcessHarness, FAULT_TEST_FLAGS } from '../helpers/processes.ts';
import { openSse, type HistoryEvent, type LiveData, type SseStream } from '../integration/journey/journeyKit.ts';
import { API, eventsByJob, getJob, readJobsStream, request, runSeed, seededRandom, submitWithRetry } from './faultKit.ts';
import { duplicates, header, historyKeys, liveKeys, startFlakyReceiver } from './liveKit.ts';
import { HOOK_ACK_WAIT_MS as ENGINE_HOOK_ACK_WAIT_MS } from '../../engine/hooks/deliverer.ts';
import { waitFor, sleep } from '../helpers/wait.ts';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);
/**
 * Webhook retries every 200 ms; a POST that hangs gives up after 1 s. The receivers listen on
 * 127.0.0.1, which webhooks may reach only when private targets are allowed.
 */
const HOOK_FLAGS = { 'webhook-backoff-ms': 200, 'webhook-timeout-ms': 1000, 'webhook-allow-private': 'true' };
/**
 * A notification the killed coordinator was handling at the instant of the kill is redelivered by
 * NATS after the hooks consumer's ack wait (HOOK_ACK_WAIT_MS, 5 s). The waits below allow eight times
 * that before they give up; the assertions hold callbacks to a much tighter bound.
 */
const HOOK_ACK_WAIT_MS = 8 * ENGINE_HOOK_ACK_WAIT_MS;
/** What a user may expect of a callback after a crash: failure detection plus a few retries. */
const CALLBACK_LATENCY_MS = 10_000;
const TERMINAL_EVENTS = new Set(['JobSucceeded', 'JobFailed', 'JobStopped']);

/** GET /jobs/:id of every id through `base`, once all are terminal. */
function allTerminal(base: string, ids: readonly string[], timeoutMs: number): Promise<JobView[]> {
  return waitFor(async () => {
    const views = await Promise.all(ids.map((id) => getJob(base, id)));
    return views.every((v) => v !== undefined && TERMINAL.has(v.state)) ? (views as JobView[]) : undefined;
  }, { what: `all ${ids.length} jobs terminal`, timeoutMs, intervalMs: 100, retryErrors: true });
}

describe('webhooks and live events under process kills', () => {
  /** Set by the coordinator-kill scenario: callbacks answered 204 later than CALLBACK_LATENCY_MS after their job ended. */
  let slowCallbacks: string[] | undefined;

  it('webhooks survive a coordinator kill -9: every callback arrives, retried under one deliveryId, signed, logged', async (t) => {
    const seed = runSeed();
    t.diagnostic(`seed ${seed} (FAULT_SEED=${seed} replays the fault instant)`);
    const rnd = seededRandom(seed);
    const JOBS = 30;
    const t0 = Date.now();
    const nats = await startTestNats();
    const receiver = await startFlakyReceiver();
    const procs = await createProcessHarness({ natsUrl: nats.url, flags: { ...FAULT_TEST_FLAGS, ...HOOK_FLAGS } });
    let passed = false;
    try {
      const [api, c1, c2] = await Promise.all([
        procs.start({ name: 'api', roles: ['api'] }),
        procs.start({ name: 'coord-1', roles: ['coordinator'] }),
        procs.start({ name: 'coord-2', roles: ['coordinator'] }),
        procs.start({ name: 'worker-1', roles: ['worker'] }),
      ]);
      const base = api!.baseUrl!;
      const started = Date.now();
      const secretRes = await request<{ secret: string }>(base, 'GET', `${API}/webhooks/callback-secret`);
      assert.equal(secretRes.status, 200, 'GET /webhooks/callback-secret');
      const secret = secretRes.body!.secret;

      // the fault: one coordinator (seeded), at a seeded instant while jobs are submitted, run and notified
      const victim = rnd.int(0, 1) === 0 ? c1! : c2!;
      const killAfterMs = rnd.int(300, 1800); // submitting takes ~2 s, each job ~0.6 s
      let killedAt = 0;
      let atKill = '';
      const submitStart = Date.now();
      const fault = (async () => {
        await sleep(killAfterMs);
        atKill = `${receiver.hits.filter((h) => h.status === 204).length} callbacks delivered so far`;
        await victim.kill9();
        killedAt = Date.now();
      })();
      fault.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile

      // one callback path per job, so the receiver fails each job's first POST once
      const outcomes = [];
      for (let i = 0; i < JOBS; i++) {
        outcomes.push(await submitWithRetry(base, `hooks-${seed}-${i}`, { type: 'sleep', spec: { ms: 300, tasks: 2 }, callbackUrl: `${receiver.url}/hook/${i}` }, { deadlineMs: 20_000 }));
        await sleep(60);
      }
      await fault;
      t.diagnostic(`killed ${victim.name} ${killAfterMs} ms after the first submit (${atKill})`);
      const ids = outcomes.map((o) => o.id);
      assert.deepEqual(ids.filter((id) => id === undefined), [], `submits: ${JSON.stringify(outcomes.map((o) => o.statuses))}`);
      const accepted = ids as string[];
      const pathOf = new Map(accepted.map((id, i) => [id, `/hook/${i}`]));

      const views = await allTerminal(base, accepted, 30_000);
      const terminalMs = Date.now() - submitStart;

      // every job's callback answered 204 at least once
      await waitFor(() => {
        const ok = new Set(receiver.hits.filter((h) => h.status === 204).map((h) => h.path));
        return accepted.every((id) => ok.has(pathOf.get(id)!)) ? true : undefined;
      }, { what: 'a 204 callback for every job', timeoutMs: Math.max(5_000, killedAt + HOOK_ACK_WAIT_MS + 5_000 - Date.now()), intervalMs: 100, retryErrors: true });
      const lastHookMs = Math.max(...receiver.hits.map((h) => h.atMs)) - killedAt;

      // the delivery log shows each job's WebhookDelivered (a POST answered 204 just before the kill
      // is recorded only when a peer repeats it, after the ack wait: at least once)
      const logs = await waitFor(async () => {
        const all = await Promise.all(accepted.map((id) => request<{ deliveries: DeliveryEntry[] }>(base, 'GET', `${API}/jobs/${id}/deliveries`)));
        return all.every((r) => r.status === 200 && r.body!.deliveries.some((e) => e.type === 'WebhookDelivered')) ? new Map(accepted.map((id, i) => [id, all[i]!.body!.deliveries])) : undefined;
      }, { what: 'a WebhookDelivered in the delivery log of every job', timeoutMs: Math.max(5_000, killedAt + HOOK_ACK_WAIT_MS + 5_000 - Date.now()), intervalMs: 250, retryErrors: true });

      const problems: string[] = [];
      for (const v of views) {
        const path = pathOf.get(v.id)!;
        const hits = receiver.hits.filter((h) => h.path === path);
        const want = `job.${v.state.toLowerCase()}`;
        const deliveryIds = new Set(hits.map((h) => header(h.headers, DELIVERY_HEADER)));
        if (deliveryIds.size !== 1) problems.push(`${v.id}: ${deliveryIds.size} delivery ids ${JSON.stringify([...deliveryIds])}`);
        for (const h of hits) {
          if (!verifySignature(secret, h.headers[SIGNATURE_HEADER], h.raw, 300)) problems.push(`${v.id}: bad signature on a ${h.status} attempt`);
          if (header(h.headers, EVENT_HEADER) !== want) problems.push(`${v.id}: event header ${header(h.headers, EVENT_HEADER)}, want ${want}`);
          const body = JSON.parse(h.raw.toString('utf8')) as { deliveryId: string; event: string; job: JobView };
          if (body.deliveryId !== header(h.headers, DELIVERY_HEADER)) problems.push(`${v.id}: body deliveryId ${body.deliveryId} ≠ header`);
          if (body.job.id !== v.id || body.job.state !== v.state) problems.push(`${v.id}: body job ${body.job.id} ${body.job.state}`);
        }
        // the delivery log: a WebhookDelivered (204) under the id the receiver saw
        const entries = logs.get(v.id)!;
        const delivered = entries.filter((e) => e.type === 'WebhookDelivered').map((e) => e.data as WebhookAttemptData);
        if (!delivered.some((d) => d.status === 204 && d.target === 'callback' && deliveryIds.has(d.deliveryId))) {
          problems.push(`${v.id}: no WebhookDelivered 204 for ${[...deliveryIds].join(',')} in ${JSON.stringify(entries.map((e) => e.type))}`);
        }
      }
      assert.deepEqual(problems, []);

      const records = await readJobsStream(nats.url);
      const report = audit(records, { accepted, requireTerminal: true });
      assert.deepEqual(report.violations, []);

      // how long after its terminal event (server time) each job's callback was answered 204
      const byJob = eventsByJob(records);
      slowCallbacks = [];
      for (const [id, path] of pathOf) {
        const end = (byJob.get(id) ?? []).find((e) => TERMINAL_EVENTS.has(e.event.type));
        const hits = receiver.hits.filter((h) => h.path === path);
        const ok = hits.find((h) => h.status === 204);
        if (end === undefined || ok === undefined || ok.atMs - end.timeMs > CALLBACK_LATENCY_MS) {
          slowCallbacks.push(`${id}: ${hits.map((h) => `${h.status} at ${h.atMs - (end?.timeMs ?? NaN)} ms`).join(', ')} after its terminal event (kill at ${killedAt - (end?.timeMs ?? NaN)} ms)`);
        }
      }
      for (const line of slowCallbacks) t.diagnostic(`slow callback ${line}`);
      const twice = [...pathOf.values()].filter((p) => receiver.hits.filter((h) => h.path === p && h.status === 204).length > 1).length;
      const requeued = new Set(records.flatMap((r) => r.events).filter((e) => e.type === 'JobRequeued').map((e) => e.meta.jobId));
      const states = views.reduce<Record<string, number>>((m, v) => ((m[v.state] = (m[v.state] ?? 0) + 1), m), {});
      t.diagnostic(
        `${JOBS} jobs ${JSON.stringify(states)} terminal ${terminalMs} ms after the first submit, ${requeued.size} requeued from the killed coordinator; ${receiver.hits.length} callback POSTs ` +
          `(${receiver.hits.filter((h) => h.status === 204).length} answered 204, ${twice} jobs notified twice), last ${lastHookMs} ms after the kill; ` +
          `${records.length} records; startup ${started - t0} ms, total ${Date.now() - t0} ms`,
      );
      passed = true;
    } finally {
      if (!passed) t.diagnostic(await procs.describe());
      await procs.cleanup({ keep: !passed });
      await receiver.close();
      await nats.cleanup();
    }
  });

  it(
    `after the coordinator kill, every callback arrives within ${CALLBACK_LATENCY_MS / 1000} s of its job's end`,
    () => {
      assert.ok(slowCallbacks !== undefined, 'the coordinator-kill scenario did not get this far');
      assert.deepEqual(slowCallbacks, []);
    },
  );

  it('live events survive an API kill -9: resuming on another API process with Last-Event-ID loses and repeats nothing', async (t) => {
    const seed = runSeed();
    t.diagnostic(`seed ${seed} (FAULT_SEED=${seed} replays the fault instant)`);
    const rnd = seededRandom(seed);
    const t0 = Date.now();
    const nats = await startTestNats();
    const procs = await createProcessHarness({ natsUrl: nats.url, flags: FAULT_TEST_FLAGS });
    const streams: SseStream[] = [];
    let passed = false;
    try {
      const [api1, api2] = await Promise.all([
        procs.start({ name: 'api-1', roles: ['api'] }),
        procs.start({ name: 'api-2', roles: ['api'] }),
        procs.start({ name: 'coord-1', roles: ['coordinator'] }),
        procs.start({ name: 'worker-1', roles: ['worker'] }),
      ]);
      const base2 = api2!.baseUrl!;
      const started = Date.now();

      const s1 = await openSse(api1!.baseUrl!, `${API}/events`, undefined);
      streams.push(s1);
      assert.equal(s1.status, 200, 'GET /events on api-1');
      await s1.until('the snapshot', (d) => d.some((m) => m.kind === 'snapshot'), 10_000);
      const snapshotSeq = s1.data().find((m) => m.kind === 'snapshot')!.seq;

      // jobs submitted through api-2 (unaffected by the kill): some before, some after it
      const JOB = { type: 'sleep', spec: { ms: 100, tasks: 3 } };
      const ids: string[] = [];
      const submitSome = async (from: number, n: number) => {
        for (let i = from; i < from + n; i++) {
          const o = await submitWithRetry(base2, `live-${seed}-${i}`, JOB, { deadlineMs: 20_000 });
          assert.ok(o.id, `submit ${i}: ${JSON.stringify(o.statuses)}`);
          ids.push(o.id);
          await sleep(80);
        }
      };
      const killAfterMs = rnd.int(100, 1500);
      const before = submitSome(0, 12);
      before.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
      await s1.until('a first job event', (d) => d.some((m) => m.kind === 'event'), 10_000);
      await sleep(killAfterMs); // the fault instant
      await api1!.kill9();
      await waitFor(() => (s1.ended() ? true : undefined), { what: 'the stream on api-1 to end', intervalMs: 50, retryErrors: true });
      const lastId = s1.lastId();
      assert.ok(lastId !== undefined && /^\d+$/.test(lastId), `last id ${lastId}`);
      const seenBeforeKill = s1.data().filter((m) => m.kind === 'event').length;
      t.diagnostic(`killed api-1 ${killAfterMs} ms after the first event; ${seenBeforeKill} events received, last id ${lastId} (snapshot at ${snapshotSeq})`);

      const s2 = await openSse(base2, `${API}/events`, undefined, { 'last-event-id': lastId });
      streams.push(s2);
      assert.equal(s2.status, 200, 'GET /events on api-2 with Last-Event-ID');
      await before;
      await submitSome(12, 4);

      const views = await allTerminal(base2, ids, 30_000);
      const histories = new Map<string, HistoryEvent[]>();
      for (const id of ids) {
        const r = await request<{ events: HistoryEvent[] }>(base2, 'GET', `${API}/jobs/${id}/history`);
        assert.equal(r.status, 200, `history of ${id}`);
        histories.set(id, r.body!.events);
      }
      const expected = historyKeys(histories, snapshotSeq);
      const lastSeq = expected.at(-1)!.seq;
      await s2.until(`the event at seq ${lastSeq}`, (d) => d.some((m) => m.kind === 'event' && m.seq >= lastSeq), 15_000);
      s2.close();

      const jobSet = new Set(ids);
      const resumeAt = Number(lastId);
      // stream 1 up to its last id (a record whose last event it got, so whole), then stream 2
      const fromS1 = liveKeys(s1.data(), jobSet).filter((k) => k.seq <= resumeAt);
      const fromS2 = liveKeys(s2.data(), jobSet);
      const got = [...fromS1, ...fromS2].map((k) => k.key);
      assert.deepEqual(duplicates(got), [], 'events received twice');
      assert.ok(s2.data().every((m) => m.kind !== 'snapshot'), 'a resumed stream sends no snapshot');
      assert.ok(fromS2.every((k) => k.seq > resumeAt), 'the resumed stream starts after Last-Event-ID');
      const want = expected.map((k) => k.key);
      const missing = want.filter((k) => !got.includes(k));
      const extra = got.filter((k) => !want.includes(k));
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'live events vs stored history');
      assert.deepEqual(got, want, 'live events in stream order');
      // the last event of each job shows what GET shows
      const lastView = new Map<string, LiveData>();
      for (const m of [...s1.data(), ...s2.data()]) if (m.kind === 'event' && m.jobId !== undefined) lastView.set(m.jobId, m);
      for (const v of views) assert.equal(lastView.get(v.id)?.job?.state, v.state, `job ${v.id} on the stream`);
      t.diagnostic(
        `${ids.length} jobs, ${want.length} events after the snapshot (${fromS1.length} from api-1, ${fromS2.length} from api-2); ` +
          `startup ${started - t0} ms, total ${Date.now() - t0} ms`,
      );
      passed = true;
    } finally {
      for (const s of streams) s.close();
      if (!passed) t.diagnostic(await procs.describe());
      await procs.cleanup({ keep: !passed });
      await nats.cleanup();
    }
  });
});
