/** One JOBS record as the webhook deliverer receives it from its durable consumer. */
export interface HookMessage {
  subject: string;
  /** Stream sequence. */
  seq: number;
  /** The raw body (a JSON array of envelopes); decoded only when it may trigger a delivery. */
  data: Uint8Array;
  /** Done with it (fire and forget). */
  ack(): void;
  /** Deliver it again after `delayMs`. */
  nak(delayMs: number): void;
  /** Still working: restart the ack timer. */
  working(): void;
}

/** A consumer of HookMessages (the NATS one lives in engine/nats/hookConsumer.ts). */
export interface HookConsumerHandle {
  /** Stops pulling, waits for the handlers in flight. */
  stop(): Promise<void>;
}
