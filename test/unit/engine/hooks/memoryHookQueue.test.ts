import { createMemoryEventLog } from '../../../../engine/eventlog/memoryEventLog.ts';
import { createMemoryHookQueue } from '../../../../engine/hooks/memoryHookQueue.ts';
import { hookQueueContract } from '../../../contract/hookQueue.contract.ts';
import { createFakeClock, fakeTime } from '../../../helpers/fakeClock.ts';

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
});
