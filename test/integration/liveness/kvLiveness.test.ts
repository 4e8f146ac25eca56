import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { systemClock } from '../../../engine/clock.ts';
import { isAppError } from '../../../engine/errors.ts';
import { Kvm } from '@nats-io/kv';
import { createKvLiveness } from '../../../engine/liveness/kvLiveness.ts';
import type { Liveness } from '../../../engine/liveness/liveness.ts';
import { livenessContract } from '../../contract/liveness.contract.ts';
import { connectTest, startTestNats, useTestNats, type TestNats } from '../../helpers/natsServer.ts';
import { waitFor } from '../../helpers/wait.ts';

describe('KV liveness: the contract', () => {
  const nats = useTestNats();
  let bucketNo = 0;
  // a fresh bucket per test, configured like `liveness` (engine/nats/connection.ts)
  livenessContract('KV', async () => {
    const bucket = `liveness_contract_${++bucketNo}`;
    const kv = await new Kvm(nats.nc).create(bucket, { history: 1 });
    const opened: Liveness[] = [];
    return {
      open: (clock) => {
        const l = createKvLiveness({ nc: nats.nc, clock, bucket });
        opened.push(l);
        return l;
      },
      cleanup: async () => {
        await Promise.all(opened.map((l) => l.close()));
        await kv.destroy();
      },
    };
  });
});

describe('KV liveness across a restart', () => {
  let srv: TestNats;
  let ncA: NatsConnection;
  let ncB: NatsConnection;
  before(async () => {
    srv = await startTestNats();
    ncA = await connectTest(srv.url);
    ncB = await connectTest(srv.url);
  });
  after(async () => {
    await ncA?.close();
    await ncB?.close();
    await srv?.cleanup();
  });

  it('keeps watching across a nats-server restart', async () => {
    const a = createKvLiveness({ nc: ncA, clock: systemClock, requestTimeoutMs: 300 });
    const b = createKvLiveness({ nc: ncB, clock: systemClock });
    try {
      await a.beat('worker', 'w3', { n: 1 });
      await waitFor(() => b.entries().some((e) => e.id === 'w3'), { what: 'the first beat' });
      await srv.restart();
      // beat until the observer sees the new value (beats fail with UNAVAILABLE until reconnected)
      await waitFor(async () => {
        if (b.entries().some((e) => e.id === 'w3' && e.info['n'] === 2)) return true;
        await a.beat('worker', 'w3', { n: 2 }).catch((e) => assert.ok(isAppError(e, 'UNAVAILABLE'), String(e)));
        return false;
      }, { what: 'the observer to see a beat after the restart', intervalMs: 100 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
