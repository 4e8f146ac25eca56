/**
 * The `exec` spec's `sealed` (commands holding secrets kept in the document store, exec/sealed.ts):
 * the schema's id shape; `run` running the document's commands of the instance's role, not the
 * spec's; the secret values hidden in the task logs (a value written in pieces too), the
 * `stderrTail` and the messages; a missing or malformed document failing the instance for good with
 * SECRETS_UNAVAILABLE and no secret in the message. `run` is called directly: `/bin/sh` as this
 * user, host network, in-memory task logs.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { createDocumentStore, type DocumentStore } from '../../../../engine/documents/documentStore.ts';
import { isAppError } from '../../../../engine/errors.ts';
import { createExecJobType, EXEC_SEALED_NAMESPACE, REDACTED, type ExecInstanceOutput, type ExecSealedDocument, type ExecSpec } from '../../../../engine/jobtypes/exec/index.ts';
import { TaskRunError, type JobType, type RunContext } from '../../../../engine/jobtypes/jobType.ts';
import { createJobTypeRegistry } from '../../../../engine/jobtypes/registry.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createMemoryTaskLogs } from '../../../../engine/tasklogs/memoryTaskLogs.ts';
import type { TaskLogs } from '../../../../engine/tasklogs/taskLogs.ts';

const SECRET = 'hunter2';
const JOB_ID = '0c9e6b5d-1a0f-4b2c-8d7e-9f0a1b2c3d4e';
const roots = { dataDir: '/nonexistent', cacheDir: '/nonexistent' };
const ids = { a: '1d0f7c6e-2b1a-4c3d-9e8f-0a1b2c3d4e5f', b: '2e1a8d7f-3c2b-4d4e-8f9a-1b2c3d4e5f6a', c: '3f2b9e8a-4d3c-4e5f-9a0b-2c3d4e5f6a7b', gone: '4a3c0f9b-5e4d-4f6a-8b1c-3d4e5f6a7b8c', d: '6c5e2b1d-7a6f-4b8c-8d3e-5f6a7b8c9d0e' };

describe('exec: sealed commands', () => {
  let dir: string;
  let documents: DocumentStore;
  let taskLogs: TaskLogs;
  let exec: JobType<ExecSpec>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jetjobs-exec-sealed-'));
    documents = createDocumentStore(createMemoryControlStore());
    taskLogs = createMemoryTaskLogs();
    exec = createExecJobType({ workRoot: join(dir, 'work'), uids: null, network: 'host', logger: silentLogger, limits: { timeLimitMs: 60_000, memoryLimitMb: 1024 }, documents, taskLogs, sealedWaitMs: 200 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const spec = (id: string, roles = 2): ExecSpec => ({
    taskRoles: [{ name: 'ps', taskNumber: 1, commands: ['echo ps'] }, { name: 'worker', taskNumber: 2, commands: [`echo shown ${REDACTED}`] }].slice(0, roles),
    sealed: { id },
  });
  let taskNo = 0;
  const run = async (s: ExecSpec, role: number, attempt = 1) => {
    const ctx: RunContext = { jobId: JOB_ID, taskId: `t${String(taskNo++).padStart(5, '0')}`, attempt, roots, signal: new AbortController().signal, heartbeat: () => {} };
    return { ctx, result: exec.run(s, { role, index: 0 }, ctx) };
  };
  const logsOf = async (ctx: RunContext, stream: 'stdout' | 'stderr') => (await taskLogs.read(ctx.jobId, ctx.taskId, { stream })).chunks.map((c) => c.text).join('');

  it('the schema takes a lowercase UUID as sealed.id and nothing else', () => {
    const registry = createJobTypeRegistry([exec as unknown as JobType]);
    assert.ok(registry.validateSpec('exec', spec(ids.a), roots));
    for (const sealed of [{ id: ids.a.toUpperCase() }, { id: 'x' }, { id: `${ids.a}\n` }, {}, { id: ids.a, extra: 1 }, 'id']) {
      assert.throws(() => registry.validateSpec('exec', { ...spec(ids.a), sealed }, roots), (e: unknown) => isAppError(e, 'INVALID_SPEC'), JSON.stringify(sealed));
    }
  });

  it('runs the document\'s commands of its role and hides the secret in the task logs, whatever pieces it was written in', async () => {
    const doc: ExecSealedDocument = {
      owner: 'alice',
      commands: [['echo ps'], [`echo "token=${SECRET}"`, `printf 'hun'; printf 'ter2 split\\n'`, `echo "err ${SECRET}" >&2`]],
      redact: [SECRET, 'ab'],
    };
    await documents.create(EXEC_SEALED_NAMESPACE, ids.a, doc);
    const { ctx, result } = await run(spec(ids.a), 1);
    const r = await result;
    assert.equal((r.output as ExecInstanceOutput).exitCode, 0);
    assert.equal(await logsOf(ctx, 'stdout'), `token=${REDACTED}\n${REDACTED} split\n`, 'the document\'s commands ran, not the spec\'s (`shown`)');
    assert.equal(await logsOf(ctx, 'stderr'), `err ${REDACTED}\n`);
  });

  it('sealed commands are kept out of the instance\'s command line (which every local user may read) and out of its environment', async () => {
    const seen = join(dir, 'seen');
    await documents.create(EXEC_SEALED_NAMESPACE, ids.d, { owner: 'alice', commands: [[`: ${SECRET}`, `tr '\\0' ' ' < /proc/$$/cmdline > ${seen}`, `env >> ${seen}`, `echo "[$\{__jetjobs_script-}]" >> ${seen}`]], redact: [SECRET] } satisfies ExecSealedDocument);
    const { result } = await run(spec(ids.d, 1), 0);
    await result;
    const text = await readFile(seen, 'utf8');
    assert.match(text, /^\/bin\/sh -c __jetjobs_script=/, text);
    assert.ok(!text.includes(SECRET), text);
    assert.ok(!text.includes('JETJOBS_COMMANDS='), text);
    assert.match(text, /\n\[\]\n$/);
  });

  it('a failed instance\'s stderrTail and message hide the secret', async () => {
    await documents.create(EXEC_SEALED_NAMESPACE, ids.b, { owner: 'alice', commands: [[`echo "${SECRET} to stderr" >&2; exit 4`]], redact: [SECRET] } satisfies ExecSealedDocument);
    const { result } = await run(spec(ids.b, 1), 0);
    const err = await result.then(() => assert.fail('should fail'), (e: unknown) => e);
    assert.ok(err instanceof TaskRunError && err.code === 'EXEC_EXIT', String(err));
    const out = err.result?.output as ExecInstanceOutput;
    assert.equal(out.exitCode, 4);
    assert.equal(out.stderrTail, `${REDACTED} to stderr\n`);
    assert.ok(!JSON.stringify(err.result).includes(SECRET));
    assert.ok(!err.message.includes(SECRET));
  });

  it('a missing or malformed document fails the instance for good with SECRETS_UNAVAILABLE, naming no secret', async () => {
    const refused = async (s: ExecSpec, why: RegExp) => {
      const { result } = await run(s, 0);
      await assert.rejects(result, (e: unknown) => e instanceof TaskRunError && e.code === 'SECRETS_UNAVAILABLE' && !e.retryable && why.test(e.message) && !e.message.includes(SECRET), why.source);
    };
    await refused(spec(ids.gone), /execsealed\/4a3c0f9b-5e4d-4f6a-8b1c-3d4e5f6a7b8c\) are gone/);
    await documents.create(EXEC_SEALED_NAMESPACE, ids.c, { commands: [[`echo ${SECRET}`]], redact: [SECRET] });
    await refused(spec(ids.c), /malformed: it has commands for 1 task roles; the job has 2/);
    const malformed: [unknown, RegExp][] = [
      [[`echo ${SECRET}`], /not an object/],
      [{ commands: [[]], redact: [] }, /the commands of task role ps are not a list of 1 to 100/],
      [{ commands: [[`echo ${SECRET}`, '']], redact: [] }, /a command of task role ps is not a non-empty string/],
      [{ commands: [[`echo ${SECRET}`]], redact: [SECRET, 3] }, /`redact` is not a list/],
      [{ commands: [[`echo ${SECRET}`]] }, /`redact` is not a list/],
    ];
    for (const [value, why] of malformed) {
      const current = documents.get(EXEC_SEALED_NAMESPACE, ids.c)!;
      await documents.update(EXEC_SEALED_NAMESPACE, ids.c, value, current.revision);
      await refused(spec(ids.c, 1), why);
    }
  });

  it('a document written while the instance waits for it is used (a lagging mirror)', async () => {
    const id = '5b4d1a0c-6f5e-4a7b-9c2d-4e5f6a7b8c9d';
    const { ctx, result } = await run(spec(id, 1), 0);
    await documents.create(EXEC_SEALED_NAMESPACE, id, { owner: 'alice', commands: [['echo late']], redact: [] } satisfies ExecSealedDocument);
    await result;
    assert.equal(await logsOf(ctx, 'stdout'), 'late\n');
  });

  it("only the document's owner or an admin may name it (admitSpec); retention removing the job removes the document (removed)", async () => {
    const id = randomUUID();
    await documents.create(EXEC_SEALED_NAMESPACE, id, { owner: 'alice', commands: [['true'], ['true']], redact: [] } satisfies ExecSealedDocument);
    const as = (user: string, role: 'admin' | 'operator' = 'operator') => ({ user, role, virtualClusters: [] });
    exec.admitSpec!(spec(id), as('alice'));
    exec.admitSpec!(spec(id), as('root', 'admin'));
    for (const caller of [as('mallory'), as('Alice')]) assert.throws(() => exec.admitSpec!(spec(id), caller), (e: unknown) => isAppError(e, 'INVALID_SPEC'));
    assert.throws(() => exec.admitSpec!(spec(randomUUID()), as('alice')), (e: unknown) => isAppError(e, 'INVALID_SPEC'));
    await exec.removed!(spec(id));
    assert.equal(documents.get(EXEC_SEALED_NAMESPACE, id), undefined);
    await exec.removed!({ taskRoles: [{ name: 'main', taskNumber: 1, commands: ['true'] }] });
  });

  it('a spec without sealed runs its own commands, its output untouched', async () => {
    const { ctx, result } = await run({ taskRoles: [{ name: 'w', taskNumber: 1, commands: [`echo ${SECRET}`] }] }, 0);
    await result;
    assert.equal(await logsOf(ctx, 'stdout'), `${SECRET}\n`);
  });
});
