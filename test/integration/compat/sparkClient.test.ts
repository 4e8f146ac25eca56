/**
 * python-sjsclient (spark-jobserver/python-sjsclient, the official Python client) driven unchanged
 * against the Spark Jobserver facade, on the real engine, a real nats-server and real sandboxed
 * processes (clients.md §3.1): apps, contexts, an async and a sync word count, a job's config, the
 * running jobs listed, a long job deleted, the client's exceptions, and the teardown.
 *
 * The client is not on any registry we can reach and its source is not committed (clients.md):
 * it is read from `SJSCLIENT_SRC` (a directory holding the `sjsclient` package), else extracted
 * from the repository snapshot under /work/.mirror. test/fixtures/spark/sjsclient_driver.py makes
 * the calls (after the Python ≥3.10 shim) and prints one JSON object of what the client saw.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useTestService } from '../../helpers/service.ts';

const REPO = join(import.meta.dirname, '../../..');
const DRIVER = join(REPO, 'test/fixtures/spark/sjsclient_driver.py');
const MIRROR = '/work/.mirror/spark-jobserver+python-sjsclient/repo/.git';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const WORDS = { a: 2, b: 2, c: 1, see: 1 };

/** Where the client's source comes from, or why there is none. */
function clientSource(): { dir: string } | { mirror: string } | { missing: string } {
  const env = process.env['SJSCLIENT_SRC'];
  if (env !== undefined && env !== '') {
    return existsSync(join(env, 'sjsclient', 'client.py')) ? { dir: env } : { missing: `SJSCLIENT_SRC=${env} holds no sjsclient package (sjsclient/client.py)` };
  }
  if (existsSync(MIRROR)) return { mirror: MIRROR };
  return { missing: `python-sjsclient is not at hand: set SJSCLIENT_SRC to a checkout of spark-jobserver/python-sjsclient (not on a reachable registry, and its source is not committed), or provide the snapshot ${MIRROR}` };
}

/** A python3 that can import requests (the client's one dependency), or why there is none. */
function pythonWithRequests(): { python: string } | { missing: string } {
  const tried: string[] = [];
  for (const python of new Set([process.env['SJSCLIENT_PYTHON'] || 'python3', 'python3', '/usr/bin/python3'])) {
    try {
      execFileSync(python, ['-c', 'import requests'], { stdio: 'ignore', timeout: 30_000 });
      return { python };
    } catch {
      tried.push(python);
    }
  }
  return { missing: `no python3 with the requests module (python-sjsclient's one dependency); tried ${tried.join(', ')}` };
}

const source = clientSource();
const python = 'missing' in source ? source : pythonWithRequests();
const skip = 'missing' in source ? source.missing : 'missing' in python ? python.missing : false;
const PYTHON = 'python' in python ? python.python : 'python3';

/** Raw upload, for what the client cannot send: its AppType knows java and python only. */
async function upload(base: string, name: string, file: string, type: string): Promise<void> {
  const res = await fetch(`${base}/binaries/${name}`, { method: 'POST', headers: { 'content-type': type }, body: await readFile(file) });
  assert.equal(res.status, 201, await res.text());
}

describe('python-sjsclient against the Spark Jobserver facade', { timeout: 300_000 }, () => {
  // no service and no extraction when the test is skipped (the reason is in `skip`)
  const ctx = skip === false ? useTestService({ binaryMaxBytes: 2 * 1024 * 1024 }) : undefined;
  let work: string;
  let srcDir: string;
  let wheel: string;
  before(async () => {
    if (skip !== false) return;
    work = await mkdtemp(join(tmpdir(), 'jetjobs-sjsclient-'));
    if ('mirror' in source) {
      // `git archive | tar -x`: only the package, into the temp dir
      srcDir = join(work, 'src');
      await mkdir(srcDir);
      const tar = execFileSync('git', ['--git-dir', source.mirror, 'archive', '--format=tar', 'HEAD', 'sjsclient'], { maxBuffer: 64 * 1024 * 1024 });
      execFileSync('tar', ['-x', '-C', srcDir], { input: tar });
    } else if ('dir' in source) {
      srcDir = source.dir;
    }
    wheel = join(work, 'wc-0.1.0-py3-none-any.whl');
    execFileSync(PYTHON, [join(REPO, 'examples/spark/build-python-wheel.py'), wheel]);
    const base = ctx!.svc.facadeUrls['spark job server']!;
    await upload(base, 'wc', join(REPO, 'examples/spark/word-count.mjs'), 'application/javascript');
    await upload(base, 'testjobs', join(REPO, 'test/fixtures/spark/jobs.mjs'), 'application/javascript');
  });
  after(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('apps, contexts, async and sync jobs, configs, a running job listed and deleted, errors, teardown', { skip }, async () => {
    const args = { endpoint: ctx!.svc.facadeUrls['spark job server']!, wheel, jsApp: 'wc', jobsApp: 'testjobs' };
    // async: the service answers the client from this very process
    const run = await promisify(execFile)(PYTHON, [DRIVER, JSON.stringify(args)], {
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, PYTHONPATH: srcDir, PYTHONDONTWRITEBYTECODE: '1', NO_PROXY: '*', no_proxy: '*' },
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      const seen = (() => {
        try {
          return JSON.parse(err.stdout ?? '') as { crash?: string };
        } catch {
          return undefined;
        }
      })();
      assert.fail(`the driver failed: ${seen?.crash ?? err.message}\nstdout: ${err.stdout ?? ''}\nstderr: ${err.stderr ?? ''}`);
    });
    const o = JSON.parse(run.stdout);
    try {
      check(o);
    } catch (err) {
      (err as Error).message += `\nwhat the client saw: ${JSON.stringify(o, null, 1)}`;
      throw err;
    }
  });
});

/** The driver's observations (test/fixtures/spark/sjsclient_driver.py), as the real server would give them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the driver's JSON, asserted field by field
function check(o: any): void {
  assert.equal(o.crash, undefined);

  // apps.create posts application/python-archive, sleeps 1 s and finds the name in GET /binaries
  assert.equal(o.appsCreate.name, 'wc-py');
  assert.equal(o.appsCreate.time['binary-type'], 'Egg');
  assert.match(o.appsCreate.time['upload-time'], TIME_RE);
  assert.ok(o.appsCreate.seconds >= 1);
  assert.deepEqual(Object.keys(o.appsList).sort(), ['testjobs', 'wc', 'wc-py']);
  assert.equal(o.appsList.wc['binary-type'], 'JavaScript');
  assert.deepEqual(o.appsGetMissing, { type: 'NotFoundException', status_code: null, details: null, str: 'NotFoundException: App no-such-app not found.' });

  assert.equal(o.contextsCreate.name, 'test-context');
  assert.deepEqual(o.contextsList, ['test-context']);
  assert.equal(o.contextsGet, 'test-context');
  assert.equal(o.contextsGetMissing.type, 'NotFoundException');
  assert.equal(o.contextsCreateDuplicate.type, 'HttpException');
  assert.equal(o.contextsCreateDuplicate.status_code, 400);
  assert.equal(o.contextsCreateDuplicate.details, 'ERROR');

  // async: 202 STARTED, then FINISHED with the result; the config as JSON
  assert.equal(o.jobsCreateAsync.status, 'STARTED');
  assert.match(o.jobsCreateAsync.jobId, UUID_RE);
  assert.equal(o.jobsCreateAsync.context, '<<ad-hoc>>');
  assert.equal(o.jobsCreateAsync.classPath, 'word_count.WordCountSparkJob');
  assert.equal(o.jobsCreateAsync.duration, 'Job not done yet');
  assert.equal(o.jobsGetFinished.status, 'FINISHED', JSON.stringify(o.jobsGetFinished));
  assert.deepEqual(o.jobsGetFinished.result, WORDS);
  assert.match(o.jobsGetFinished.duration, /^\d+\.\d+ secs$/);
  assert.match(o.jobsGetFinished.startTime, TIME_RE);
  assert.deepEqual(o.asyncConfig, { input: { string: 'a b c a b see' } });

  // sync in the context: {jobId, result}; get_config() a JobConfig
  assert.match(o.jobsCreateSync.jobId, UUID_RE);
  assert.deepEqual(o.jobsCreateSync.result, WORDS);
  assert.deepEqual(o.jobsCreateSync.keys, ['jobId', 'result']);
  assert.deepEqual(o.syncConfig, { type: 'JobConfig', value: { input: { string: 'a b c a b see' } } });
  assert.equal(o.syncJob.status, 'FINISHED');
  assert.equal(o.syncJob.context, 'test-context');

  // the long job: running, listed among the running jobs (and only running ones), deleted, KILLED
  assert.equal(o.longCreate.status, 'STARTED');
  assert.equal(o.longCreate.context, 'test-context');
  assert.equal(o.longRunning.status, 'RUNNING');
  assert.ok(o.jobsListRunning.some((j: { jobId: string }) => j.jobId === o.longCreate.jobId), JSON.stringify(o.jobsListRunning));
  assert.ok(o.jobsListRunning.every((j: { status: string }) => j.status === 'RUNNING'));
  assert.ok(o.jobsListRunning.every((j: { result: unknown }) => j.result === null));
  const all = new Set(o.jobsListAll.map((j: { jobId: string }) => j.jobId));
  for (const id of [o.jobsCreateAsync.jobId, o.jobsCreateSync.jobId, o.longCreate.jobId]) assert.ok(all.has(id), `${id} in jobs.list()`);
  assert.deepEqual(o.jobsDelete, { status_code: 200, json: { status: 'KILLED' } });
  assert.equal(o.longKilled.status, 'KILLED');
  assert.equal(o.longKilled.result.errorClass, 'spark.jobserver.JobManagerActor$JobKilledException');
  assert.equal(o.jobsDeleteAgain.type, 'NotFoundException');
  assert.equal(o.jobsDeleteAgain.details, 'ERROR');

  // a failing job and a refused config
  assert.equal(o.syncFailed.status, 'ERROR');
  assert.match(o.syncFailed.jobId, UUID_RE);
  assert.deepEqual([o.syncFailed.result.message, o.syncFailed.result.errorClass], ['no good', 'TypeError']);
  assert.equal(o.deleteFailed.status_code, 200);
  assert.equal(o.deleteFailed.json.status, 'ERROR');
  assert.equal(o.deleteFailed.json.ERROR.message, 'no good');
  assert.deepEqual([o.syncRefused.type, o.syncRefused.status_code, o.syncRefused.details], ['HttpException', 400, 'VALIDATION FAILED']);

  // errors: NotFoundException / HttpException with Spark's status as details
  for (const k of ['jobsGetUnknown', 'jobsGetConfigUnknown', 'jobsGetMalformed', 'jobsCreateUnknownApp']) {
    assert.equal(o[k].type, 'NotFoundException', `${k}: ${JSON.stringify(o[k])}`);
    assert.equal(o[k].status_code, 404);
    assert.equal(o[k].details, 'ERROR');
  }
  assert.match(o.jobsGetUnknown.str, /^NotFoundException: 404 Client Error: Not Found for url: .*\/jobs\/00000000-0000-4000-8000-000000000000, ERROR$/);
  assert.deepEqual([o.jobsCreateBadConf.type, o.jobsCreateBadConf.status_code, o.jobsCreateBadConf.details], ['HttpException', 400, 'ERROR']);
  assert.deepEqual([o.appsCreateNotZip.type, o.appsCreateNotZip.status_code, o.appsCreateNotZip.details], ['HttpException', 400, 'ERROR']);

  // teardown
  assert.deepEqual(o.contextsDelete, { status_code: 200, json: { status: 'SUCCESS', result: 'Context stopped' } });
  assert.deepEqual(o.contextsListAfter, []);
  assert.equal(o.contextsDeleteAgain.type, 'NotFoundException');
  assert.deepEqual(o.appsDelete, { status_code: 200, json: { status: 'SUCCESS' } });
  assert.deepEqual(o.appsListAfter, ['testjobs', 'wc']);
  assert.equal(o.appsDeleteAgain.type, 'NotFoundException');
}
