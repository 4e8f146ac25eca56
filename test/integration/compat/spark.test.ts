/**
 * The Spark Jobserver facade (seed 002; clients.md §3) against the real engine, a real nats-server
 * and real sandboxed processes: binaries uploaded and listed, the seed's word count async and sync,
 * a sync job past its timeout, callbacks (also on a kill), a context of 2 slots refusing a third
 * job, a killed script's whole process group gone, a python wheel job, bad input refused with
 * Spark's status and body and nothing written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';
import { readAnswer, type Answer, type Wire } from '../../helpers/wire.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const REPO = join(import.meta.dirname, '../../..');
const WORD_COUNT = join(REPO, 'examples/spark/word-count.mjs');
const TEST_JOBS = join(REPO, 'test/fixtures/spark/jobs.mjs');
const WORDS = { a: 2, b: 2, c: 1, see: 1 };

const base = (svc: TestService) => svc.facadeUrls['spark job server']!;

/** A request as python-sjsclient sends it: raw body, no content type unless given. */
async function spark(svc: TestService, method: string, path: string, body?: string | Buffer, contentType?: string): Promise<Answer> {
  const res = await fetch(`${base(svc)}${path}`, { method, headers: contentType === undefined ? {} : { 'content-type': contentType }, ...(body === undefined ? {} : { body }) });
  return readAnswer(res);
}

async function upload(svc: TestService, name: string, file: string, type = 'application/javascript') {
  const r = await spark(svc, 'POST', `/binaries/${name}`, await readFile(file), type);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json, { status: 'SUCCESS' });
}

async function jobReport(svc: TestService, id: string) {
  const r = await spark(svc, 'GET', `/jobs/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const untilStatus = (svc: TestService, id: string, want: string, timeoutMs = 60_000) =>
  waitFor(async () => {
    const j = await jobReport(svc, id);
    return j.status === want ? j : undefined;
  }, { what: `job ${id} ${want}`, timeoutMs, intervalMs: 100 });

async function nativeJobCount(svc: TestService): Promise<number> {
  const r = await http<{ jobs: unknown[] }>(svc.baseUrl, 'GET', '/native/v1/jobs?limit=1000&active=all');
  return r.body.jobs.length;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A local receiver of callbacks: every POST body it got. */
async function callbackReceiver(): Promise<{ url: string; bodies: Wire[]; close(): Promise<void> }> {
  const bodies: Wire[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}/cb`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

describe('Spark Jobserver facade', { timeout: 300_000 }, () => {
  const ctx = useTestService({ scriptJava: '/usr/bin/java', webhookAllowPrivate: true, binaryMaxBytes: 2 * 1024 * 1024, webhookBackoffMs: 100 });
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jetjobs-spark-'));
    await upload(ctx.svc, 'wc', WORD_COUNT);
    await upload(ctx.svc, 'testjobs', TEST_JOBS);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('lists and describes uploaded binaries as Spark does', async () => {
    const list = await spark(ctx.svc, 'GET', '/binaries');
    assert.equal(list.status, 200);
    assert.equal(list.json.wc['binary-type'], 'JavaScript');
    assert.match(list.json.wc['upload-time'], TIME_RE);
    const one = await spark(ctx.svc, 'GET', '/binaries/wc');
    assert.deepEqual(Object.keys(one.json).sort(), ['app-name', 'binary-type', 'upload-time']);
    assert.equal(one.json['app-name'], 'wc');
    const missing = await spark(ctx.svc, 'GET', '/binaries/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { status: 'ERROR', result: "Can't find binary with name nope" });
  });

  it('answers errors no route wrote (headers too large) in Spark\'s shape too', async () => {
    const url = new URL(base(ctx.svc));
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/jobs', headers: { 'x-big': 'a'.repeat(20_000) } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(answer.status, 431);
    assert.deepEqual(JSON.parse(answer.body), { status: 'ERROR', result: 'The request headers are too large.' });
  });

  it('refuses an upload over binaryMaxBytes with 413 (streamed: nothing kept), a wrong content type with 415, a non-zip jar with 400', async () => {
    const big = await spark(ctx.svc, 'POST', '/binaries/big', Buffer.alloc(3 * 1024 * 1024, 1), 'application/javascript');
    assert.equal(big.status, 413, big.text);
    assert.equal(big.json.status, 'ERROR');
    const wrong = await spark(ctx.svc, 'POST', '/binaries/big', 'x', 'text/plain');
    assert.equal(wrong.status, 415);
    assert.deepEqual(wrong.json, { status: 'ERROR', result: 'Unsupported binary type text/plain' });
    const notZip = await spark(ctx.svc, 'POST', '/binaries/big', 'not a zip at all', 'application/java-archive');
    assert.equal(notZip.status, 400);
    assert.deepEqual(notZip.json, { status: 'ERROR', result: 'Binary is not of the right format' });
    assert.equal((await spark(ctx.svc, 'GET', '/binaries/big')).status, 404, 'nothing was stored');
  });

  it('runs the seed word count async: 202 STARTED, then FINISHED with the result, its config and a duration', async () => {
    const r = await spark(ctx.svc, 'POST', '/jobs?appName=wc&classPath=spark.jobserver.WordCountExample', 'input.string = a b c a b see');
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, 'STARTED');
    assert.equal(r.json.duration, 'Job not done yet');
    assert.equal(r.json.classPath, 'spark.jobserver.WordCountExample');
    assert.equal(r.json.context, '<<ad-hoc>>');
    assert.match(r.json.jobId, UUID_RE);
    assert.match(r.json.contextId, UUID_RE);
    assert.match(r.json.startTime, TIME_RE);
    const done = await untilStatus(ctx.svc, r.json.jobId, 'FINISHED');
    assert.deepEqual(done.result, WORDS);
    assert.match(done.duration, /^\d+\.\d+ secs$/);
    const config = await spark(ctx.svc, 'GET', `/jobs/${r.json.jobId}/config`);
    assert.deepEqual(config.json, { input: { string: 'a b c a b see' } });
    const list = await spark(ctx.svc, 'GET', '/jobs?limit=10&status=finished');
    assert.ok(list.json.some((j: Wire) => j.jobId === r.json.jobId && j.status === 'FINISHED'));
  });

  it('answers a sync job with {jobId, result}, and a JSON body with a content type too', async () => {
    const r = await spark(ctx.svc, 'POST', '/jobs?appName=wc&classPath=WordCountExample&sync=true&timeout=60', '{"input": {"string": "a b c a b see"}}', 'application/json');
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.jobId, UUID_RE);
    assert.deepEqual(r.json.result, WORDS);
  });

  it('answers a sync job past its timeout as Spark does (500 ERROR), and the job goes on to finish', async () => {
    const r = await spark(ctx.svc, 'POST', '/jobs?appName=testjobs&classPath=Sleepy&sync=true&timeout=1', 'ms = 2500, answer = late');
    assert.equal(r.status, 500, r.text);
    assert.equal(r.json.status, 'ERROR');
    assert.equal(r.json.result.errorClass, 'akka.pattern.AskTimeoutException');
    const id = /\/jobs\/([0-9a-f-]{36})$/.exec(r.headers.get('location') ?? '')?.[1];
    assert.ok(id, 'the answer names the job');
    const done = await untilStatus(ctx.svc, id, 'FINISHED');
    assert.equal(done.result, 'late');
  });

  it('sync: a failing job is 200 ERROR with message/errorClass/stack; a refused config is 400 VALIDATION FAILED', async () => {
    const failed = await spark(ctx.svc, 'POST', '/jobs?appName=testjobs&classPath=Thrower&sync=true&timeout=60', '');
    assert.equal(failed.status, 200, failed.text);
    assert.equal(failed.json.status, 'ERROR');
    assert.equal(failed.json.result.message, 'no good');
    assert.equal(failed.json.result.errorClass, 'TypeError');
    assert.match(failed.json.result.stack, /Thrower|runJob/);
    assert.ok(!failed.json.result.stack.includes(REPO) && !failed.json.result.stack.includes(ctx.svc.config.stateDir), `server paths in the stack: ${failed.json.result.stack}`);
    const noClass = await spark(ctx.svc, 'POST', '/jobs?appName=wc&classPath=NoSuchExport&sync=true&timeout=60', '');
    assert.equal(noClass.status, 404, noClass.text);
    assert.deepEqual(noClass.json, { status: 'ERROR', result: 'classPath NoSuchExport not found' });
    const refused = await spark(ctx.svc, 'POST', '/jobs?appName=wc&classPath=WordCountExample&sync=true&timeout=60', 'other = 1');
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.status, 'VALIDATION FAILED');
    assert.match(JSON.stringify(refused.json.result), /No input\.string param/);
  });

  it('posts {jobId, result} to the callbackUrl, and {jobId, status: KILLED} when the job is deleted', async () => {
    const cb = await callbackReceiver();
    try {
      const enc = encodeURIComponent(cb.url);
      const ok = await spark(ctx.svc, 'POST', `/jobs?appName=wc&classPath=WordCountExample&callbackUrl=${enc}`, 'input.string = a b c a b see');
      assert.equal(ok.status, 202, ok.text);
      const got = await waitFor(() => cb.bodies.find((b) => b.jobId === ok.json.jobId), { what: 'the success callback', timeoutMs: 60_000 });
      assert.deepEqual(got, { jobId: ok.json.jobId, result: WORDS });

      const long = await spark(ctx.svc, 'POST', `/jobs?appName=testjobs&classPath=Sleepy&callbackUrl=${enc}`, 'ms = 60000');
      await untilStatus(ctx.svc, long.json.jobId, 'RUNNING');
      const del = await spark(ctx.svc, 'DELETE', `/jobs/${long.json.jobId}`);
      assert.equal(del.status, 200, del.text);
      assert.deepEqual(del.json, { status: 'KILLED' });
      const killed = await waitFor(() => cb.bodies.find((b) => b.jobId === long.json.jobId), { what: 'the kill callback', timeoutMs: 60_000 });
      assert.equal(killed.status, 'KILLED');
      assert.equal(killed.result.errorClass, 'spark.jobserver.JobManagerActor$JobKilledException');
      const again = await spark(ctx.svc, 'DELETE', `/jobs/${long.json.jobId}`);
      assert.equal(again.status, 404);
      assert.equal(again.json.result, `No running job with ID ${long.json.jobId}`);
    } finally {
      await cb.close();
    }
  });

  it('a context of 2 slots runs two jobs and refuses a third with 503 NO SLOTS AVAILABLE; deleting it kills its jobs', async () => {
    const made = await spark(ctx.svc, 'POST', '/contexts/pair?num-cpu-cores=2&memory-per-node=512m');
    assert.equal(made.status, 200, made.text);
    assert.deepEqual(made.json, { status: 'SUCCESS', result: 'Context initialized' });
    const dup = await spark(ctx.svc, 'POST', '/contexts/pair?num-cpu-cores=2');
    assert.equal(dup.status, 400);
    assert.deepEqual(dup.json, { status: 'ERROR', result: 'context pair exists' });
    assert.ok((await spark(ctx.svc, 'GET', '/contexts')).json.includes('pair'));
    const info = await spark(ctx.svc, 'GET', '/contexts/pair');
    assert.deepEqual(Object.keys(info.json).sort(), ['endTime', 'id', 'name', 'startTime', 'state']);
    assert.equal(info.json.endTime, 'Empty');

    const one = await spark(ctx.svc, 'POST', '/jobs?appName=testjobs&classPath=Sleepy&context=pair', 'ms = 60000');
    const two = await spark(ctx.svc, 'POST', '/jobs?appName=testjobs&classPath=Sleepy&context=pair', 'ms = 60000');
    assert.equal(one.status, 202, one.text);
    assert.equal(two.status, 202, two.text);
    assert.equal(one.json.context, 'pair');
    assert.equal(one.json.contextId, info.json.id);
    const before = await nativeJobCount(ctx.svc);
    const three = await spark(ctx.svc, 'POST', '/jobs?appName=testjobs&classPath=Sleepy&context=pair', 'ms = 60000');
    assert.equal(three.status, 503, three.text);
    assert.deepEqual(three.json, { status: 'NO SLOTS AVAILABLE', result: "Too many running jobs (2) for job context 'pair'" });
    assert.equal(await nativeJobCount(ctx.svc), before, 'a refused start writes nothing');

    const del = await spark(ctx.svc, 'DELETE', '/contexts/pair?force=true');
    assert.deepEqual(del.json, { status: 'SUCCESS', result: 'Context stopped' });
    await untilStatus(ctx.svc, one.json.jobId, 'KILLED');
    await untilStatus(ctx.svc, two.json.jobId, 'KILLED');
    assert.equal((await spark(ctx.svc, 'GET', '/contexts/pair')).status, 404);
    const gone = await spark(ctx.svc, 'POST', '/jobs?appName=testjobs&classPath=Sleepy&context=pair', 'ms = 1');
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.json, { status: 'ERROR', result: 'context pair not found' });
  });

  it('kills a running script with its whole process group (a grandchild too), and the worker goes on', async () => {
    // the script runs as a sandbox uid: it may write only where everyone may
    const drop = await mkdtemp(join(tmpdir(), 'jetjobs-spark-drop-'));
    await chmod(drop, 0o777);
    const pidFile = join(drop, 'pids.json');
    const r = await spark(ctx.svc, 'POST', '/jobs?appName=testjobs&classPath=Spawner', `pidFile = "${pidFile}"`);
    assert.equal(r.status, 202, r.text);
    const pids = await waitFor(async () => {
      try {
        return JSON.parse(await readFile(pidFile, 'utf8')) as { self: number; child: number };
      } catch {
        return undefined;
      }
    }, { what: 'the script pids', timeoutMs: 60_000 });
    assert.ok(pidAlive(pids.self) && pidAlive(pids.child));
    const del = await spark(ctx.svc, 'POST', `/jobs/${r.json.jobId}?_method=DELETE`);
    assert.deepEqual(del.json, { status: 'KILLED' });
    await waitFor(() => !pidAlive(pids.self) && !pidAlive(pids.child), { what: 'the script and its child gone', timeoutMs: 30_000 });
    const next = await spark(ctx.svc, 'POST', '/jobs?appName=wc&classPath=WordCountExample&sync=true&timeout=60', 'input.string = a b c a b see');
    assert.deepEqual(next.json.result, WORDS);
  });

  it('runs a python wheel job and a Java jar job with the same result', async () => {
    const wheel = join(work, 'wc-0.1.0-py3-none-any.whl');
    execFileSync('python3', [join(REPO, 'examples/spark/build-python-wheel.py'), wheel]);
    await upload(ctx.svc, 'wc-py', wheel, 'application/python-wheel');
    const py = await spark(ctx.svc, 'POST', '/jobs?appName=wc-py&classPath=word_count.WordCountSparkJob&sync=true&timeout=60', 'input.string = a b c a b see');
    assert.equal(py.status, 200, py.text);
    assert.deepEqual(py.json.result, WORDS);

    const jar = join(work, 'wc.jar');
    execFileSync('bash', [join(REPO, 'examples/spark/build-java-example.sh'), jar]);
    await upload(ctx.svc, 'wc-java', jar, 'application/java-archive');
    const java = await spark(ctx.svc, 'POST', '/jobs?appName=wc-java&classPath=WordCountExample&sync=true&timeout=120', 'input.string = a b c a b see');
    assert.equal(java.status, 200, java.text);
    assert.deepEqual(java.json.result, WORDS);
  });
});

describe('Spark Jobserver facade with basic auth', { timeout: 120_000 }, () => {
  const ctx = useTestService({ sparkAuth: 'basic', sseMaxPerUser: 1 });
  const as = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${user}-password-123`).toString('base64')}` });
  const call = async (method: string, path: string, headers: Record<string, string>, body?: Buffer | string) => {
    const res = await fetch(`${base(ctx.svc)}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    return { status: res.status, json: (await res.json()) as Wire, auth: res.headers.get('www-authenticate') };
  };
  before(async () => {
    for (const [name, role] of [['alice', 'operator'], ['bob', 'operator'], ['vic', 'viewer']]) {
      const r = await http(ctx.svc.baseUrl, 'POST', '/native/v1/users', { name, password: `${name}-password-123`, role });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  });

  it('asks for credentials in Spark\'s error shape; a viewer may read but not upload; only the uploader (or an admin) replaces or deletes a binary', async () => {
    const anon = await call('GET', '/binaries', {});
    assert.equal(anon.status, 401);
    assert.equal(anon.json.status, 'ERROR');
    assert.match(anon.auth ?? '', /^Basic/);
    const code = await readFile(WORD_COUNT);
    const js = { 'content-type': 'application/javascript' };
    assert.equal((await call('POST', '/binaries/shared', { ...as('alice'), ...js }, code)).status, 201);
    assert.equal((await call('GET', '/binaries', as('vic'))).status, 200);
    const viewerUpload = await call('POST', '/binaries/mine', { ...as('vic'), ...js }, code);
    assert.equal(viewerUpload.status, 403);
    assert.equal(viewerUpload.json.status, 'ERROR');
    const replace = await call('POST', '/binaries/shared', { ...as('bob'), ...js }, 'export const Evil = () => 1;');
    assert.equal(replace.status, 403);
    assert.match(replace.json.result, /uploaded by another user/);
    assert.equal((await call('DELETE', '/binaries/shared', as('bob'))).status, 403);
    const run = await call('POST', '/jobs?appName=shared&classPath=WordCountExample&sync=true&timeout=60', as('bob'), 'input.string = a b c a b see');
    assert.deepEqual(run.json.result, WORDS, 'alice\'s code ran unchanged');
    assert.equal((await call('DELETE', '/binaries/shared', as('alice'))).status, 200);
  });

  it('holds at most sseMaxPerUser sync requests per user: one more is 429 in Spark\'s shape with no job written', async () => {
    const js = { ...as('alice'), 'content-type': 'application/javascript' };
    assert.equal((await call('POST', '/binaries/tj', js, await readFile(TEST_JOBS))).status, 201);
    const count = async () => (await http<{ jobs: unknown[] }>(ctx.svc.baseUrl, 'GET', '/native/v1/jobs?limit=100&type=script')).body.jobs.length;
    const before = await count();
    const first = call('POST', '/jobs?appName=tj&classPath=Sleepy&sync=true&timeout=60', as('alice'), 'ms = 3000, answer = first');
    await waitFor(async () => (await count()) === before + 1, { what: 'the first sync job submitted', timeoutMs: 30_000 });
    const second = await call('POST', '/jobs?appName=tj&classPath=Sleepy&sync=true&timeout=60', as('alice'), 'ms = 1');
    assert.equal(second.status, 429);
    assert.equal(second.json.status, 'ERROR');
    assert.equal(await count(), before + 1, 'the refused one wrote nothing');
    assert.equal((await call('POST', '/jobs?appName=tj&classPath=Sleepy&sync=true&timeout=60', as('bob'), 'ms = 1, answer = bob')).json.result, 'bob', 'another user is not held up');
    assert.equal((await first).json.result, 'first');
    assert.equal((await call('POST', '/jobs?appName=tj&classPath=Sleepy&sync=true&timeout=60', as('alice'), 'ms = 1, answer = again')).json.result, 'again', 'the slot is free again');
  });
});
