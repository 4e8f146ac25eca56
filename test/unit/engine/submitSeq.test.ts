/**
 * A job's number, `submitSeq` (the stream sequence of its JobSubmitted), through the whole engine
 * over the in-memory log: the same on every read path, through compaction and a restart's replay;
 * and `getBySubmitSeq`, the look-up a facade's numeric job ids go through.
 */
import { untilTerminal, withMemoryEngine, type MemoryEngine } from '../../helpers/memoryEngine.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../engine/clock.ts';
import { type Config } from '../../../engine/config.ts';
import { isAppError } from '../../../engine/errors.ts';
import { createMemoryEventLog } from '../../../engine/eventlog/memoryEventLog.ts';
import { createJobReader } from '../../../engine/jobservice/jobReader.ts';
import { createJobQueries } from '../../../engine/jobservice/queries.ts';
import { silentLogger } from '../../../engine/log.ts';
import { createJobProjection } from '../../../engine/projections/jobProjection.ts';
import { SYSTEM_CALLER, type Caller, type JobView, type LiveMessage } from '../../../engine/serviceTypes.ts';
import { type Roles } from '../../../engine/startRoles.ts';
import { jobEvSubject } from '../../../engine/subjects.ts';
import { waitFor } from '../../helpers/wait.ts';
import { jobEvents } from '../actors/jobEvents.fixture.ts';

const ANN: Caller = { user: 'ann', role: 'operator', virtualClusters: [] };
const BOB: Caller = { user: 'bob', role: 'operator', virtualClusters: [] };

const withEngine = (overrides: Partial<Config>, body: (e: MemoryEngine) => Promise<void>) => withMemoryEngine(overrides, body);

const terminal = untilTerminal;

const notFound = (e: unknown) => isAppError(e, 'JOB_NOT_FOUND');

/** The stream sequence of the job's JobSubmitted, read from its history. */
async function submittedSeq(core: Roles, id: string): Promise<number> {
  const h = await core.service.history(id, SYSTEM_CALLER);
  const s = h.find((x) => x.type === 'JobSubmitted');
  assert.ok(s, `job ${id} has its JobSubmitted`);
  return s.seq;
}

async function listed(core: Roles, caller: Caller): Promise<Map<string, number>> {
  const { jobs } = await core.service.list({ limit: 100, active: 'all' }, caller);
  return new Map(jobs.map((j: JobView) => [j.id, j.submitSeq]));
}

describe('submitSeq: a job\'s number', () => {
  it('is the JobSubmitted seq, the same through submit, get, list, commands, the log path and a restart; a re-run gets its own', async () => {
    await withEngine({ roles: ['api'] }, async (e) => {
      const { core } = e;
      const a = (await core.service.submit({ type: 'noop', spec: {} }, { caller: ANN })).job;
      const b = (await core.service.submit({ type: 'noop', spec: {} }, { caller: BOB, idempotencyKey: 'k1' })).job;
      assert.equal(a.submitSeq, await submittedSeq(core, a.id));
      assert.equal(b.submitSeq, await submittedSeq(core, b.id));
      assert.ok(b.submitSeq > a.submitSeq);
      // the idempotent replay answers with the first job's number
      const again = await core.service.submit({ type: 'noop', spec: {} }, { caller: BOB, idempotencyKey: 'k1' });
      assert.deepEqual([again.created, again.job.submitSeq], [false, b.submitSeq]);
      assert.equal((await core.service.get(a.id, ANN)).submitSeq, a.submitSeq);
      assert.deepEqual(await listed(core, SYSTEM_CALLER), new Map([[b.id, b.submitSeq], [a.id, a.submitSeq]]));
      // commands: the view after a write, and the one of a command with nothing to write
      const stopped = await core.service.stop(a.id, { caller: ANN });
      assert.deepEqual([stopped.state, stopped.submitSeq], ['STOPPED', a.submitSeq]);
      assert.equal((await core.service.stop(a.id, { caller: ANN })).submitSeq, a.submitSeq);
      assert.equal((await core.service.setActive(a.id, false, { caller: ANN })).submitSeq, a.submitSeq);
      await core.service.setActive(a.id, true, { caller: ANN });
      const rerun = await core.service.rerun(a.id, { caller: ANN });
      assert.equal(rerun.submitSeq, await submittedSeq(core, rerun.id));
      assert.ok(rerun.submitSeq > b.submitSeq);
      // live snapshots carry it too
      const live = core.service.live({ caller: ANN, signal: AbortSignal.timeout(5_000) })[Symbol.asyncIterator]();
      const first = (await live.next()).value as LiveMessage | undefined;
      await live.return?.();
      assert.equal(first?.kind, 'snapshot');
      if (first?.kind === 'snapshot') assert.deepEqual(new Map(first.jobs.map((j) => [j.id, j.submitSeq])), new Map([[a.id, a.submitSeq], [rerun.id, rerun.submitSeq]]));
      // the log path (a projection that lags): the reader folds `.ev` and finds the same number
      const empty = createJobReader({ eventLog: e.log, projection: createJobProjection({ logger: silentLogger }) });
      assert.equal((await empty.load(a.id)).submitSeq, a.submitSeq);
      assert.equal((await core.service.get(a.id, ANN)).submitSeq, a.submitSeq);
      // a restart replays the stream into a fresh projection: same numbers
      const before = await listed(core, SYSTEM_CALLER);
      const restarted = await e.restart();
      assert.deepEqual(await listed(restarted, SYSTEM_CALLER), before);
      assert.equal((await restarted.service.getBySubmitSeq(a.submitSeq, ANN)).id, a.id);
    });
  });

  it('survives compaction, and its replay into a fresh projection; a removed job\'s number is not found', async () => {
    await withEngine({ compactAfterMs: 0, retentionByType: '{"noop":{"maxCount":1}}' }, async (e) => {
      const { core } = e;
      const old = await terminal(core, (await core.service.submit({ type: 'noop', spec: { tasks: 2 } }, { caller: ANN })).job.id);
      const kept = await terminal(core, (await core.service.submit({ type: 'noop', spec: { tasks: 2 } }, { caller: ANN })).job.id);
      assert.equal(kept.state, 'SUCCEEDED');
      await waitFor(async () => {
        await core.retention.runOnce();
        const v = await core.service.get(kept.id, ANN);
        return v.compacted && (await core.service.get(old.id, ANN).then(() => false, notFound)) ? v : undefined;
      }, { what: 'compacted and removed', intervalMs: 5 });
      const history = await core.service.history(kept.id, SYSTEM_CALLER);
      assert.deepEqual(history.filter((x) => x.subject === 'ev').map((x) => x.type), ['JobCompacted'], 'the JobSubmitted record is gone');
      const compacted = await core.service.get(kept.id, ANN);
      assert.deepEqual(compacted, { ...kept, compacted: true }, 'compaction changes only the flag, not the number');
      assert.equal((await core.service.getBySubmitSeq(kept.submitSeq, ANN)).id, kept.id);
      await assert.rejects(core.service.getBySubmitSeq(old.submitSeq, SYSTEM_CALLER), notFound);
      // the log path reads the number the JobCompacted carries
      const empty = createJobReader({ eventLog: e.log, projection: createJobProjection({ logger: silentLogger }) });
      assert.equal((await empty.load(kept.id)).submitSeq, kept.submitSeq);
      // a restart replays the rolled-up history
      const restarted = await e.restart({ roles: ['api'] });
      assert.deepEqual(await restarted.service.get(kept.id, ANN), compacted);
      assert.deepEqual(await restarted.service.getBySubmitSeq(kept.submitSeq, ANN), compacted);
      assert.deepEqual(await listed(restarted, ANN), new Map([[kept.id, kept.submitSeq]]));
      await assert.rejects(restarted.service.getBySubmitSeq(old.submitSeq, SYSTEM_CALLER), notFound);
    });
  });

  describe('getBySubmitSeq', () => {
    it('finds the job submitted at a sequence, for its owner and admins only', async () => {
      await withEngine({}, async (e) => {
        const { core } = e;
        const { job } = await core.service.submit({ type: 'noop', spec: { tasks: 2 } }, { caller: ANN });
        const done = await terminal(core, job.id);
        assert.deepEqual(await core.service.getBySubmitSeq(job.submitSeq, ANN), done);
        assert.deepEqual(await core.service.getBySubmitSeq(job.submitSeq, SYSTEM_CALLER), done);
        await assert.rejects(core.service.getBySubmitSeq(job.submitSeq, BOB), (err) => notFound(err) && (err as Error).message === `no job ${job.submitSeq}`);
        // sequences of other records of the job are no job's number
        const history = await core.service.history(job.id, SYSTEM_CALLER);
        const others = history.filter((x) => x.type !== 'JobSubmitted').map((x) => x.seq);
        assert.ok(history.some((x) => x.type === 'TaskSucceeded'));
        for (const seq of others) await assert.rejects(core.service.getBySubmitSeq(seq, SYSTEM_CALLER), notFound, `seq ${seq}`);
      });
    });

    it('answers JOB_NOT_FOUND for a number no job has, at once when the stream does not reach it', async () => {
      await withEngine({ roles: ['api'] }, async (e) => {
        const { core } = e;
        await core.service.submit({ type: 'noop', spec: {} }, { caller: ANN });
        const last = await e.log.lastSeq();
        for (const seq of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, NaN]) {
          await assert.rejects(core.service.getBySubmitSeq(seq, SYSTEM_CALLER), notFound, `seq ${seq}`);
        }
        const t0 = performance.now();
        await assert.rejects(core.service.getBySubmitSeq(last + 1, SYSTEM_CALLER), notFound);
        await assert.rejects(core.service.getBySubmitSeq(2 ** 40, SYSTEM_CALLER), notFound);
        assert.ok(performance.now() - t0 < 1_000, 'no wait for the projection past the stream\'s end');
      });
    });

    it('waits for a projection behind the stream to reach the sequence; NOT_READY if it does not in time', async () => {
      // timers that hold the process: nothing else does here, and with the unref'd system clock Node 20
      // ended the test's event loop in the middle of the projection's 2 s wait ("Promise resolution is
      // still pending but the event loop has already resolved")
      const heldClock = { ...systemClock, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms) };
      const log = createMemoryEventLog();
      const projection = createJobProjection({ logger: silentLogger, clock: heldClock });
      const queries = createJobQueries({ eventLog: log, projection, clock: heldClock }, createJobReader({ eventLog: log, projection }));
      try {
        // a job another process just submitted: in the stream, not yet in this projection
        const { seq } = await log.append(jobEvSubject('j1'), [jobEvents('j1').submitted({ owner: 'ann' })]);
        const found = queries.getBySubmitSeq(seq, ANN);
        await new Promise((r) => setTimeout(r, 20));
        for (const r of await log.readSubject(jobEvSubject('j1'))) projection.apply(r);
        assert.deepEqual([(await found).id, (await found).submitSeq], ['j1', seq]);
        // one the projection never reaches: a retryable NOT_READY, not a not-found that would be a lie
        const next = await log.append(jobEvSubject('j2'), [jobEvents('j2').submitted({ owner: 'ann' })]);
        await assert.rejects(queries.getBySubmitSeq(next.seq, ANN), (err) => isAppError(err, 'NOT_READY'));
      } finally {
        await log.close();
      }
    });
  });
});
