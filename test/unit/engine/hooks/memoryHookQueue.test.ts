import { createMemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { createMemoryHookQueue } from '../../../../engine/hooks/memoryHookQueue.ts';
import { hookQueueContract } from '../../../contract/hookQueue.contract.ts';
import { createFakeClock, type FakeClock } from '../../../helpers/fakeClock.ts';

/**
 * Fake time moves in steps while someone waits; one waiter at a time moves it, so it never goes back.
 * (The same as test/unit/engine/taskqueue/memoryTaskQueue.test.ts's; a candidate for test/helpers.)
 */
function fakeTime(clock: FakeClock) {
  const STEP_MS = 10;
  let moving = false;
  async function moveUntil(done: () => boolean, budgetMs: number): Promise<boolean> {
    const end = clock.monotonic() + budgetMs;
    while (!done()) {
      if (clock.monotonic() >= end) return false;
      if (moving) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      moving = true;
      try {
        await clock.advance(STEP_MS);
      } finally {
        moving = false;
      }
    }
    return true;
  }
  return {
    passTime: async (ms: number) => {
      let passed = false;
      clock.setTimeout(() => (passed = true), ms);
      await moveUntil(() => passed, ms + STEP_MS);
    },
    until: async (cond: () => boolean, what: string, withinMs = 60_000) => {
      if (!(await moveUntil(cond, withinMs))) throw new Error(`not within ${withinMs} ms of fake time: ${what}`);
    },
  };
}

// one fake clock drives the log, the queue's ack deadlines and nak delays, and the consumers' keep-alives
hookQueueContract('memory', async () => {
  const clock = createFakeClock();
  const log = createMemoryEventLog({ clock });
  const queue = createMemoryHookQueue({ eventLog: log, clock });
  return {
    log,
    queue,
    clock,
    now: () => clock.monotonic(),
    ...fakeTime(clock),
    cleanup: async () => {
      await queue.close();
      await log.close();
    },
  };
}, {
  knownDifferences: {
    'records appended before the first consume() are not delivered (a new durable starts at the end of the stream)':
      'memoryHookQueue queues from its creation (fromSeq, default 1), so records appended between createMemoryHookQueue() and the first consume() are delivered; the JetStream durable is created by the first consume(), deliver policy `new`',
  },
});
