/**
 * The native job commands of the real `jetjobs` binary against a real service on a real
 * nats-server: submit a job file and follow it (plain lines off a terminal, a bar on one), the exit
 * codes scripts rely on (0, 1, 2, 3, 4, 130), --no-wait, --idempotency-key, --dry-run, status,
 * list and its filters and formats, stop/pause/resume/recover/rerun, history --as-of, explain, logs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, before } from 'node:test';
import { load } from 'js-yaml';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { http, useTestService } from '../../helpers/service.ts';
import { API, getJob, waitState } from '../journey/journeyKit.ts';
import { BIN, configHome, jetjobs, start, waitOutput, type RunOptions } from './cliKit.ts';

interface JobOut { id: string; state: string; type: string; name: string; labels: Record<string, string> }

describe('jetjobs native job commands (the binary against a service)', () => {
  const ctx = useTestService({ workerConcurrency: 4 });
  let home = '';
  let jobsDir = '';
  before(async () => {
    home = await configHome();
    jobsDir = join(home, 'jobs');
    await mkdir(jobsDir);
  });
  const run = (args: string[], o: RunOptions = {}) =>
    jetjobs(args, { ...o, env: { JETJOBS_URL: ctx.svc.baseUrl, JETJOBS_TOKEN: TEST_ADMIN_TOKEN, XDG_CONFIG_HOME: home, ...o.env } });
  const jobFile = async (name: string, text: string) => {
    const path = join(jobsDir, name);
    await writeFile(path, text);
    return path;
  };

  it('submits a YAML job file and follows it to SUCCEEDED in plain lines (exit 0); status, progress, list, history, explain', async () => {
    const dir = join(ctx.svc.config.filesDir, 'cli-data');
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: 200 }, (_, i) => writeFile(join(dir, `f${i}.bin`), 'x'.repeat(1000))));
    const file = await jobFile('load.yaml', 'type: load\nname: cli load\nspec:\n  path: cli-data\n  batchSize: 20\nlabels:\n  team: cli\n');

    const dry = await run(['submit', '-f', file, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^dry run: +nothing was submitted$/m);
    assert.match(dry.stdout, /^tasks: +10$/m);
    assert.match(dry.stdout, /^t00009 +20 +19\.5 KiB$/m);
    const dryJson = await run(['submit', '-f', file, '--dry-run', '-o', 'json']);
    assert.equal((JSON.parse(dryJson.stdout) as { itemsTotal: number }).itemsTotal, 200);
    assert.equal((await http<{ jobs: unknown[] }>(ctx.svc.baseUrl, 'GET', `${API}/jobs?label=team=cli`)).body.jobs.length, 0, 'a dry run submits nothing');

    const submitted = await run(['submit', '-f', file]);
    assert.equal(submitted.code, 0, submitted.stdout + submitted.stderr);
    const id = /^submitted job ([0-9a-f-]{36}) \(load cli load\)$/m.exec(submitted.stdout)?.[1];
    assert.ok(id, submitted.stdout);
    assert.ok(!submitted.stdout.includes('\x1b'), 'not a terminal: no control sequences');
    assert.match(submitted.stdout, new RegExp(`^job ${id} SUCCEEDED after [0-9.]+m?s: 200/200 files, 195\\.3 KiB, 0 failed$`, 'm'));
    assert.match(submitted.stdout, /^(WAITING|RUNNING|VERIFYING|SUCCEEDED) +\d+% {2}\d+\/200 files/m, 'plain progress lines');

    const status = await run(['status', id]);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /^state: +SUCCEEDED$/m);
    assert.match(status.stdout, /^tasks: +10\/10$/m);
    assert.match(status.stdout, /^labels: +team=cli$/m);
    const asYaml = load((await run(['status', id, '-o', 'yaml'])).stdout) as JobOut;
    assert.deepEqual([asYaml.id, asYaml.state, asYaml.labels], [id, 'SUCCEEDED', { team: 'cli' }]);

    const progress = await run(['progress', id]);
    assert.match(progress.stdout, /^SUCCEEDED +100% {2}200\/200 files {2}195\.3 KiB\/195\.3 KiB {2}.*0 failed$/m);
    const followedDone = await run(['progress', id, '--follow']);
    assert.equal(followedDone.code, 0);

    const listed = await run(['list', '--type', 'load', '--state', 'succeeded', '--since', '10m', '-o', 'ndjson']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as JobOut).id), [id]);
    const table = await run(['list', '--label', 'team=cli']);
    assert.match(table.stdout, /^ID +STATE +TYPE +NAME +OWNER +TASKS +AGE$/m);
    assert.match(table.stdout, new RegExp(`^${id}  SUCCEEDED  load +cli load  admin +10/10 `, 'm'));
    assert.equal((await run(['list', '--label', 'team=cli', '--since', '2099-01-01T00:00:00Z', '-o', 'json'])).stdout, '[]\n');

    const history = await run(['history', id]);
    assert.match(history.stdout, /^SEQ +TIME +EVENT +ACTOR +REASON$/m);
    assert.match(history.stdout, /JobSubmitted +user:admin/);
    assert.match(history.stdout, /JobSucceeded/);
    const events = (JSON.parse((await run(['history', id, '-o', 'json'])).stdout) as { seq: number; type: string }[]);
    const submittedSeq = events.find((e) => e.type === 'JobSubmitted')!.seq;
    const then = await run(['status', id, '--as-of', String(submittedSeq), '-o', 'json']);
    assert.equal((JSON.parse(then.stdout) as JobOut).state, 'WAITING');
    const early = JSON.parse((await run(['history', id, '--as-of', String(submittedSeq), '-o', 'json'])).stdout) as unknown[];
    assert.equal(early.length, 1);

    const explain = await run(['explain', id]);
    assert.equal(explain.code, 0);
    assert.match(explain.stdout, /^SUCCEEDED: /m);
    assert.match(explain.stdout, /^FINISHED +/m);
  });

  it('exits 1 for a job that FAILED or was stopped; --no-wait, --idempotency-key, stop --reason, pause, resume, recover, rerun', async () => {
    const failing = await jobFile('fail.json', JSON.stringify({ type: 'sleep', spec: { ms: 1, failTimes: 1 }, maxTaskAttempts: 1 }));
    const failed = await run(['submit', '-f', failing]);
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /FAILED after .*\n {2}TOO_MANY_FAILURES: /);
    const failedId = /submitted job (\S+)/.exec(failed.stdout)![1]!;
    assert.equal((await run(['status', failedId])).code, 1);

    // the task's second attempt succeeds (failTimes: 1)
    const recovered = await run(['recover', failedId, '--failed-only', '--reason', 'cli test', '--follow']);
    assert.equal(recovered.code, 0, recovered.stdout + recovered.stderr);
    assert.match(recovered.stdout, /^job \S+ WAITING \(recovery 1\)$/m);
    assert.match(recovered.stdout, /SUCCEEDED after/);

    const long = await jobFile('long.json', JSON.stringify({ type: 'sleep', spec: { ms: 60_000, tasks: 2 } }));
    const key = await run(['submit', '-f', long, '--no-wait', '--idempotency-key', 'cli-key-1']);
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.stdout, /^[0-9a-f-]{36}\n$/);
    const id = key.stdout.trim();
    const again = await run(['submit', '-f', long, '--no-wait', '--idempotency-key', 'cli-key-1', '-o', 'json']);
    assert.equal((JSON.parse(again.stdout) as JobOut).id, id, 'the same key answers the same job');

    await waitState(ctx.svc.baseUrl, id, 'RUNNING');
    const paused = await run(['pause', id, '--reason', 'maintenance']);
    assert.equal(paused.stdout, `job ${id} PAUSED\n`);
    assert.equal((await run(['resume', id])).stdout, `job ${id} RUNNING\n`);
    const stopped = await run(['stop', id, '--grace', '0s', '--reason', 'not needed']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(stopped.stdout, `job ${id} STOPPED\n`);
    const history = await run(['history', id]);
    assert.match(history.stdout, /JobPaused +user:admin +maintenance/);
    assert.match(history.stdout, /JobStopped +user:admin +not needed/);
    assert.equal((await run(['progress', id])).code, 1, 'progress of a STOPPED job exits 1');

    const rerun = await run(['rerun', id]);
    assert.equal(rerun.code, 0, rerun.stderr);
    const fresh = rerun.stdout.trim();
    assert.notEqual(fresh, id);
    assert.equal((await getJob(ctx.svc.baseUrl, fresh)).type, 'sleep');
    assert.equal((await run(['stop', fresh, '--force'])).code, 0);
  });

  it('Ctrl-C while following detaches: exit 130, the job keeps running', async () => {
    const long = await jobFile('detach.yaml', 'type: sleep\nspec:\n  ms: 60000\n');
    const s = start(['submit', '-f', long], { env: { JETJOBS_URL: ctx.svc.baseUrl, JETJOBS_TOKEN: TEST_ADMIN_TOKEN, XDG_CONFIG_HOME: home } });
    await waitOutput(s, /^RUNNING /m, 'the follow to show the job running');
    const interruptedAt = Date.now();
    s.child.kill('SIGINT');
    const r = await s.done;
    assert.ok(Date.now() - interruptedAt < 2_000, `the binary exits promptly after Ctrl-C (${Date.now() - interruptedAt} ms)`);
    assert.equal(r.code, 130, r.stdout + r.stderr);
    const id = /submitted job (\S+)/.exec(r.stdout)![1]!;
    assert.match(r.stderr, new RegExp(`detached: job ${id} keeps running`));
    assert.equal((await getJob(ctx.svc.baseUrl, id)).state, 'RUNNING');
    await run(['stop', id, '--force']);
  });

  it('draws a live bar on a terminal', async () => {
    const file = await jobFile('tty.json', JSON.stringify({ type: 'sleep', spec: { ms: 300, tasks: 8 } }));
    // `script` gives the binary a pseudo-terminal as stdout
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} submit -f ${JSON.stringify(file)}`;
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile('script', ['-qefc', cmd, '/dev/null'], {
        env: { ...process.env, JETJOBS_URL: ctx.svc.baseUrl, JETJOBS_TOKEN: TEST_ADMIN_TOKEN, XDG_CONFIG_HOME: home, COLUMNS: '120', TERM: 'xterm' }, timeout: 60_000,
      }, (err, stdout) => resolve({ code: err === null ? 0 : Number(err.code), stdout }));
    });
    assert.equal(out.code, 0, out.stdout);
    assert.match(out.stdout, /\u2588/, 'the bar is drawn (cli-progress, full blocks)');
    assert.ok(out.stdout.includes('\x1b[1G'), 'redrawn in place');
    assert.match(out.stdout, /SUCCEEDED +\u2588{30} 100% 8\/8 items {2}0 failed/);
  });

  it('exits 2 on invalid input, 3 when the service is unreachable, 4 when there is no such job', async () => {
    const missing = await run(['status', '00000000-0000-4000-8000-000000000000']);
    assert.equal(missing.code, 4, missing.stderr);
    assert.match(missing.stderr, /JOB_NOT_FOUND/);
    assert.equal((await run(['explain', '00000000-0000-4000-8000-000000000000'])).code, 4);
    const notJson = await jobFile('bad.json', '{"type": "sleep", "spec": ');
    const noType = await jobFile('notype.yaml', 'spec: {}\n');
    const badSpec = await jobFile('badspec.yaml', 'type: sleep\nspec:\n  ms: -1\n');
    for (const args of [
      ['status'], ['list', '--state', 'DONE'], ['list', '-o', 'xml'], ['list', '--since', 'yesterday'], ['stop', 'x', '--grace', 'soon'],
      ['submit', '-f', notJson], ['submit', '-f', noType], ['submit', '-f', join(jobsDir, 'absent.yaml')], ['submit', '-f', badSpec], ['submit', '-f', badSpec, '--dry-run'],
      ['status', 'not-an-id'], ['bogus'],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
    const unauth = await run(['list'], { env: { JETJOBS_TOKEN: 'jjt_wrong' } });
    assert.equal(unauth.code, 2);
    assert.match(unauth.stderr, /401 UNAUTHENTICATED/);
    assert.doesNotMatch(unauth.stderr, /jjt_wrong/);
    const down = await run(['list'], { env: { JETJOBS_URL: 'http://127.0.0.1:1' } });
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach the service/);
  });

  it('logs prints the output of an exec task, and -f follows it to its end', async () => {
    const file = await jobFile('exec.yaml', [
      'type: exec', 'spec:', '  taskRoles:', '    - name: main', '      taskNumber: 1', '      commands:',
      '        - echo hello from $PAI_CURRENT_TASK_ROLE_NAME', '        - sleep 0.5', '        - echo to stderr >&2', '        - echo bye',
    ].join('\n'));
    const id = (await run(['submit', '-f', file, '--no-wait'])).stdout.trim();
    const followed = await run(['logs', id, '-f']);
    assert.equal(followed.code, 0, followed.stderr);
    assert.equal(followed.stdout, 'hello from main\nbye\n');
    assert.match(followed.stderr, /^to stderr\n\[t00000 attempt 1 ended: exited, exit code 0\]\n$/);
    await waitState(ctx.svc.baseUrl, id, 'SUCCEEDED');
    const all = await run(['logs', id, 't00000']);
    assert.equal(all.stdout, 'hello from main\nto stderr\nbye\n');
    assert.equal((await run(['logs', id, '--stream', 'stderr'])).stdout, 'to stderr\n');
    assert.equal((await run(['logs', id, 't00009'])).code, 4, 'no such task');
  });
});
