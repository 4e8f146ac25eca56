/**
 * The route fuzz over the Spark Jobserver facade (clients.md §3), against the real engine on a real
 * nats-server and real sandboxed processes, over real HTTP: its own listener and `/compat/spark/` on
 * the API port. Generated requests over `/binaries`, `/contexts`, `/jobs`, `/healthz`, unknown paths
 * and wrong methods: `?_method=DELETE` (any case) on POST paths, repeated query parameters, huge,
 * negative and non-numeric `timeout`/`limit`/`num-cpu-cores`/`memory-per-node`, context names not
 * starting with a letter, with odd characters or too long, odd binary names and raw path segments,
 * HOCON bodies that do not parse (include, `${}`, deep nesting, reserved characters, garbage bytes,
 * invalid UTF-8), JSON bodies, random content types, uploads with wrong content types, empty, not a
 * ZIP for an archive type, over `binaryMaxBytes` (64 KiB here), odd `callbackUrl`s (ftp:,
 * javascript:, %-encoded once more, too long), sync starts with small timeouts.
 *
 * The oracle, per answer: no 5xx but the documented ones (a sync start that timed out: 500
 * `{"status":"ERROR","result":{…,"errorClass":"akka.pattern.AskTimeoutException"}}`; `503 NO SLOTS
 * AVAILABLE`; `/healthz` 500 only when not ready); every error body is JSON `{status, result}` with
 * a string `status` (python-sjsclient reads `resp.json()['status']`), and every success body the
 * original's shape; Spark's status and message where clients.md names them, worked out from a model
 * of what exists (binaries, contexts, the job holding the one slot of context `full1` and binary
 * `hold`). Requests that touch the same binary, context or job run one after another in the order
 * generated, so the model is exact; a refused upload or context creation is followed by a read that
 * shows nothing was written, and at checkpoints the binaries (names, types, upload times), contexts
 * and jobs (native API) are exactly the model's. Afterwards every job started ends or is killed,
 * and the worker still runs a word count. Seeded: FUZZ_SEED=<n> replays the requests (the seed is
 * printed; job ids differ); FUZZ_RUNS=<n> changes the count.
 *
 * The machine stays quiet: a start that could run a process passes a valve (at most START_CAP jobs
 * written in a run, else it names a missing binary instead, counted); the jobs are instant or nap
 * at most 1.5 s; contexts hold 1-2 slots mostly; no Python or JVM (archive binaries are refused).
 *
 * Tolerated and counted, not failed (reported): what Node's HTTP parser refuses before any route
 * (raw bytes above 0x7e in the request line: 400; a head over 16 KiB: 431). `GET /binaries` races
 * uploads and deletes (it once stalled 30 s and listed nothing then: fixed in objBinaryStore.list, seed 12).
 * FUZZ_TRACE=1 prints every request and answer.
 */
import assert from 'node:assert/strict';
import { Agent, createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { SEED, allNativeJobs, groupByKeys, headBytes, sendRaw } from '../../helpers/routeFuzz.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { check, describeRequest, expectation, isRunnable, MAX_PARAM_LENGTH, type Answer, type Model, type Resolved } from '../../helpers/sparkFuzzOracle.ts';
import { BINARY_MAX_BYTES, enc, FULL, FUZZ_CONTEXTS, HOLD, HOLD_JOB, sparkRequest, TINY_JOBS, VALVE_BIN, type Generated, type Mount } from '../../helpers/sparkFuzzRequests.ts';
import { waitFor } from '../../helpers/wait.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);
/** FUZZ_BY_MESSAGE=1: outcomes counted by error message too (to see what the generators reach). */
const BY_MESSAGE = process.env['FUZZ_BY_MESSAGE'] !== undefined;
/** Requests in flight at once. */
const CONCURRENCY = 8;
/** A request without an answer this long is hung (a sync start waits for its job). */
const HUNG_MS = 30_000;
/** Jobs a run may write at most (each runs a sandboxed process). */
const START_CAP = 150;
/** Batches between two checks of everything written against the model. */
const CHECK_EVERY = 12;
/** Times the job holding `full1` is started again after the fuzz stopped it (then `full1` stays as it is). */
const MAX_RESTORES = 10;
const WORD_COUNT = join(import.meta.dirname, '../../../examples/spark/word-count.mjs');
const WORDS = { a: 2, b: 2, c: 1, see: 1 };
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);
/** The runners' errorClass for a class the binary does not have (node, java). */
const CLASS_NOT_FOUND = new Set(['ClassNotFound', 'java.lang.ClassNotFoundException']);
/** FUZZ_TRACE=1: every request and its answer on stdout. */
const TRACE = process.env['FUZZ_TRACE'] !== undefined;

// ---- the suite -------------------------------------------------------------------------------

/** Every job the admin sees (native API). */
const nativeJobs = (svc: TestService) => allNativeJobs(svc, 'active=all');

describe('route fuzz over the Spark Jobserver facade (real engine, real processes, real HTTP, its own port and /compat/spark/)', () => {
  // no Python or JVM: archive binaries are refused before anything runs; script tasks 4 at a time
  const env = useTestService({ scriptPython: 'none', scriptJava: 'none', binaryMaxBytes: BINARY_MAX_BYTES, workerConcurrency: 4, webhookAllowPrivate: true, webhookMaxAttempts: 1, webhookTimeoutMs: 1000, scriptTimeLimitMs: 300_000 });

  it(`${RUNS} generated requests: Spark's statuses and {status, result} errors, no undocumented 5xx, nothing hung, nothing written on refusal`, { timeout: 600_000 }, async (t) => {
    const svc = env.svc;
    const origins: Record<Mount, { url: URL; prefix: string }> = {
      own: { url: new URL(svc.facadeUrls['spark job server']!), prefix: '' },
      api: { url: new URL(svc.baseUrl), prefix: '/compat/spark' },
    };
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end('ok'));
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const callbackUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/cb`;
    const own = origins.own.url.origin;
    /** A request of the test's own (setup, read-backs, checkpoints) on the facade's port. */
    const spark = async (method: string, path: string, body?: string | Buffer, type?: string) => {
      const a = await sendRaw(agent, origins.own.url, { method, headers: type === undefined ? {} : { 'content-type': type }, ...(body === undefined ? {} : { body }) }, path, HUNG_MS);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of Spark's wire, asserted field by field
      return { ...a, json: (a.body === '' ? undefined : JSON.parse(a.body)) as any };
    };

    const m: Model = { binaries: new Map(), contexts: new Set(), holdAlive: 'unknown', holdId: '', holdIds: new Set(), jobs: new Set(), ran: new Set([HOLD]), unnamed: { validation: 0, classMin: 0, classMax: 0 }, known: [], nativeId: '' };
    const recordBinary = async (name: string) => {
      const r = await spark('GET', `/binaries/${enc(name)}`);
      assert.equal(r.status, 200, r.body);
      m.binaries.set(name, { type: r.json['binary-type'], time: r.json['upload-time'] });
    };
    const upload = async (name: string, bytes: string | Buffer) => {
      const r = await spark('POST', `/binaries/${name}`, bytes, 'application/javascript');
      assert.equal(r.status, 201, r.body);
      await recordBinary(name);
    };

    let restores = 0;
    let holdStarts = 0;
    /** What made the hold job's fate unknown, counted. */
    const holdLost = new Map<string, number>();
    const lost = (why: string) => {
      if (m.holdAlive === true) holdLost.set(why, (holdLost.get(why) ?? 0) + 1);
      m.holdAlive = 'unknown';
    };
    /** Jobs written so far (the valve's count), and starts in flight that may write one. */
    let started = 0;
    let reserved = 0;
    /** Starts the job that holds `full1`'s one slot, after stopping whatever holds it now. */
    const restoreHold = async () => {
      restores++;
      if (m.contexts.has(FULL)) {
        const d = await spark('DELETE', `/contexts/${FULL}?force=true`);
        assert.equal(d.status, 200, d.body);
        m.contexts.delete(FULL);
      }
      // nothing of full1 or of binary hold left unfinished (a new full1 counts the old one's jobs by name)
      await waitFor(async () => {
        const jobs = await nativeJobs(svc);
        const busy = jobs.filter((j) => j.type === 'script' && !TERMINAL.has(j.state) && (j.labels['spark/context'] === FULL || (j.spec as { binary?: string }).binary === HOLD));
        for (const j of busy) await spark('DELETE', `/jobs/${j.id}`);
        return busy.length === 0;
      }, { what: `the jobs of ${FULL} ended`, timeoutMs: 30_000, intervalMs: 200 });
      if (!m.binaries.has(HOLD)) await upload(HOLD, HOLD_JOB);
      const c = await spark('POST', `/contexts/${FULL}?num-cpu-cores=1`);
      assert.equal(c.status, 200, c.body);
      m.contexts.add(FULL);
      const s = await spark('POST', `/jobs?appName=${HOLD}&classPath=Hold&context=${FULL}`);
      assert.equal(s.status, 202, s.body);
      holdStarts++;
      m.holdId = s.json.jobId;
      m.holdIds.add(s.json.jobId);
      started++;
      m.holdAlive = true;
    };

    try {
      await upload('tiny', TINY_JOBS);
      await upload('wc', await readFile(WORD_COUNT));
      await restoreHold();
      restores = 0;
      // a native job of the admin (not a script job: 404 on /jobs/:id)
      const native = await http<JobView>(svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'sleep', spec: { tasks: 1, ms: 10 } });
      assert.equal(native.status, 201, JSON.stringify(native.body));
      m.nativeId = native.body.id;
      const baseline = new Set((await nativeJobs(svc)).map((j) => j.id).filter((id) => !m.holdIds.has(id)));
      // a finished job for the generated references to start with
      const first = await spark('POST', '/jobs?appName=tiny&classPath=Instant&sync=true&timeout=60');
      assert.equal(first.status, 200, first.body);
      m.jobs.add(first.json.jobId);
      m.known.push(first.json.jobId);
      started++;
      const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

      let valved = 0;
      let checkpoints = 0;
      const seen = new Map<string, number>();
      const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);

      /** The job a reference names now, and the resources a request touches. */
      const resolve = (g: Generated): Resolved => {
        const i = g.intent;
        let jobId: string | undefined;
        let path = g.path;
        if (i.kind === 'jobRead' || i.kind === 'jobKill') {
          const ref = i.ref;
          jobId = 'known' in ref ? m.known[ref.known % m.known.length] : 'hold' in ref ? m.holdId : 'native' in ref ? m.nativeId : ref.unknown;
          path = path.replace('{job}', 'unknown' in ref ? ref.seg : jobId!);
        }
        const keys: string[] = [];
        const binKey = (n: string | undefined) => keys.push(`bin:${n ?? '?'}`);
        const ctxKey = (n: string | undefined) => keys.push(`ctx:${n ?? '?'}`);
        switch (i.kind) {
          case 'binaryGet':
          case 'upload':
          case 'binaryDelete':
            binKey(i.name);
            if (i.name === HOLD) keys.push('hold');
            break;
          case 'contextGet':
          case 'contextCreate':
          case 'contextDelete':
            ctxKey(i.name);
            if (i.name === FULL) keys.push('hold');
            break;
          case 'reset':
            keys.push('*');
            break;
          case 'binaryList':
            break; // races uploads and deletes on purpose
          case 'jobStart':
            binKey(g.bin);
            if (i.flaw === 'chaos') keys.push('ctx:?', ...FUZZ_CONTEXTS.map((c) => `ctx:${c}`), `ctx:${FULL}`, 'hold');
            else if (i.context !== undefined) ctxKey(i.context);
            if (i.context === FULL) keys.push('hold');
            break;
          case 'jobRead':
          case 'jobKill':
            keys.push(`job:${jobId ?? '?'}`);
            if (jobId !== undefined && m.holdIds.has(jobId)) keys.push('hold');
            break;
          default:
            break;
        }
        return { g, path, jobId, keys };
      };

      const one = async (r: Resolved) => {
        const { g } = r;
        const i = g.intent;
        let bin = g.bin;
        // the valve: a start that could run a process, once START_CAP jobs could be written, names a missing binary
        let mayStart = false;
        if (i.kind === 'jobStart' && bin !== undefined && (i.flaw === 'none' || i.flaw === 'chaos') && isRunnable(m, bin)) {
          if (started + reserved >= START_CAP) {
            bin = VALVE_BIN;
            valved++;
          } else {
            mayStart = true;
            reserved++;
          }
        }
        const fill = (s: string) => s.replaceAll('@BIN@', bin ?? VALVE_BIN).replaceAll('@CB@', callbackUrl);
        const query = typeof g.query === 'string' ? g.query : g.query.length === 0 ? '' : `?${g.query.map(([k, v]) => `${enc(k)}=${enc(fill(v))}`).join('&')}`;
        const sent = origins[g.mount].prefix + r.path + query;
        const body = typeof g.body === 'string' ? fill(g.body) : g.body;
        const exp = expectation(r, m, bin);
        let a: Answer;
        try {
          a = await sendRaw(agent, origins[g.mount].url, { method: g.method, headers: g.headers, ...(body === undefined ? {} : { body }) }, sent, HUNG_MS);
        } catch (err) {
          if (mayStart) reserved--;
          // the parser's raw 431 carries a body even to a HEAD, which Node's client cannot parse
          if (g.method === 'HEAD' && headBytes(g, sent) > 15_000 && /Data after `Connection: close`/.test((err as Error).message)) {
            count(`${g.route} → transport 431 (HEAD, with a body)`);
            return;
          }
          assert.fail(`${describeRequest(g, sent, body)}: ${(err as Error).message}`);
        }
        if (TRACE) console.log(`${describeRequest(g, sent, body).slice(0, 300)} → ${a.status} ${a.body.slice(0, 300)}`);
        try {
          count(`${g.route} → ${check(r, a, exp, sent, body, BY_MESSAGE)}`);
          await update(r, a, bin);
        } finally {
          if (mayStart) reserved--;
        }
      };

      /** The model after an answer, and the read that shows a refused write left nothing. */
      const update = async (r: Resolved, a: Answer, bin: string | undefined) => {
        const i = r.g.intent;
        if (r.g.method === 'HEAD' || a.status === 431) return;
        const b = (() => {
          try {
            return JSON.parse(a.body) as Record<string, unknown>;
          } catch {
            return {};
          }
        })();
        switch (i.kind) {
          case 'upload':
            if (i.name === undefined || i.name.length > MAX_PARAM_LENGTH) return;
            if (a.status === 201) await recordBinary(i.name);
            else if (a.status === 200) m.binaries.delete(i.name); // a `_method=DELETE` among its parameters
            else {
              const after = await spark('GET', `/binaries/${enc(i.name)}`);
              const before = m.binaries.get(i.name);
              if (before === undefined) assert.equal(after.status, 404, `a refused upload of ${i.name} left a binary: ${after.body}`);
              else assert.equal(after.json['upload-time'], before.time, `a refused upload replaced ${i.name}`);
            }
            return;
          case 'binaryDelete':
            if (i.name !== undefined && a.status === 200) m.binaries.delete(i.name);
            return;
          case 'contextCreate':
            if (i.name === undefined || i.name.length > MAX_PARAM_LENGTH) return;
            if (a.status === 200 && b['result'] === 'Context stopped') {
              // a `_method=DELETE` among its parameters
              m.contexts.delete(i.name);
              if (i.name === FULL) lost('context deleted by _method');
            } else if (a.status === 200) m.contexts.add(i.name);
            else if (!m.contexts.has(i.name)) {
              const after = await spark('GET', `/contexts/${enc(i.name)}`);
              assert.equal(after.status, 404, `a refused context creation left ${i.name}: ${after.body}`);
            }
            return;
          case 'contextDelete':
            if (i.name !== undefined && a.status === 200) {
              m.contexts.delete(i.name);
              if (i.name === FULL) lost('context deleted');
            }
            return;
          case 'reset':
            if (a.status !== 200) return;
            m.contexts.clear();
            lost('contexts reset');
            // `sync=false` answers before the contexts are stopped: wait for it (nothing else is in flight)
            await waitFor(async () => (await spark('GET', '/contexts')).json.length === 0, { what: 'the contexts reset', timeoutMs: 20_000, intervalMs: 100 });
            return;
          case 'jobKill':
            if (r.jobId === m.holdId) lost('job killed');
            return;
          case 'jobStart': {
            let id: string | undefined;
            if (a.status === 202 || (a.status === 200 && typeof b['jobId'] === 'string')) id = String(b['jobId']);
            if (a.status === 500) id = /\/jobs\/([0-9a-f-]{36})$/.exec(String(a.headers['location'] ?? ''))?.[1];
            if (a.status === 500) assert.ok(id !== undefined, `a sync timeout without the job's location: ${a.body}`);
            if (id !== undefined) {
              assert.ok(!m.jobs.has(id), `job ${id} answered twice`);
              m.jobs.add(id);
              m.known.push(id);
              started++;
            }
            if (a.status === 400 && b['status'] === 'VALIDATION FAILED') {
              m.unnamed.validation++;
              started++;
            }
            if (a.status === 404 && /^classPath .* not found$/s.test(String(b['result'])) && (i.flaw === 'none' || i.flaw === 'chaos')) {
              if (i.flaw === 'none') m.unnamed.classMin++;
              m.unnamed.classMax++;
              started++;
            }
            if (id !== undefined && bin !== undefined) m.ran.add(bin);
            return;
          }
          default:
            return;
        }
      };

      /** Everything written is what the model says: binaries, contexts, jobs. */
      const checkpoint = async () => {
        checkpoints++;
        const bins = await spark('GET', '/binaries');
        assert.equal(bins.status, 200, bins.body);
        const listed = Object.entries(bins.json as Record<string, { 'binary-type': string; 'upload-time': string }>).map(([k, v]) => ({ name: k, type: v['binary-type'], time: v['upload-time'] }));
        const modelled = [...m.binaries].map(([name, v]) => ({ name, ...v }));
        const byName = (x: { name: string }, y: { name: string }) => (x.name < y.name ? -1 : 1);
        assert.deepEqual(listed.sort(byName), modelled.sort(byName), 'the binaries are not those the accepted uploads and deletes left');
        const ctxs = await spark('GET', '/contexts');
        assert.deepEqual([...(ctxs.json as string[])].sort(), [...m.contexts].sort(), 'the contexts are not those the accepted creations and deletions left');
        const jobs = (await nativeJobs(svc)).filter((j) => !baseline.has(j.id));
        const ids = new Set(jobs.map((j) => j.id));
        const lost = [...m.jobs, ...m.holdIds].filter((id) => !ids.has(id));
        assert.deepEqual(lost, [], 'jobs answered as started are missing');
        const unexplained = jobs.filter((j) => !m.jobs.has(j.id) && !m.holdIds.has(j.id));
        const failed = (j: JobView) => j.type === 'script' && j.state === 'FAILED';
        const validation = unexplained.filter((j) => failed(j) && j.error?.code === 'SCRIPT_VALIDATION');
        const noClass = unexplained.filter((j) => failed(j) && CLASS_NOT_FOUND.has(String((j.error?.details as { errorClass?: unknown } | undefined)?.errorClass)));
        const other = unexplained.filter((j) => !validation.includes(j) && !noClass.includes(j));
        assert.deepEqual(other.map((j) => ({ id: j.id, state: j.state, labels: j.labels, spec: j.spec, error: j.error })), [], 'jobs written by requests that did not start them');
        assert.equal(validation.length, m.unnamed.validation, 'one FAILED job per sync start answered 400 VALIDATION FAILED');
        assert.ok(noClass.length >= m.unnamed.classMin && noClass.length <= m.unnamed.classMax, `${noClass.length} jobs failed for want of their class; sync starts answered 404 classPath: ${m.unnamed.classMin}-${m.unnamed.classMax}`);
        if (m.holdAlive !== true && restores < MAX_RESTORES) await restoreHold();
      };

      t.diagnostic(`seed ${SEED} (replay with FUZZ_SEED=${SEED}); ${RUNS} requests, ${CONCURRENCY} at a time`);
      const t0 = performance.now();
      let batches = 0;
      try {
        const details = await fc.check(
          fc.asyncProperty(fc.array(sparkRequest, { minLength: CONCURRENCY, maxLength: CONCURRENCY }), async (batch) => {
            const items = batch.map(resolve);
            const alone = items.filter((x) => x.keys.includes('*'));
            await Promise.all(groupByKeys(items.filter((x) => !x.keys.includes('*'))).map(async (grp) => {
              for (const x of grp) await one(x);
            }));
            for (const x of alone) await one(x);
            if (++batches % CHECK_EVERY === 0) await checkpoint();
          }),
          // the server's state moves on with every request: shrinking would replay against another one
          { numRuns: Math.ceil(RUNS / CONCURRENCY), seed: SEED, endOnFailure: true },
        );
        if (details.failed) throw details.errorInstance ?? new Error(`failed at batch ${details.numRuns} (seed ${SEED})`);
      } finally {
        t.diagnostic(`${Math.round(performance.now() - t0)} ms; outcomes: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
      }
      await checkpoint();

      // Every job ends, or is killed through the facade.
      let killed = 0;
      const t1 = performance.now();
      await waitFor(async () => {
        const open = (await nativeJobs(svc)).filter((j) => !baseline.has(j.id) && !TERMINAL.has(j.state));
        for (const j of open) {
          if (!m.holdIds.has(j.id) && performance.now() - t1 < 5000) continue;
          const k = await spark('DELETE', `/jobs/${j.id}`);
          assert.ok(k.status === 200 || (k.status === 404 && k.json.result === `No running job with ID ${j.id}`), `kill of ${j.id}: ${k.status} ${k.body}`);
          killed++;
        }
        return open.length === 0;
      }, { what: 'every job started ended', timeoutMs: 60_000, intervalMs: 250 });

      const refusedByParser = [...seen].reduce((sum, [k, c]) => sum + (k.includes('→ transport') ? c : 0), 0);
      t.diagnostic(
        `jobs written: ${m.jobs.size} named + ${m.unnamed.validation} sync validation failures + ${m.unnamed.classMin}-${m.unnamed.classMax} sync class-not-founds (cap ${START_CAP}); starts valved to a missing binary: ${valved}; ` +
          `hold jobs: ${holdStarts} (restores: ${restores}; stopped by: ${JSON.stringify(Object.fromEntries(holdLost))}); checkpoints: ${checkpoints}; killed at the end: ${killed}; refused by Node's HTTP parser (tolerated): ${refusedByParser}`,
      );

      // The generator must reach both sides, or the property proves little.
      const n = (k: string) => [...seen].reduce((sum, [key, c]) => sum + (key.startsWith(`${k} → `) || key.split(' → ')[1]!.startsWith(k) ? c : 0), 0);
      const scale = RUNS / 10_000;
      assert.ok(m.jobs.size > 40 * scale, `too few jobs started (${m.jobs.size})`);
      for (const k of ['200', '201', '202', '400', '404']) assert.ok(n(k) > 50 * scale, `too few ${k}s`);
      for (const k of ['403', '413', '415', '500 ERROR', '503 NO SLOTS AVAILABLE', '400 JOB LOADING FAILED']) assert.ok(n(k) > 0, `never saw a ${k}`);
      for (const route of ['binaries_list', 'binary_get', 'binary_upload', 'binary_delete', 'contexts_list', 'context_get', 'context_create', 'context_delete', 'contexts_reset', 'jobs_list', 'job_start', 'job_get', 'job_config', 'job_kill', 'healthz', 'stray']) {
        assert.ok(n(route) > (route === 'contexts_reset' ? 3 : 30) * scale, `${route} hardly reached`);
      }

      // Still standing: a word count, on both mounts.
      for (const base of [own, `${svc.baseUrl}/compat/spark`]) {
        const r = await fetch(`${base}/jobs?appName=wc&classPath=WordCountExample&sync=true&timeout=60`, { method: 'POST', body: 'input.string = a b c a b see' });
        const text = await r.text();
        assert.equal(r.status, 200, text);
        assert.deepEqual(JSON.parse(text).result, WORDS);
      }
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeKeys, 'Object.prototype was polluted');
    } finally {
      agent.destroy();
      await new Promise((r) => receiver.close(r));
    }
  });
});
