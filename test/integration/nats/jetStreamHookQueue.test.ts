import { describe } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { createJetStreamEventLog } from '../../../engine/eventlog/jetStreamEventLog.ts';
import { createJetStreamHookQueue } from '../../../engine/nats/jetStreamHookQueue.ts';
import { STREAM_JOBS } from '../../../engine/subjects.ts';
import { hookQueueContract } from '../../contract/hookQueue.contract.ts';
import { useTestNats } from '../../helpers/natsServer.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';

describe('JetStream hook queue: the contract', () => {
  const nats = useTestNats();
  let durableNo = 0;
  // each test consumes a durable of its own on the suite's JOBS stream (made as the engine makes it)
  hookQueueContract('JetStream', async () => {
    const durable = `hooks_contract_${++durableNo}`;
    const log = createJetStreamEventLog({ nc: nats.nc });
    return {
      log,
      queue: createJetStreamHookQueue({ nc: nats.nc, durable, requestTimeoutMs: 1_000 }),
      now: () => performance.now(),
      passTime: sleep,
      until: (cond, what, withinMs) => waitFor(cond, { what, ...(withinMs !== undefined ? { timeoutMs: withinMs } : {}) }).then(() => undefined),
      cleanup: async () => {
        const jsm = await jetstreamManager(nats.nc);
        await jsm.consumers.delete(STREAM_JOBS, durable).catch(() => false); // none when the test never consumed
        await log.close();
      },
    };
  });
});
