/**
 * The few members of bullmq 6.7.6 the peer bench uses, typed here so that the root typecheck does
 * not need bench/peers/node_modules, and the loader (bullmq resolves from bench/peers/node_modules).
 */

/** What every BullMQ job carries: the wall ms it counts from. */
export interface Stamp { t: number }
export interface BullJob { name: string; data: Stamp }
export interface BullQueue {
  add(name: string, data: Stamp): Promise<unknown>;
  addBulk(jobs: { name: string; data: Stamp }[]): Promise<unknown>;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}
export interface BullWorker {
  on(event: 'completed', fn: (job: BullJob) => void): void;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}
export interface BullFlow {
  name: string;
  queueName: string;
  data: Stamp | Record<string, never>;
  children?: BullFlow[];
}
export interface BullFlowProducer {
  add(flow: BullFlow): Promise<unknown>;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}
type Connection = { connection: { host: string; port: number } };
export interface BullMq {
  Queue: new (name: string, opts: Connection) => BullQueue;
  Worker: new (name: string, processor: () => Promise<void>, opts: Connection & { concurrency: number }) => BullWorker;
  FlowProducer: new (opts: Connection) => BullFlowProducer;
}

/** Imports bullmq (a runtime name, so that the root typecheck does not resolve it). */
export async function loadBullMq(): Promise<BullMq> {
  const name: string = 'bullmq';
  return (await import(name)) as BullMq;
}

/** The connection options for the redis-server on `port` (127.0.0.1). */
export const connectionTo = (port: string | number) => ({ connection: { host: '127.0.0.1', port: Number(port) } });
