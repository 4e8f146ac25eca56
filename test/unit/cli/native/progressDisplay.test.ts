/** What the progress display shows: done/total in the job's unit, bytes, throughput, ETA, failures; plain lines one per change, rate-limited. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { JobView, ProgressView } from '../../../../cli/apiTypes.ts';
import { createProgressDisplay, detailText, figuresOf, PLAIN_LINE_MIN_MS } from '../../../../cli/native/progressDisplay.ts';
import { formatBytes, formatDuration } from '../../../../cli/native/output.ts';

const job = (type: string, tasksSucceeded = 0, tasksFailed = 0) => ({ type, progress: { tasksTotal: 10, itemsTotal: 0, bytesTotal: 0, tasksSucceeded, tasksFailed } }) as unknown as JobView;
const progress = (p: Partial<ProgressView>): ProgressView => ({
  jobId: 'j', state: 'RUNNING', tasksTotal: 10, itemsTotal: 0, itemsDone: 0, itemsFailed: 0, bytesTotal: 0, bytesDone: 0, throughputBytesPerSec: 0, elapsedMs: 0, ...p,
});

it('counts files for file jobs, with bytes, throughput and an ETA from the throughput', () => {
  const f = figuresOf(job('load'), progress({ itemsTotal: 1000, itemsDone: 400, itemsFailed: 12, bytesTotal: 100 * 1024 * 1024, bytesDone: 40 * 1024 * 1024, throughputBytesPerSec: 2 * 1024 * 1024, elapsedMs: 20_000 }));
  assert.equal(detailText(f), '412/1000 files  40.0 MiB/100.0 MiB  2.00 MiB/s  ETA 30s  12 failed');
});

it('counts tasks when there are no items, with an ETA from the pace so far', () => {
  const f = figuresOf(job('noop', 4, 1), progress({ elapsedMs: 10_000 }));
  assert.equal(detailText(f), '5/10 tasks  ETA 10s  1 failed');
  assert.equal(figuresOf(job('noop'), progress({ state: 'SUCCEEDED' })).etaMs, null, 'no ETA once finished');
});

it('plain lines: one per change, at most one a second unless the state changes, the last one on stop', () => {
  let now = 0;
  const out: string[] = [];
  const d = createProgressDisplay({ write: (s: string) => out.push(s) }, () => now);
  const at = (done: number, state = 'RUNNING') => figuresOf(job('noop', done), progress({ state }));
  d.update(at(1));
  d.update(at(1));
  now += 100;
  d.update(at(2)); // too soon: held
  now += PLAIN_LINE_MIN_MS;
  d.update(at(3));
  d.update(at(4, 'PAUSED')); // a state change is printed at once
  d.update(at(5, 'PAUSED'));
  d.stop();
  assert.deepEqual(out.map((l) => l.split('  ')[0]!.trim() + ' ' + /(\d+)\/10/.exec(l)![1]), ['RUNNING 1', 'RUNNING 3', 'PAUSED 4', 'PAUSED 5']);
});

it('formats sizes and durations for people', () => {
  assert.deepEqual([0, 1023, 1536, 200 * 1024 * 1024].map(formatBytes), ['0 B', '1023 B', '1.50 KiB', '200.0 MiB']);
  assert.deepEqual([1234, 42_000, 75_000, 3 * 3_600_000 + 60_000].map(formatDuration), ['1.2s', '42s', '1m15s', '3h01m']);
});
