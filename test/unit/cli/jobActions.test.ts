/** The `job` commands over a fake client: (type, path) identity, what a submit sends, stop, follow's redraw. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailuresView, JobView, ProgressView } from '../../../cli/apiTypes.ts';
import type { JetjobsClient } from '../../../cli/client.ts';
import { CliError, EXIT } from '../../../cli/exitCodes.ts';
import { waitFor } from '../../helpers/wait.ts';
import { findJob, runPathJob, type CliIo, type PathJobOptions } from '../../../cli/jobActions.ts';
import { identityKey, PATH_LABEL, pathHash, pathSelector } from '../../../cli/alluxioIdentity.ts';
import { normalizeNative, toNativePath } from '../../../cli/alluxioPath.ts';
import { identityKey as facadeIdentityKey, identityPath, PATH_LABEL as FACADE_PATH_LABEL, pathHash as facadePathHash } from '../../../api/compat/alluxio/jobIdentity.ts';

function job(id: string, type: string, spec: Record<string, unknown>, state = 'SUCCEEDED'): JobView {
  return { id, submitSeq: 1, type, name: type, state, spec, coordinatorId: 'c-1', submittedAt: '', error: null, progress: { tasksTotal: 1, itemsTotal: 1, bytesTotal: 1 }, stopRequested: null };
}

/** A client over a fixed job list (newest first); records what was sent; progress states come from `states`. */
function fakeClient(jobs: JobView[], states: string[] = ['SUCCEEDED'], keyed = new Map<string, JobView>()) {
  const sent: { submits: unknown[]; keys: (string | undefined)[]; stops: string[]; streamed: number; hungUp: boolean } = { submits: [], keys: [], stops: [], streamed: 0, hungUp: false };
  // the server labels nothing itself: here every job carries the identity label of its spec path
  const selector = (j: JobView) => pathSelector(normalizeNative(String(j.spec['src'] ?? j.spec['path'])));
  let polls = 0;
  const progress = (id: string): ProgressView => ({
    jobId: id, state: states[Math.min(polls++, states.length - 1)] ?? 'SUCCEEDED', tasksTotal: 1, itemsTotal: 1, itemsDone: 1, itemsFailed: 0,
    bytesTotal: 1, bytesDone: 1, throughputBytesPerSec: 1, elapsedMs: 1,
  });
  const client: JetjobsClient = {
    submit: (body, key) => {
      sent.submits.push(body);
      sent.keys.push(key);
      const earlier = key === undefined ? undefined : keyed.get(key);
      return Promise.resolve(earlier ? { job: earlier, created: false } : { job: job('new', body.type, body.spec, 'WAITING'), created: true });
    },
    listJobs: (query, until) => {
      const out: JobView[] = [];
      for (const j of jobs.filter((x) => x.type === query['type'] && (query['label'] === undefined || selector(x) === query['label']))) {
        out.push(j);
        if (until?.(j)) break;
      }
      return Promise.resolve(out);
    },
    job: (id) => Promise.resolve(jobs.find((j) => j.id === id) ?? job(id, 'load', {})),
    progress: (id) => Promise.resolve(progress(id)),
    failures: (): Promise<FailuresView> => Promise.resolve({ items: [], truncated: false, tasks: [] }),
    stop: (id) => { sent.stops.push(id); return Promise.resolve(job(id, 'load', {}, 'STOPPED')); },
    rerun: (id) => Promise.resolve(job(`${id}-again`, 'load', {})),
    // a live stream that brings an event every 10 ms until the follower hangs up
    events: async function* (_id, _after, signal) {
      try {
        for (let n = 1; !signal.aborted; n++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          sent.streamed++;
          yield { id: String(n), event: 'TaskSucceeded', data: '{}' };
        }
      } finally {
        sent.hungUp = true;
      }
    },
  };
  return { client, sent };
}

function capture(isTTY = false): CliIo & { out: () => string } {
  let text = '';
  return { stdout: { write: (s: string) => { text += s; }, isTTY }, stderr: { write: () => undefined }, out: () => text };
}

const base: PathJobOptions = { type: 'load', path: '/dir', verify: false, action: 'submit', format: 'TEXT', verbose: false, follow: false };

describe('job actions', () => {
  it('finds the most recent job of (type, path), however its path is spelled, copy/move by src', async () => {
    const { client } = fakeClient([
      job('free-1', 'free', { path: 'dir' }),
      job('load-3', 'load', { path: 'other' }),
      job('load-2', 'load', { path: './dir/' }),
      job('load-1', 'load', { path: 'dir' }),
      job('copy-1', 'copy', { src: 'dir', dst: 'x' }),
    ]);
    assert.equal((await findJob(client, 'load', 'dir'))?.id, 'load-2');
    assert.equal((await findJob(client, 'copy', 'dir'))?.id, 'copy-1');
    assert.equal(await findJob(client, 'move', 'dir'), null);
  });

  it("submits Alluxio's defaults: verify off unless asked, paths under the root, dst for copy", async () => {
    const { client, sent } = fakeClient([]);
    assert.equal(await runPathJob(client, { ...base, path: '/', batchSize: 50 }, capture()), EXIT.OK);
    assert.equal(await runPathJob(client, { ...base, type: 'copy', path: '/a', dst: '/b', verify: true }, capture()), EXIT.OK);
    assert.equal(await runPathJob(client, { ...base, type: 'free', path: '/a/b' }, capture()), EXIT.OK);
    assert.deepEqual(sent.submits, [
      { type: 'load', spec: { path: '.', batchSize: 50, verify: false }, labels: { 'alluxio/path': pathHash('.') } },
      { type: 'copy', spec: { src: 'a', dst: 'b' }, labels: { 'alluxio/path': pathHash('a') } },
      { type: 'free', spec: { path: 'a/b' }, labels: { 'alluxio/path': pathHash('a/b') } },
    ]);
    assert.deepEqual(sent.keys, [identityKey('load', '.', 0), identityKey('copy', 'a', 0), identityKey('free', 'a/b', 0)]);
  });

  it('keys a submission by the path and its last finished job, as the EE facade does', async () => {
    const done = { ...job('load-1', 'load', { path: 'dir' }), submitSeq: 41 };
    const { client, sent } = fakeClient([done]);
    const io = capture();
    assert.equal(await runPathJob(client, base, io), EXIT.OK);
    assert.deepEqual(sent.keys, [identityKey('load', 'dir', 41)]);
    assert.match(io.out(), /^Load '\/dir' is successfully submitted\. JobId: new\n$/);
  });

  it('an identical submission at the same moment (its key names a running job) is not reported as submitted', async () => {
    const twin = job('twin', 'load', { path: 'dir' }, 'RUNNING');
    const { client } = fakeClient([], ['SUCCEEDED'], new Map([[identityKey('load', 'dir', 0), twin]]));
    const io = capture();
    assert.equal(await runPathJob(client, base, io), EXIT.OK);
    assert.match(io.out(), /^Load already running for path '\/dir' \(job twin, RUNNING\); nothing submitted\n$/);
  });

  it('the facade and the command line derive the same label and key for a path', () => {
    for (const [alluxio, type] of [['/', 'load'], ['/a/b/', 'load'], ['alluxio://m:19998/a//b', 'copy'], ['/x/../y', 'free']] as const) {
      const native = toNativePath(alluxio);
      const facade = identityPath('path', alluxio);
      assert.equal(native, facade, alluxio);
      assert.equal(pathHash(native), facadePathHash(facade));
      assert.equal(identityKey(type, native, 7), facadeIdentityKey(type, facade, 7));
    }
    assert.equal(PATH_LABEL, FACADE_PATH_LABEL);
  });

  it('submits nothing while a job of (type, path) is unfinished', async () => {
    const { client, sent } = fakeClient([job('load-1', 'load', { path: 'dir' }, 'RUNNING')]);
    const io = capture();
    assert.equal(await runPathJob(client, base, io), EXIT.OK);
    assert.equal(sent.submits.length, 0);
    assert.match(io.out(), /^Load already running for path '\/dir' \(job load-1, RUNNING\); nothing submitted\n$/);
  });

  it('stops a running job; a finished one is not found (exit 3)', async () => {
    const running = fakeClient([job('load-1', 'load', { path: 'dir' }, 'RUNNING')]);
    assert.equal(await runPathJob(running.client, { ...base, action: 'stop' }, capture()), EXIT.OK);
    assert.deepEqual(running.sent.stops, ['load-1']);
    const done = fakeClient([job('load-1', 'load', { path: 'dir' })]);
    await assert.rejects(runPathJob(done.client, { ...base, action: 'stop' }, capture()), (e: unknown) => e instanceof CliError && e.exitCode === EXIT.NOT_FOUND);
    assert.deepEqual(done.sent.stops, []);
  });

  it('exits 1 for the progress of a failed or stopped job, 0 otherwise', async () => {
    for (const [state, code] of [['FAILED', 1], ['STOPPED', 1], ['SUCCEEDED', 0], ['RUNNING', 0]] as const) {
      const { client } = fakeClient([job('load-1', 'load', { path: 'dir' }, state)], [state]);
      assert.equal(await runPathJob(client, { ...base, action: 'progress' }, capture()), code, state);
    }
  });

  it('--follow redraws the block in place on a terminal until the job ends, woken by the event stream (closed at the end)', async () => {
    const { client, sent } = fakeClient([job('load-1', 'load', { path: 'dir' }, 'RUNNING')], ['RUNNING', 'SUCCEEDED']);
    const io = capture(true);
    assert.equal(await runPathJob(client, { ...base, action: 'progress', follow: true }, io), EXIT.OK);
    const [first, second] = io.out().split('\x1b[8A\x1b[J'); // up over the 8 lines of the first block, clear
    assert.match(first ?? '', /\tJob State: RUNNING\n/);
    assert.match(second ?? '', /^Progress for loading path '\/dir':\n[^]*\tJob State: SUCCEEDED\n/);
    assert.ok(sent.streamed > 0, 'the stream was read');
    await waitFor(() => sent.hungUp, { what: 'the follower hung up the stream once the job ended' });
  });

  it('refuses flags that do not go together (exit 2)', async () => {
    const { client } = fakeClient([]);
    for (const o of [
      { ...base, type: 'copy' as const },
      { ...base, dst: '/x' },
      { ...base, type: 'free' as const, verify: true },
      { ...base, action: 'stop' as const, batchSize: 5 },
      { ...base, follow: true },
      { ...base, format: 'JSON' as const },
    ]) {
      await assert.rejects(runPathJob(client, o, capture()), (e: unknown) => e instanceof CliError && e.exitCode === EXIT.INVALID_INPUT, JSON.stringify(o));
    }
  });
});
