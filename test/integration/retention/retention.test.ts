import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { toJobView } from '../../../actors/jobFold.ts';
import type { Clock } from '../../../engine/clock.ts';
import type { EventLog } from '../../../engine/eventlog/eventLog.ts';
import { createJetStreamEventLog } from '../../../engine/eventlog/jetStreamEventLog.ts';
import { silentLogger } from '../../../engine/log.ts';
import { createJobProjection, type JobProjection } from '../../../engine/projections/jobProjection.ts';
import { createRetention, type RetentionConfig } from '../../../engine/retention/retention.ts';
import { STREAM_JOBS } from '../../../engine/subjects.ts';
import { useTestNats } from '../../helpers/natsServer.ts';
import { appendJobHistory } from '../../unit/engine/retention/jobHistory.fixture.ts';

const HOUR = 3600_000;

/** A projection following the log from the start, like a (re)started process. */
async function follow(log: EventLog): Promise<{ projection: JobProjection; stop(): Promise<void> }> {
  const projection = createJobProjection({ logger: silentLogger });
  const f = log.follow(1, (r) => projection.apply(r));
  await f.caughtUp;
  return { projection, stop: () => f.stop() };
}

describe('retention on JetStream', () => {
  const nats = useTestNats();

  /** Messages the JOBS stream holds per subject of one job, straight from the server. */
  async function storedSubjects(jobId: string): Promise<Record<string, number>> {
    const jsm = await jetstreamManager(nats.nc);
    const info = await jsm.streams.info(STREAM_JOBS, { subjects_filter: `job.${jobId}.*` });
    return { ...(info.state.subjects ?? {}) };
  }

  it('compaction leaves one .ev message and no .task; a restarted projection rebuilds the same view; removal leaves nothing', async () => {
    let now = Date.parse('2024-05-01T12:00:00.000Z');
    const clock: Clock = {
      now: () => now,
      monotonic: () => performance.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    const log = createJetStreamEventLog({ nc: nats.nc });
    const first = await follow(log);
    try {
      const ids = [
        await appendJobHistory(log, clock.now, 'succeeded'),
        await appendJobHistory(log, clock.now, 'failed'),
        await appendJobHistory(log, clock.now, 'stopped'),
      ];
      const running = await appendJobHistory(log, clock.now, 'running');
      assert.deepEqual(await storedSubjects(ids[0]!), { [`job.${ids[0]}.ev`]: 4, [`job.${ids[0]}.task`]: 2, [`job.${ids[0]}.hook`]: 1 });
      assert.ok(await first.projection.waitFor(await log.lastSeq(), 5_000));
      const views = ids.map((id) => toJobView(first.projection.get(id)!.snapshot));

      const config: RetentionConfig = { compactAfterMs: HOUR, retentionMaxAgeMs: 24 * HOUR, retentionMaxCount: 0, retentionByType: '{}', retentionIntervalMs: 1_000 };
      const retention = createRetention({ eventLog: log, projection: first.projection, config, clock, logger: silentLogger, writer: true });
      now += HOUR;
      assert.deepEqual(await retention.runOnce(), { compacted: 3, removed: 0, strays: 0 });
      assert.deepEqual(await storedSubjects(ids[0]!), { [`job.${ids[0]}.ev`]: 1, [`job.${ids[0]}.hook`]: 1 });
      assert.deepEqual(await storedSubjects(ids[1]!), { [`job.${ids[1]}.ev`]: 1 });
      assert.equal(Object.keys(await storedSubjects(running)).length, 1, 'a running job keeps its history');
      const [compacted] = await log.readSubject(`job.${ids[0]}.ev`);
      assert.deepEqual(compacted?.events.map((e) => e.type), ['JobCompacted']);
      assert.ok(await first.projection.waitFor(await log.lastSeq(), 5_000));
      for (const [i, id] of ids.entries()) assert.deepEqual(toJobView(first.projection.get(id)!.snapshot), { ...views[i], compacted: true });

      // a process starting now replays the stream and sees the same terminal jobs
      const restarted = await follow(log);
      try {
        for (const id of [...ids, running]) {
          assert.deepEqual(toJobView(restarted.projection.get(id)!.snapshot), toJobView(first.projection.get(id)!.snapshot), id);
        }
        assert.deepEqual([...restarted.projection.terminal()].map((e) => e.id), ids);
        assert.equal(restarted.projection.rejected, 0);
      } finally {
        await restarted.stop();
      }

      now += 23 * HOUR;
      assert.deepEqual(await retention.runOnce(), { compacted: 0, removed: 3, strays: 0 });
      for (const id of ids) {
        assert.deepEqual(await storedSubjects(id), {}, id);
        assert.equal(first.projection.get(id), undefined);
      }
      assert.ok(first.projection.get(running));
      // the follower goes on after the purges, and a new process never sees the removed jobs
      const late = await appendJobHistory(log, clock.now, 'stopped');
      assert.ok(await first.projection.waitFor(await log.lastSeq(), 5_000));
      assert.ok(first.projection.get(late));
      const fresh = await follow(log);
      try {
        assert.deepEqual([...fresh.projection.all()].map((e) => e.id), [running, late]);
      } finally {
        await fresh.stop();
      }
    } finally {
      await first.stop();
      await log.close();
    }
  });
});
