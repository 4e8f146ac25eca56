/** Following a job: what the terminal is left with when the follow ends in an error. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { it } from 'node:test';
import type { JobView, ProgressView } from '../../../../cli/apiTypes.ts';
import { CliError, NATIVE_EXIT } from '../../../../cli/exitCodes.ts';
import type { Http, LiveEvent } from '../../../../cli/http.ts';
import { followJob } from '../../../../cli/native/follow.ts';

const job = { id: 'j1', type: 'noop', name: 'n', state: 'RUNNING', progress: { tasksTotal: 4, itemsTotal: 0, bytesTotal: 0, tasksSucceeded: 1, tasksFailed: 0 } } as unknown as JobView;
const progress: ProgressView = {
  jobId: 'j1', state: 'RUNNING', tasksTotal: 4, itemsTotal: 0, itemsDone: 0, itemsFailed: 0, bytesTotal: 0, bytesDone: 0, throughputBytesPerSec: 0, elapsedMs: 1000,
};

it('a follow on a terminal that ends in an error stops its bar: no redraw timer left running, line wrapping restored', async () => {
  let reads = 0;
  const http = {
    url: 'http://127.0.0.1:1',
    async call(_method: string, path: string) {
      // the first snapshot is read, the second fails for good (here a 404; as well a token that expired meanwhile, or a service down past FOLLOW_UNAVAILABLE_MS)
      if (path.endsWith('/progress')) return progress;
      if (reads++ === 0) return job;
      throw new CliError(NATIVE_EXIT.NOT_FOUND, 'GET /jobs/j1: HTTP 404 JOB_NOT_FOUND');
    },
    async *events(_path: string, _after: string | undefined, signal: AbortSignal): AsyncIterable<LiveEvent> {
      yield { id: '1', event: 'TaskSucceeded', data: '{}' };
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
  } as unknown as Http;
  const written: string[] = [];
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  stdout.on('data', (d: Buffer) => written.push(d.toString()));
  await assert.rejects(followJob(http, 'j1', { stdout, stderr: new PassThrough() }), (e: unknown) => e instanceof CliError && e.exitCode === NATIVE_EXIT.NOT_FOUND);
  await new Promise((resolve) => setImmediate(resolve));
  const out = written.join('');
  assert.ok(out.includes('\u2588'), 'the bar was drawn');
  assert.ok(out.includes('\x1b[?7l'), 'line wrapping was turned off for the bar');
  assert.ok(out.includes('\x1b[?7h'), 'and on again when the bar stopped');
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout');
  assert.deepEqual(timers, [], 'no redraw timer holds the process open');
});
