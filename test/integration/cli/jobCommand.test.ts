/**
 * The `jetjobs` binary (bin/jetjobs.mjs, run as a separate process) against a real service:
 * submit a load of 1,000 small files by path, follow its progress to SUCCEEDED with Alluxio's text
 * layout, list, stop a long load, re-run, and the exit codes for not found, bad flags and a bad token.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { useTestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

const BIN = fileURLToPath(new URL('../../../bin/jetjobs.mjs', import.meta.url));
const FILES = 1000;
const FILE_BYTES = 100;

interface Run { code: number; stdout: string; stderr: string }

/** Runs the binary from another directory (the launcher finds its code by its own path). */
function jetjobs(url: string, args: string[], token = TEST_ADMIN_TOKEN): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: '/', env: { ...process.env, JETJOBS_URL: url, JETJOBS_TOKEN: token }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }));
  });
}

async function writeFiles(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(Array.from({ length: count }, (_, i) => writeFile(join(dir, `f${String(i).padStart(4, '0')}.txt`), 'x'.repeat(FILE_BYTES))));
}

describe('jetjobs job (the binary against a service)', () => {
  // Few tasks at once, so the 3,000 one-file tasks of the stop test take long enough to stop.
  const ctx = useTestService({ workerConcurrency: 4 });

  it('submits a load by path, follows it to SUCCEEDED in the text layout, and lists it', async () => {
    const url = ctx.svc.baseUrl;
    await writeFiles(join(ctx.svc.config.filesDir, 'dir'), FILES);

    const submitted = await jetjobs(url, ['job', 'load', '--path', '/dir', '--submit']);
    assert.equal(submitted.code, 0, submitted.stderr);
    assert.match(submitted.stdout, /^Load '\/dir' is successfully submitted\. JobId: [0-9a-f-]{36}\n$/);

    const again = await jetjobs(url, ['job', 'load', '--path', '/dir']);
    assert.equal(again.code, 0, again.stderr);

    let last: Run | undefined;
    await waitFor(async () => {
      last = await jetjobs(url, ['job', 'load', '--path', '/dir', '--progress']);
      assert.equal(last.code, 0, last.stderr);
      return last.stdout.includes('\tJob State: SUCCEEDED\n');
    }, { what: 'the load to succeed', timeoutMs: 60_000, intervalMs: 200 });
    const lines = last!.stdout.split('\n');
    assert.equal(lines[0], "Progress for loading path '/dir':");
    assert.equal(lines[1], '\tSettings:\tbandwidth: unlimited\tverify: false');
    assert.equal(lines[2], '\tJob State: SUCCEEDED');
    assert.equal(lines[3], `\tFiles Processed: ${FILES} out of ${FILES}`);
    assert.equal(lines[4], '\tBytes Loaded: 97.66KB out of 97.66KB'); // 100,000 bytes
    assert.match(lines[5] ?? '', /^\tThroughput: [0-9.]+(B|KB|MB|GB)\/s$/);
    assert.deepEqual(lines.slice(6), ['\tBlock load failure rate: 0.00%', '\tFiles Failed: 0', '']);

    const json = await jetjobs(url, ['job', 'load', '--path', '/dir', '--progress', '--format', 'JSON']);
    assert.equal(json.code, 0);
    assert.equal(json.stdout, `{"mVerbose":false,"mJobState":"SUCCEEDED","mVerificationEnabled":false,"mProcessedFileCount":${FILES},"mTotalFileCount":${FILES},"mLoadedByteCount":${FILES * FILE_BYTES},"mTotalByteCount":${FILES * FILE_BYTES},"mFailurePercentage":0.0,"mFailedFileCount":0}\n`);

    const followed = await jetjobs(url, ['job', 'load', '--path', '/dir', '--progress', '--follow']);
    assert.equal(followed.code, 0);
    assert.match(followed.stdout, /\tJob State: SUCCEEDED\n/);

    const listed = await jetjobs(url, ['job', 'list', '--job-type', 'LOAD', '--job-state', 'SUCCEEDED']);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = listed.stdout.trim().split('\n');
    assert.equal(rows[0], 'JOB ID\tTYPE\tPATH\tSTATE\tCOORDINATOR');
    assert.equal(rows.length, 2);
    assert.match(rows[1] ?? '', /^[0-9a-f-]{36}\tLOAD\t\/dir\tSUCCEEDED\tc-/);
    const coordinator = (rows[1] ?? '').split('\t')[4] ?? '';
    const byCoordinator = await jetjobs(url, ['job', 'list', '--coordinator', coordinator]);
    assert.equal(byCoordinator.stdout.trim().split('\n').length, 2);
    const otherCoordinator = await jetjobs(url, ['job', 'list', '--coordinator', 'c-nobody']);
    assert.equal(otherCoordinator.stdout, 'JOB ID\tTYPE\tPATH\tSTATE\tCOORDINATOR\n');

    const rerun = await jetjobs(url, ['job', 'rerun', '--type', 'LOAD', '--path', '/dir']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /^Load '\/dir' is successfully re-run\. JobId: /);
    const rerunFollowed = await jetjobs(url, ['job', 'load', '--path', '/dir', '--progress', '--follow', '--format', 'JSON']);
    assert.equal(rerunFollowed.code, 0);
    assert.match(rerunFollowed.stdout.trim().split('\n').at(-1) ?? '', /"mJobState":"SUCCEEDED"/);
  });

  it('stops a long load by path; its progress then exits 1', async () => {
    const url = ctx.svc.baseUrl;
    await writeFiles(join(ctx.svc.config.filesDir, 'big'), 3000);
    const submitted = await jetjobs(url, ['job', 'load', '--path', '/big', '--batch-size', '1', '--verify']);
    assert.equal(submitted.code, 0, submitted.stderr);

    await waitFor(async () => {
      const json = await jetjobs(url, ['job', 'load', '--path', '/big', '--progress', '--format', 'JSON']);
      const report = JSON.parse(json.stdout) as { mJobState: string; mProcessedFileCount: number };
      assert.notEqual(report.mJobState, 'SUCCEEDED', 'the load ended before the test could stop it');
      return report.mJobState === 'RUNNING' && report.mProcessedFileCount > 0;
    }, { what: 'the load to run', timeoutMs: 30_000, intervalMs: 50 });
    const stopped = await jetjobs(url, ['job', 'load', '--path', '/big', '--stop']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /^Load '\/big' is successfully stopped\./);

    const followed = await jetjobs(url, ['job', 'load', '--path', '/big', '--progress', '--follow']);
    assert.equal(followed.code, 1, followed.stdout + followed.stderr);
    assert.match(followed.stdout, /\tSettings:\tbandwidth: unlimited\tverify: true\n\tJob State: STOPPED\n/);
    assert.ok(!followed.stdout.includes('\x1b'), 'not a terminal: plain lines, no redrawing');
    const processed = Number([...followed.stdout.matchAll(/Files Processed: (\d+) out of 3000\n/g)].at(-1)?.[1]);
    assert.ok(processed < 3000, `stopped after ${processed} of 3000 files`);

    const again = await jetjobs(url, ['job', 'load', '--path', '/big', '--stop']);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /might have been stopped or finished/);
  });

  it('exits 3 when no job has that (type, path), 2 on bad flags, 4 without a valid token or service', async () => {
    const url = ctx.svc.baseUrl;
    const missing = await jetjobs(url, ['job', 'free', '--path', '/nothing/here', '--progress']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no free job found for path '\/nothing\/here'/);
    assert.equal((await jetjobs(url, ['job', 'rerun', '--type', 'COPY', '--path', '/nothing'])).code, 3);

    for (const args of [
      ['job', 'load', '--path', '/dir', '--bogus'],
      ['job', 'load'],
      ['job', 'load', '--path', 'relative'],
      ['job', 'load', '--path', '/dir', '--progress', '--stop'],
      ['job', 'load', '--path', '/dir', '--batch-size', '0'],
      ['job', 'copy', '--path', '/dir'],
      ['job', 'load', '--path', '/dir', '--progress', '--format', 'XML'],
      ['job', 'list', '--job-state', 'DONE'],
      ['job', 'rerun', '--type', 'SLEEP', '--path', '/dir'],
    ]) {
      const run = await jetjobs(url, args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    }
    assert.equal((await jetjobs(url, ['job', 'list'], 'not-a-token')).code, 4);
    assert.equal((await jetjobs('http://127.0.0.1:1', ['job', 'list'])).code, 4);
  });
});
