/** The `--progress` report: Alluxio's text layout (literal tabs) and its JSON, from the API's answers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailuresView, JobView, ProgressView } from '../../../cli/apiTypes.ts';
import { formatProgressJson, formatProgressText, toProgressReport, type ProgressReport } from '../../../cli/progressReport.ts';

const MiB = 1024 * 1024;

/** research/clients.md §4.2's example: 1000 files, 125.00MB, 2509.80KB/s, totals not shown. */
const EXAMPLE: ProgressReport = {
  type: 'load', path: '/path', jobState: 'SUCCEEDED', failure: null, verificationEnabled: false,
  processedFileCount: 1000, totalFileCount: null, loadedByteCount: 125 * MiB, totalByteCount: null,
  throughputBytesPerSec: 2570035, failurePercentage: 0, failedFileCount: 0, failedFiles: null,
};

describe('formatProgressText', () => {
  it("prints Alluxio's example exactly", () => {
    assert.equal(formatProgressText(EXAMPLE),
      "Progress for loading path '/path':\n" +
      '\tSettings:\tbandwidth: unlimited\tverify: false\n' +
      '\tJob State: SUCCEEDED\n' +
      '\tFiles Processed: 1000\n' +
      '\tBytes Loaded: 125.00MB\n' +
      '\tThroughput: 2509.80KB/s\n' +
      '\tBlock load failure rate: 0.00%\n' +
      '\tFiles Failed: 0\n');
  });

  it('adds totals, the failure as (code: message), and the failed files', () => {
    const text = formatProgressText({
      ...EXAMPLE, jobState: 'FAILED', failure: { code: 'TOO_MANY_FAILURES', message: '1 of 3 files failed' },
      verificationEnabled: true, processedFileCount: 3, totalFileCount: 3, loadedByteCount: 6400 * MiB, totalByteCount: 6400 * MiB,
      throughputBytesPerSec: null, failurePercentage: 100 / 3, failedFileCount: 1,
      failedFiles: [{ file: '/path/b', reason: 'ENOENT: no such file' }],
    });
    assert.equal(text,
      "Progress for loading path '/path':\n" +
      '\tSettings:\tbandwidth: unlimited\tverify: true\n' +
      '\tJob State: FAILED (TOO_MANY_FAILURES: 1 of 3 files failed)\n' +
      '\tFiles Processed: 3 out of 3\n' +
      '\tBytes Loaded: 6.25GB out of 6.25GB\n' +
      '\tBlock load failure rate: 33.33%\n' +
      '\tFiles Failed: 1\n' +
      '\t\t/path/b: ENOENT: no such file\n');
  });

  it('names the verb of each type', () => {
    assert.match(formatProgressText({ ...EXAMPLE, type: 'free' }), /^Progress for freeing path '\/path':\n/);
    assert.match(formatProgressText({ ...EXAMPLE, type: 'copy' }), /\tBytes Copied: 125\.00MB\n/);
    assert.match(formatProgressText({ ...EXAMPLE, type: 'move' }), /^Progress for moving path/);
  });
});

describe('formatProgressJson', () => {
  it("prints clients.md's example, with 0.0 as Jackson writes a double", () => {
    const json = formatProgressJson({
      ...EXAMPLE, jobState: 'RUNNING', processedFileCount: 3, totalFileCount: 10,
      loadedByteCount: 671088640, totalByteCount: 6710886400,
    }, false);
    assert.equal(json, '{"mVerbose":false,"mJobState":"RUNNING","mVerificationEnabled":false,"mProcessedFileCount":3,"mTotalFileCount":10,"mLoadedByteCount":671088640,"mTotalByteCount":6710886400,"mFailurePercentage":0.0,"mFailedFileCount":0}');
  });

  it('leaves out nulls and adds the failed files when asked', () => {
    const json = formatProgressJson({ ...EXAMPLE, failurePercentage: 50, failedFileCount: 1, failedFiles: [{ file: '/a', reason: 'gone' }] }, true);
    assert.equal(json, '{"mVerbose":true,"mJobState":"SUCCEEDED","mVerificationEnabled":false,"mProcessedFileCount":1000,"mLoadedByteCount":131072000,"mFailurePercentage":50.0,"mFailedFileCount":1,"mFailedFilesWithReasons":{"/a":"gone"}}');
    assert.deepEqual(Object.keys(JSON.parse(json) as object).includes('mTotalFileCount'), false);
  });
});

describe('toProgressReport', () => {
  const job = (over: Partial<JobView> = {}): JobView => ({
    id: 'j1', submitSeq: 1, type: 'load', name: 'load', state: 'RUNNING', spec: { path: 'dir' }, coordinatorId: 'c-1', submittedAt: '',
    error: null, progress: { tasksTotal: 2, itemsTotal: 10, bytesTotal: 100 }, stopRequested: null, ...over,
  });
  const progress = (over: Partial<ProgressView> = {}): ProgressView => ({
    jobId: 'j1', state: 'RUNNING', tasksTotal: 2, itemsTotal: 10, itemsDone: 3, itemsFailed: 1, bytesTotal: 100, bytesDone: 30,
    throughputBytesPerSec: 15, elapsedMs: 2000, ...over,
  });

  it('counts failed files as processed and the rate over processed files', () => {
    const r = toProgressReport('load', '/dir', job(), progress(), null);
    assert.equal(r.processedFileCount, 4);
    assert.equal(r.totalFileCount, 10);
    assert.equal(r.failurePercentage, 25);
    assert.equal(r.throughputBytesPerSec, 15);
    assert.equal(r.verificationEnabled, true); // our load verifies unless the spec says verify: false
  });

  it('knows no totals before the plan and no throughput before any time passed', () => {
    const r = toProgressReport('load', '/dir', job({ spec: { path: 'dir', verify: false } }),
      progress({ tasksTotal: 0, itemsTotal: 0, bytesTotal: 0, itemsDone: 0, itemsFailed: 0, elapsedMs: 0, throughputBytesPerSec: 0 }), null);
    assert.equal(r.totalFileCount, null);
    assert.equal(r.totalByteCount, null);
    assert.equal(r.throughputBytesPerSec, null);
    assert.equal(r.failurePercentage, 0);
    assert.equal(r.verificationEnabled, false);
  });

  it("shows a failed job's error and lists failures under Alluxio paths", () => {
    const failures: FailuresView = {
      items: [{ taskId: 't00000', item: 'dir/b', error: 'ENOENT' }], truncated: false,
      tasks: [{ taskId: 't00001', attempts: [1, 2, 3], error: { code: 'TASK_TIMEOUT', message: 'timed out' } }],
    };
    const r = toProgressReport('load', '/dir', job({ state: 'FAILED', error: { code: 'TOO_MANY_FAILURES', message: 'm' } }), progress({ state: 'FAILED' }), failures);
    assert.deepEqual(r.failure, { code: 'TOO_MANY_FAILURES', message: 'm' });
    assert.deepEqual(r.failedFiles, [{ file: '/dir/b', reason: 'ENOENT' }, { file: 'task t00001', reason: 'TASK_TIMEOUT: timed out' }]);
  });
});
