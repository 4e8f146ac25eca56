/**
 * The floor our engine sits on: tiny jobs done as cheaply as JetStream allows. A job is one message
 * on a work-queue stream (file store; the server's `sync_interval` as for our service); a consumer
 * pulls it, "runs" the no-op and acks it with `ackAck()`; terminal = the ack acknowledged by the
 * server. Shared by rawWorker.ts and rawProducer.ts.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** The stream (and durable consumer) for one scenario. */
export const rawStreamName = (name: string) => `RAW_${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
/** The one subject jobs are published on. */
export const rawSubject = (name: string) => `raw.${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
/** Messages the consumer keeps pulled ahead (the client refills at half). */
export const RAW_PULL_BATCH = 1000;

/** A connection set up as the engine's are (no async stack traces: ~10 % of a request's CPU). */
export function connectRaw(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url, name, noAsyncTraces: true });
}
