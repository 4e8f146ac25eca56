/**
 * What one scenario asks of a system, and what each system's side reports back, in the same
 * shape for this service, BullMQ and raw JetStream (bench/peers/run.ts prints them side by side).
 */
import type { Pacing } from '../pacing.ts';

/** The jobs a scenario submits. */
export interface Workload {
  /** Jobs submitted. */
  jobs: number;
  pacing: Pacing;
  /**
   * Tasks per job. 1: a tiny no-op job. More: one job that fans out: ours a `noop` job planning this
   * many tasks; BullMQ a FlowProducer parent with this many children; raw JetStream this many messages.
   */
  tasks: number;
}

/** One system's figures for one scenario. */
export interface SideResult {
  /** Jobs asked for, and jobs that reached their terminal state in time. */
  expected: number;
  done: number;
  /** From the first submission to the last terminal state (wall ms). */
  busyMs: number;
  /** Submit→terminal latency percentiles (ms); a late open-loop send counts from its due time. */
  p50: number;
  p99: number;
  p999: number;
  /**
   * CPU ms over the run: `process` the system's own process (our service; BullMQ's worker; the raw
   * consumer), `store` nats-server or redis-server, `producer` the submitting process while it sent
   * (our HTTP load generator; BullMQ's Queue; the raw publisher), kept apart from `process`.
   */
  cpuMs: { process: number; store: number; producer: number };
  /** Set when the system cannot run the scenario (e.g. no bulk route): the reason, printed instead of figures. */
  unavailable?: string;
  /** Why fewer jobs finished than were asked for, when the side knows. */
  note?: string;
}

/** What a peer's worker process is told (argv[2], JSON). */
export interface PeerWorkerConfig {
  /** redis port (BullMQ) or NATS URL (raw). */
  store: string;
  /** Queue or stream name, fresh per scenario. */
  name: string;
  /** Terminal states to wait for. */
  expected: number;
  /** Count only jobs of this name (BullMQ flows: the parent). */
  terminalName?: string;
}

/** What a peer's producer process is told (argv[2], JSON). */
export interface PeerProducerConfig extends Workload {
  store: string;
  name: string;
}

/** A worker's report once its jobs are terminal (or the parent said `finish`). */
export interface WorkerReport {
  done: number;
  /** Wall ms of the last terminal state. */
  last: number;
  p50: number;
  p99: number;
  p999: number;
}

/** A producer's report once every send returned. */
export interface ProducerReport {
  /** Wall ms of the first send. */
  t0: number;
  /** CPU of the producer while sending (ms; its start-up excluded). */
  cpuMs: number;
  failed: number;
}
