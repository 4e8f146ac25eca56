import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createJetStreamTaskQueue } from '../../../engine/taskqueue/jetStreamTaskQueue.ts';
import type { TaskMessage } from '../../../engine/taskqueue/taskQueue.ts';
import { useTestNats } from '../../helpers/natsServer.ts';
import { waitFor } from '../../helpers/wait.ts';

describe('JetStream task queue: a task that uses up its deliveries', () => {
  const nats = useTestNats();

  it('is reported to the consumer with its content (so its job can record an outcome), then deleted', async () => {
    const q = createJetStreamTaskQueue({ nc: nats.nc, ackWaitMs: 300, maxDeliver: 2, requestTimeoutMs: 1_000 });
    const task: TaskMessage = { jobId: 'job-exh', taskId: 't00007', attempt: 2, epoch: 3, type: 'noop', payload: null, spec: {} };
    let deliveries = 0;
    const reported: TaskMessage[] = [];
    const c = q.consume('exh', 1, async () => void deliveries++, { onExhausted: async (t) => void reported.push(t) }); // never acks
    try {
      await q.dispatch('exh', task);
      await waitFor(() => reported.length > 0, { what: 'the report', intervalMs: 20 });
      assert.equal(deliveries, 2);
      assert.deepEqual(reported[0], task);
    } finally {
      await c.drain();
      await q.close();
    }
  });
});
