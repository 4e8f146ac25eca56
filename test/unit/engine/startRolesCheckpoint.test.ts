/** startRoles with projection checkpoints: a coordinator writes them, a restart loads one and follows the rest; a refused one means a replay from seq 1. */
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../engine/clock.ts';
import type { EventLog } from '../../../engine/eventlog/eventLog.ts';
import { silentLogger } from '../../../engine/log.ts';
import { createMemoryCheckpointStore, type MemoryCheckpointStore } from '../../../engine/projections/checkpointStore.ts';
import { entryView } from '../../../engine/projections/jobEntry.ts';
import { createJobProjection, type JobProjection } from '../../../engine/projections/jobProjection.ts';
import { readCheckpointHeader, writeCheckpoint } from '../../../engine/projections/projectionCheckpoint.ts';
import { SYSTEM_CALLER } from '../../../engine/serviceTypes.ts';
import { untilTerminal, withMemoryEngine, type MemoryEngine } from '../../helpers/memoryEngine.ts';
import { waitFor } from '../../helpers/wait.ts';

const CREATED = '2026-12-05T10:00:00.000Z';

/** A checkpoint store over `log()`: the memory log's stream never changes identity. */
function storeOver(log: () => EventLog): MemoryCheckpointStore {
  return createMemoryCheckpointStore({ clock: systemClock, stream: async () => ({ created: CREATED, firstSeq: 1, lastSeq: await log().lastSeq() }) });
}

/** What a projection shows, to compare with a replay from seq 1. */
function views(p: JobProjection) {
  return {
    lastSeq: p.lastSeq(),
    all: [...p.all()].map((e) => ({ ...entryView(e), lastEvSeq: e.lastEvSeq })),
    waiting: [...p.waiting()].map((e) => e.id),
    active: [...p.active()].map((e) => e.id),
    vcCounts: [...p.virtualClusterCounts()],
    workers: [...p.workers()].map((w) => w.info.workerId),
  };
}

async function replayed(log: EventLog): Promise<JobProjection> {
  const p = createJobProjection({ logger: silentLogger });
  const f = log.follow(1, (r) => p.apply(r));
  await f.caughtUp;
  await f.stop();
  return p;
}

async function runJobs(e: MemoryEngine, n: number): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await e.core.service.submit({ type: 'noop', spec: { tasks: 2 }, labels: { batch: String(n) } }, { caller: SYSTEM_CALLER })).job.id);
  for (const id of ids) await untilTerminal(e.core, id);
}

describe('startRoles with projection checkpoints', () => {
  it('a coordinator writes checkpoints; a restart starts from the newest and follows the records after it', async () => {
    let log: EventLog | undefined;
    const store = storeOver(() => log!);
    await withMemoryEngine({ checkpointIntervalMs: 20 }, async (e) => {
      log = e.log;
      assert.equal(e.core.checkpointSeq, 0, 'nothing to start from yet');
      await runJobs(e, 4);
      const end = await e.log.lastSeq();
      await waitFor(async () => {
        const text = await store.load();
        return text !== undefined && readCheckpointHeader(text)!.seq >= end ? true : undefined;
      });
      // a process that writes none, then records after the checkpoint
      const second = await e.restart({ checkpointIntervalMs: 600_000 });
      assert.ok(second.checkpointSeq >= end, `started from the checkpoint (seq ${second.checkpointSeq})`);
      const saves = store.saves;
      await runJobs(e, 3);
      assert.equal(store.saves, saves, 'no checkpoint since');
      const third = await e.restart({ roles: ['api'] });
      assert.equal(third.checkpointSeq, second.checkpointSeq);
      assert.ok(third.projection.lastSeq() > third.checkpointSeq, 'a tail was followed');
      assert.deepEqual(views(third.projection), views(await replayed(e.log)));
      assert.equal(third.projection.rejected, 0);
    }, { checkpoints: store });
  });

  it('replays from seq 1 when the checkpoint is refused (another stream)', async () => {
    let log: EventLog | undefined;
    const store = storeOver(() => log!);
    await withMemoryEngine({ checkpointIntervalMs: 600_000 }, async (e) => {
      log = e.log;
      await runJobs(e, 2);
      store.put(writeCheckpoint(createJobProjection({ logger: silentLogger }), { created: '2020-01-01T00:00:00.000Z', firstSeq: 1 }));
      const next = await e.restart({ roles: ['api'] });
      assert.equal(next.checkpointSeq, 0);
      assert.deepEqual(views(next.projection), views(await replayed(e.log)));
    }, { checkpoints: store });
  });

  it('replays from seq 1 when a checkpoint with a valid digest cannot be restored (its queue names an unknown job)', async () => {
    let log: EventLog | undefined;
    const store = storeOver(() => log!);
    await withMemoryEngine({ checkpointIntervalMs: 600_000 }, async (e) => {
      log = e.log;
      await runJobs(e, 2);
      const text = writeCheckpoint(e.core.projection, { created: CREATED, firstSeq: 1 });
      const nl = text.indexOf('\n');
      const body = JSON.parse(text.slice(nl + 1)) as { waiting: string[] };
      body.waiting = ['no-such-job'];
      const bodyText = JSON.stringify(body);
      const header = { ...(JSON.parse(text.slice(0, nl)) as object), digest: createHash('sha256').update(bodyText).digest('hex') };
      store.put(`${JSON.stringify(header)}\n${bodyText}`);
      const next = await e.restart({ roles: ['api'] });
      assert.equal(next.checkpointSeq, 0);
      assert.deepEqual(views(next.projection), views(await replayed(e.log)));
    }, { checkpoints: store });
  });

  it('checkpointIntervalMs 0: neither loads nor writes', async () => {
    let log: EventLog | undefined;
    const store = storeOver(() => log!);
    await withMemoryEngine({ checkpointIntervalMs: 0 }, async (e) => {
      log = e.log;
      await runJobs(e, 1);
      await e.core.projection.waitFor(await e.log.lastSeq(), 1000);
      store.put(writeCheckpoint(e.core.projection, { created: CREATED, firstSeq: 1 }));
      const next = await e.restart();
      assert.equal(next.checkpointSeq, 0);
      await new Promise((r) => setTimeout(r, 50));
    }, { checkpoints: store });
    assert.equal(store.saves, 0);
  });
});
