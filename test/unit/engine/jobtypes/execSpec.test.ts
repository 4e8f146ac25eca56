/**
 * The `exec` spec's per-role fields (issue 14, E1): `image`, `taskRetryCount`, `memoryLimitMb` and
 * `resources` per task role, checked by the registry's schema and `checkSpec`, shown in the summary,
 * and used by `run` (the role's retry count and memory limit over the job's); and the recorded
 * submission text `source` (E3), kept out of what tasks carry. `run` is called directly: `/bin/sh`
 * as this user, host network, no task logs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskPlan, TaskResult } from '../../../../actors/events.ts';
import { isAppError, type AppError } from '../../../../engine/errors.ts';
import { createMemoryControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { createDocumentStore } from '../../../../engine/documents/documentStore.ts';
import { createExecJobType, type ExecRoleOutcome, type ExecSpec } from '../../../../engine/jobtypes/exec/index.ts';
import { TaskRunError, type JobType, type RunContext } from '../../../../engine/jobtypes/jobType.ts';
import { createJobTypeRegistry } from '../../../../engine/jobtypes/registry.ts';
import { silentLogger } from '../../../../engine/log.ts';

const LIMITS = { timeLimitMs: 60_000, memoryLimitMb: 1024 };
const roots = { dataDir: '/nonexistent', cacheDir: '/nonexistent' };
const role = (extra: Record<string, unknown> = {}) => ({ name: 'worker', taskNumber: 1, commands: ['true'], ...extra });

describe('exec spec: per-role fields', () => {
  let dir: string;
  let exec: JobType<ExecSpec>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jetjobs-exec-spec-'));
    exec = createExecJobType({ workRoot: join(dir, 'work'), uids: null, network: 'host', logger: silentLogger, limits: LIMITS, documents: createDocumentStore(createMemoryControlStore()) });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const registry = () => createJobTypeRegistry([exec as unknown as JobType]);
  const valid = (spec: unknown) => registry().validateSpec('exec', spec, roots);
  const invalid = (spec: unknown, field: RegExp) =>
    assert.throws(() => valid(spec), (e: AppError) => isAppError(e, 'INVALID_SPEC') && field.test(e.message), JSON.stringify(spec));

  it('accepts image, taskRetryCount, memoryLimitMb and resources on a role', () => {
    const spec = { image: 'ubuntu:22.04', taskRoles: [role({ image: 'pytorch:2', taskRetryCount: 10, memoryLimitMb: 1024, resources: { cpu: 0.5, memoryMb: 8192, gpu: 1, ports: { model_server: 1, 'http.port-2': 0 } } })] };
    assert.equal(valid(spec), spec);
    assert.ok(valid({ taskRoles: [role({ resources: {} })] }));
  });

  it('refuses what the schema or the settings do not allow', () => {
    invalid({ taskRoles: [role({ image: 'x'.repeat(1025) })] }, /spec\.taskRoles\.0\.image/);
    invalid({ taskRoles: [role({ taskRetryCount: 11 })] }, /spec\.taskRoles\.0\.taskRetryCount/);
    invalid({ taskRoles: [role({ taskRetryCount: -1 })] }, /spec\.taskRoles\.0\.taskRetryCount/);
    invalid({ taskRoles: [role({ memoryLimitMb: 31 })] }, /spec\.taskRoles\.0\.memoryLimitMb/);
    invalid({ taskRoles: [role({ memoryLimitMb: 1025 })] }, /^spec\.taskRoles\.worker\.memoryLimitMb must be at most 1024 \(the scriptMemoryLimitMb setting\)$/);
    invalid({ taskRoles: [role({ resources: { cpu: -1 } })] }, /spec\.taskRoles\.0\.resources\.cpu/);
    invalid({ taskRoles: [role({ resources: { memoryMb: 1.5 } })] }, /spec\.taskRoles\.0\.resources\.memoryMb/);
    invalid({ taskRoles: [role({ resources: { gpu: '1' } })] }, /spec\.taskRoles\.0\.resources\.gpu/);
    invalid({ taskRoles: [role({ resources: { shmMb: 64 } })] }, /spec\.taskRoles\.0\.resources\.shmMb is not an allowed field/);
    invalid({ taskRoles: [role({ resources: { ports: { 'a b': 1 } } })] }, /spec\.taskRoles\.0\.resources\.ports/);
    invalid({ taskRoles: [role({ resources: { ports: { http: 70_000 } } })] }, /spec\.taskRoles\.0\.resources\.ports/);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, 1]));
    invalid({ taskRoles: [role({ resources: { ports: many } })] }, /spec\.taskRoles\.0\.resources\.ports/);
    invalid({ taskRoles: [role({ dockerImage: 'x' })] }, /spec\.taskRoles\.0\.dockerImage is not an allowed field/);
  });

  it('shows each role\'s own image and resources in the summary (the job\'s image at the top)', async () => {
    const spec: ExecSpec = {
      image: 'ubuntu:22.04',
      taskRoles: [role({ name: 'ps', image: 'ps:1', resources: { cpu: 2, gpu: 0 } }) as ExecSpec['taskRoles'][number], role() as ExecSpec['taskRoles'][number]],
    };
    const tasks = (await exec.plan(spec, { jobId: 'j', roots, signal: new AbortController().signal })) as TaskPlan[];
    const results: TaskResult[] = [
      { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [], output: { role: 'ps', index: 0, exitCode: 0, signal: null, end: 'exited', durationMs: 1 } },
      { itemsDone: 1, itemsFailed: 0, bytesDone: 0, failures: [], output: { role: 'worker', index: 0, exitCode: 0, signal: null, end: 'exited', durationMs: 1 } },
    ];
    const out = await exec.verify(spec, { jobId: 'j', roots, tasks, results, tasksFailed: 0, signal: new AbortController().signal });
    assert.ok(out.ok);
    const summary = out.summary as { image: string | null; roles: ExecRoleOutcome[] };
    assert.equal(summary.image, 'ubuntu:22.04');
    assert.deepEqual(summary.roles.map((r) => [r.name, r.image, r.resources]), [['ps', 'ps:1', { cpu: 2, gpu: 0 }], ['worker', undefined, undefined]]);
    assert.ok(!('image' in summary.roles[1]!), 'a role without its own image has no image field');
  });

  const run = (spec: ExecSpec, attempt: number) => {
    const ctx: RunContext = { jobId: 'job-1', taskId: 't00000', attempt, roots, signal: new AbortController().signal, heartbeat: () => {} };
    return exec.run(spec, { role: 0, index: 0 }, ctx);
  };
  const failsWith = async (p: Promise<unknown>, code: string) => {
    await assert.rejects(p, (e: TaskRunError) => e instanceof TaskRunError && e.code === code && e.retryable === (code === 'EXEC_RETRY'));
  };

  it('a role\'s taskRetryCount overrides the job\'s', async () => {
    const spec = (roleRetries: number | undefined): ExecSpec => ({ taskRetryCount: 0, taskRoles: [{ name: 'w', taskNumber: 1, commands: ['exit 3'], ...(roleRetries !== undefined ? { taskRetryCount: roleRetries } : {}) }] });
    await failsWith(run(spec(undefined), 1), 'EXEC_EXIT');
    await failsWith(run(spec(2), 1), 'EXEC_RETRY');
    await failsWith(run(spec(2), 2), 'EXEC_RETRY');
    await failsWith(run(spec(2), 3), 'EXEC_EXIT');
    await failsWith(run({ ...spec(0), taskRetryCount: 5 }, 1), 'EXEC_EXIT');
  });

  it('a role\'s memoryLimitMb is its instances\' address-space limit, over the job\'s', async () => {
    const spec = (roleMb: number | undefined): ExecSpec => ({
      memoryLimitMb: 512,
      taskRoles: [{ name: 'w', taskNumber: 1, commands: ['echo "$(ulimit -v)" >&2', `test "$(ulimit -v)" = ${(roleMb ?? 512) * 1024}`], ...(roleMb !== undefined ? { memoryLimitMb: roleMb } : {}) }],
    });
    const ok = await run(spec(256), 1);
    assert.equal((ok.output as { exitCode: number }).exitCode, 0);
    const dflt = await run(spec(undefined), 1);
    assert.equal((dflt.output as { exitCode: number }).exitCode, 0);
  });

  it('records the submitted text as source (v1 or v2, at most 100 KiB), and keeps it out of what tasks carry', () => {
    const text = 'protocolVersion: 2\nname: job\n' + 'x'.repeat(102_400 - 29);
    assert.equal(text.length, 102_400);
    for (const format of ['openpai-v1', 'openpai-v2']) assert.ok(valid({ taskRoles: [role()], source: { format, text } }));
    invalid({ taskRoles: [role()], source: { format: 'openpai-v2', text: text + 'x' } }, /spec\.source\.text/);
    invalid({ taskRoles: [role()], source: { format: 'openpai-v3', text: '' } }, /spec\.source\.format/);
    invalid({ taskRoles: [role()], source: { format: 'openpai-v2' } }, /spec\.source\.text is required/);
    invalid({ taskRoles: [role()], source: { format: 'openpai-v2', text: '', masked: true } }, /spec\.source\.masked is not an allowed field/);
    invalid({ taskRoles: [role()], source: 'protocolVersion: 2' }, /spec\.source/);

    const spec: ExecSpec = { jobName: 'j', taskRoles: [role() as ExecSpec['taskRoles'][number]], source: { format: 'openpai-v2', text } };
    assert.deepEqual(exec.taskSpec!(spec), { jobName: 'j', taskRoles: spec.taskRoles });
    assert.equal(spec.source?.text, text, 'the job\'s spec keeps it');
  });
});
