/**
 * What the webhook deliverer needs from its transport: a durable queue of the JOBS records that may
 * trigger a notification (`job.*.hook`: WebhookDue and redelivery requests), shared by every coordinator-role process, each
 * record handled by one of them at a time. A record is acked, nak'ed with a delay (retried later) or
 * redelivered when its holder neither acks nor keeps it (`working()`) within the ack wait: delivery is
 * at least once. Two implementations: JetStream (engine/nats/jetStreamHookQueue.ts) and memory
 * (memoryHookQueue.ts, for tests and the simulation).
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { HookConsumerHandle, HookMessage } from './hookMessage.ts';

/** Default of {@link HookConsumeOptions.concurrency}. */
export const DEFAULT_HOOK_CONCURRENCY = 32;

/** Options of {@link HookQueue.consume}. */
export interface HookConsumeOptions {
  /** Called for every record that passes `mayTrigger`; must ack or nak it (a throw naks it after 1 s). */
  handler: (m: HookMessage) => Promise<void>;
  /** Cheap pre-check on the raw record; false = acked at once without calling the handler. */
  mayTrigger: (subject: string, data: Uint8Array) => boolean;
  /** A record neither acked nor kept alive within this is redelivered (its holder died). */
  ackWaitMs: number;
  /** Handlers running at once. @defaultValue {@link DEFAULT_HOOK_CONCURRENCY} */
  concurrency?: number;
  logger: Logger;
  /**
   * This consumer's own timers (the keep-alive of the records it holds), so that they stop with the
   * process that runs it (the simulation's). The JetStream consumer uses Node's timers.
   * @defaultValue systemClock
   */
  clock?: Clock;
}

/** See the module comment. */
export interface HookQueue {
  /** Starts handling records; `stop()` on the handle stops pulling and waits for the handlers in flight. */
  consume(opts: HookConsumeOptions): Promise<HookConsumerHandle>;
}
