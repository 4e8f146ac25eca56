/**
 * The `hooks` durable has one server-side filter (`job.*.hook` since decision 0012 F4): with two, nats-server 2.15 walks every
 * subject of a file block per delivered message once the consumer lags (hookConsumer.ts HOOKS_FILTER,
 * docs/nats-notes.md). A durable an earlier version made with two filters, or with `job.*.*`, is updated on start.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { HOOKS_FILTER, startHookConsumer } from '../../../engine/nats/hookConsumer.ts';
import { silentLogger } from '../../../engine/log.ts';
import { STREAM_JOBS } from '../../../engine/subjects.ts';
import { useTestNats } from '../../helpers/natsServer.ts';
import { waitFor } from '../../helpers/wait.ts';

describe('hooks durable: one server-side filter', () => {
  const nats = useTestNats();

  for (const older of [['job.*.ev', 'job.*.hook'], ['job.*.*']]) {
    it(`a durable made with ${older.join(' + ')} is updated to job.*.hook; only .hook records reach mayTrigger and the handler`, async () => {
      const jsm = await jetstreamManager(nats.nc);
      const durable = `hooks_filter_upgrade_${older.length}`;
      await jsm.consumers.add(STREAM_JOBS, {
        durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New,
        filter_subjects: older, ack_wait: 30_000_000_000, max_deliver: -1, max_ack_pending: -1,
      });
      const asked: string[] = [];
      const handled: string[] = [];
      const h = await startHookConsumer({
        nc: nats.nc, durable, ackWaitMs: 30_000, logger: silentLogger,
        mayTrigger: (subject) => (asked.push(subject), true),
        handler: async (m) => {
          handled.push(m.subject);
          m.ack();
        },
      });
      try {
        assert.deepEqual((await jsm.consumers.info(STREAM_JOBS, durable)).config.filter_subjects, [HOOKS_FILTER]);
        assert.equal(HOOKS_FILTER, 'job.*.hook');
        const js = jetstream(nats.nc);
        for (const s of ['job.hf1.ev', 'job.hf1.task', 'worker.hf1.ev', 'job.hf1.hook', 'job.hf2.ev', 'job.hf2.hook']) await js.publish(s, '[]');
        await waitFor(async () => {
          const ci = await jsm.consumers.info(STREAM_JOBS, durable);
          return handled.length === 2 && ci.num_pending === 0 && ci.num_ack_pending === 0;
        }, { what: 'every record delivered and acked' });
        assert.deepEqual(handled, ['job.hf1.hook', 'job.hf2.hook']);
        assert.deepEqual(asked, handled);
        assert.equal((await jsm.consumers.info(STREAM_JOBS, durable)).delivered.stream_seq > 0, true);
      } finally {
        await h.stop();
        await jsm.consumers.delete(STREAM_JOBS, durable).catch(() => false);
      }
    });
  }
});
