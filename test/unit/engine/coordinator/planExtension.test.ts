/**
 * extendPlan, the owner's step that asks a job type for more tasks of an open plan: it writes the
 * extension fenced on the plan's length, leaves a stopping or busy job alone, and fails a plan that
 * reached MAX_PLAN_TASKS with PLAN_TOO_LONG instead of growing it further.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobCommand } from '../../../../actors/decide.ts';
import type { JobEvent, TaskPlan } from '../../../../actors/events.ts';
import { foldJob } from '../../../../actors/jobFold.ts';
import type { CoordinatorContext } from '../../../../engine/coordinator/context.ts';
import type { FencedWriter } from '../../../../engine/coordinator/fencedWriter.ts';
import { extendPlan, MAX_PLAN_TASKS } from '../../../../engine/coordinator/planExtension.ts';
import type { Owned } from '../../../../engine/coordinator/types.ts';
import type { JobType } from '../../../../engine/jobtypes/jobType.ts';
import type { JobEntry } from '../../../../engine/projections/jobProjection.ts';
import { jobEvents } from '../../actors/jobEvents.fixture.ts';

const e = jobEvents('j1');
const tasks = (from: number, n: number): TaskPlan[] => Array.from({ length: n }, (_, k) => ({ taskId: `s${from + k}`, payload: null, items: 1, bytes: 0 }));

function entryOf(history: JobEvent[]): JobEntry {
  const snapshot = foldJob(history);
  return { id: 'j1', snapshot, state: snapshot.value as JobEntry['state'], submitSeq: 1, lastEvSeq: 3 };
}

function setup(history: JobEvent[], opts: { busy?: boolean } = {}) {
  let entry = entryOf(history);
  const written: JobCommand[][] = [];
  const asked: number[] = [];
  const type = {
    name: 'open', async extend(_spec: unknown, cursor: unknown, ctx: { want: number }) {
      asked.push(ctx.want);
      const next = (cursor as { next: number }).next;
      return { tasks: tasks(next, ctx.want), cursor: { next: next + ctx.want } };
    },
  } as unknown as JobType;
  const o = { epoch: 1, vc: 'default', dispatched: new Map(), retries: new Map(), verifying: false, abort: new AbortController() } as Owned;
  const cx = {
    registry: { get: () => type }, roots: { dataDir: '/nonexistent', cacheDir: '/nonexistent' },
    config: { defaultBatchSize: 200, defaultPartitionSizeBytes: 1 << 28 },
    projection: { get: () => entry }, owned: { get: () => o }, wake: { markDirty: () => undefined },
  } as unknown as CoordinatorContext;
  const writer = { busy: () => opts.busy === true, write: async (_e: JobEntry, cmds: JobCommand[]) => (written.push(cmds), true) } as unknown as FencedWriter;
  return { cx, writer, o, written, asked, set: (h: JobEvent[]) => (entry = entryOf(h)), get entry() { return entry; } };
}

const open = (n: number): JobEvent[] => [e.submitted(), e.claimed(1), { type: 'TasksPlanned', data: { tasks: tasks(0, n), cursor: { next: n } }, meta: e.meta(1) }];

describe('extendPlan', () => {
  it('appends what the type made, fenced on the plan it was made from', async () => {
    const s = setup(open(3));
    await extendPlan(s.cx, s.writer, s.entry, s.o, 5);
    assert.deepEqual(s.written, [[{ kind: 'extend', after: 3, tasks: tasks(3, 5), cursor: { next: 8 } }]]);
    assert.equal(s.o.extending, false);
  });

  it('writes nothing for a stopping job or while another write on it is in flight', async () => {
    const stopping = setup([...open(3), e.stopRequested(1)]);
    await extendPlan(stopping.cx, stopping.writer, stopping.entry, stopping.o, 5);
    assert.deepEqual(stopping.written, []);
    const busy = setup(open(3), { busy: true });
    await extendPlan(busy.cx, busy.writer, busy.entry, busy.o, 5);
    assert.deepEqual(busy.written, []);
  });

  it(`asks for no more than fit under MAX_PLAN_TASKS (${MAX_PLAN_TASKS}), and fails a plan that reached it with PLAN_TOO_LONG`, async () => {
    const near = setup(open(MAX_PLAN_TASKS - 2));
    await extendPlan(near.cx, near.writer, near.entry, near.o, 64);
    assert.deepEqual(near.asked, [2]);
    const full = setup(open(MAX_PLAN_TASKS));
    await extendPlan(full.cx, full.writer, full.entry, full.o, 64);
    assert.deepEqual(full.asked, [], 'the type is not asked');
    const [cmd] = full.written[0] ?? [];
    assert.equal(cmd?.kind, 'finish');
    assert.ok(cmd?.kind === 'finish' && cmd.outcome === 'failed' && cmd.error.code === 'PLAN_TOO_LONG', JSON.stringify(cmd));
  });
});
