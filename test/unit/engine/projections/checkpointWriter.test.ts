/** The checkpoint writer: when it writes (interval, record count, nothing new), and only with the lease. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LogRecord } from '../../../../engine/eventlog/eventLog.ts';
import { AppError } from '../../../../engine/errors.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createMemoryCheckpointStore } from '../../../../engine/projections/checkpointStore.ts';
import { createCheckpointWriter } from '../../../../engine/projections/checkpointWriter.ts';
import { createJobProjection, type JobProjection } from '../../../../engine/projections/jobProjection.ts';
import { readCheckpointHeader } from '../../../../engine/projections/projectionCheckpoint.ts';
import { jobEvSubject } from '../../../../engine/subjects.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';
import { jobEvents } from '../../actors/jobEvents.fixture.ts';

function submitJobs(p: JobProjection, n: number): void {
  for (let i = 0; i < n; i++) {
    const seq = p.lastSeq() + 1;
    p.apply({ seq, subject: jobEvSubject(`j${seq}`), time: '2024-05-01T12:00:00.000Z', events: [jobEvents(`j${seq}`).submitted()] } satisfies LogRecord);
  }
}

function setup(everyRecords = 1_000) {
  const clock = createFakeClock({ wallMs: 1_000_000 });
  const p = createJobProjection({ logger: silentLogger });
  const store = createMemoryCheckpointStore({ clock, stream: () => Promise.resolve({ created: 'x', firstSeq: 1, lastSeq: p.lastSeq() }) });
  const writer = createCheckpointWriter({ store, projection: p, holder: 'c-1', intervalMs: 5_000, everyRecords, clock, logger: silentLogger });
  const seq = async () => readCheckpointHeader((await store.load()) ?? '')?.seq;
  return { clock, p, store, writer, seq };
}

describe('checkpoint writer', () => {
  it('writes once an interval passed and records came, not before, and not again without new records', async () => {
    const { clock, p, store, writer, seq } = setup();
    writer.start();
    try {
      submitJobs(p, 3);
      await clock.advance(4_000);
      assert.equal(store.saves, 0);
      await clock.advance(1_500);
      assert.equal(store.saves, 1);
      assert.equal(await seq(), 3);
      await clock.advance(20_000);
      assert.equal(store.saves, 1, 'nothing new');
      submitJobs(p, 1);
      await clock.advance(6_000);
      assert.equal(await seq(), 4);
    } finally {
      writer.stop();
    }
  });

  it('writes before the interval once everyRecords records came', async () => {
    const { clock, p, store, writer, seq } = setup(10);
    writer.start();
    try {
      submitJobs(p, 10);
      await clock.advance(1_000);
      assert.equal(store.saves, 1);
      assert.equal(await seq(), 10);
    } finally {
      writer.stop();
    }
  });

  it('after a checkpoint too large to store, builds none again until the projection holds fewer jobs', async () => {
    const { clock, p, store } = setup();
    let refuse = true;
    let attempts = 0;
    const refusing = {
      ...store,
      save(pieces: Uint8Array[]) {
        attempts++;
        return refuse ? Promise.reject(new AppError('BODY_TOO_LARGE', 'too large for a start')) : store.save(pieces);
      },
    };
    const writer = createCheckpointWriter({ store: refusing, projection: p, holder: 'c-1', intervalMs: 5_000, everyRecords: 1_000, clock, logger: silentLogger });
    submitJobs(p, 10);
    assert.equal(await writer.writeOnce(), false);
    assert.equal(attempts, 1);
    submitJobs(p, 1);
    refuse = false;
    assert.equal(await writer.writeOnce(), false, '11 jobs: more than when it was refused');
    p.remove('j1');
    p.remove('j2');
    assert.equal(await writer.writeOnce(), false, '9 jobs: not clearly fewer than 10');
    assert.equal(attempts, 1, 'no checkpoint built or offered meanwhile');
    p.remove('j3');
    assert.equal(await writer.writeOnce(), true, '8 jobs');
    assert.equal(attempts, 2);
    assert.equal(store.saves, 1);
  });

  it('a write under way when the writer stops puts nothing, and none starts after', async () => {
    const { p, store, writer } = setup();
    submitJobs(p, 3);
    const pending = writer.writeOnce();
    writer.stop();
    assert.equal(await pending, false);
    assert.equal(await writer.writeOnce(), false);
    assert.equal(store.saves, 0);
  });

  it('writes nothing while another process holds the lease, then takes it once it expired', async () => {
    const { clock, p, store, writer } = setup();
    assert.equal(await store.lease('c-2', 30_000), true);
    writer.start();
    try {
      submitJobs(p, 2);
      await clock.advance(20_000);
      assert.equal(store.saves, 0);
      await clock.advance(20_000);
      assert.equal(store.saves, 1);
      assert.equal(await store.lease('c-2', 30_000), false, 'the writer holds it now');
    } finally {
      writer.stop();
    }
  });
});
