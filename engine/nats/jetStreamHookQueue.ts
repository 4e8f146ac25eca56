/**
 * The webhook deliverer's queue on JetStream: the durable pull consumer `hooks` on stream JOBS
 * (hookConsumer.ts), created on the first `consume` (deliver policy `new`) and shared by every process
 * that consumes from it.
 */
import type { HookQueue } from '../hooks/hookQueue.ts';
import { startHookConsumer, type HookConsumerOptions, type NatsConnection } from './hookConsumer.ts';

/** Options of {@link createJetStreamHookQueue}. */
export interface JetStreamHookQueueOptions extends Pick<HookConsumerOptions, 'stream' | 'durable' | 'requestTimeoutMs'> {
  nc: NatsConnection;
}

export function createJetStreamHookQueue(opts: JetStreamHookQueueOptions): HookQueue {
  return {
    // the consumer keeps Node's own timers: `clock` is for in-process queues
    consume: ({ clock: _clock, ...consume }) => startHookConsumer({ ...opts, ...consume }),
  };
}
