/** A task as it travels through the work queue (stream TASKS, subject task.<pool>). */
export interface TaskMessage {
  jobId: string;
  taskId: string;
  /** Dispatch attempt chosen by the coordinator (1-based); retries after a failure increase it. */
  attempt: number;
  /** The first attempt of the task's current run (set after a recovery or a job retry). @defaultValue 1 */
  firstAttempt?: number;
  /** Claim epoch of the dispatching coordinator. */
  epoch: number;
  /** Job type name, so the worker finds the runner. */
  type: string;
  payload: unknown;
  /** The job's spec (so a task can be run without reading the job's history). */
  spec: Record<string, unknown>;
}

export interface Delivery {
  readonly task: TaskMessage;
  /** How many times the queue has delivered this message (1 on first delivery). */
  readonly deliveryCount: number;
  /** Extend the ack deadline while the task runs. */
  working(): void;
  ack(): Promise<void>;
  /** Give the message back for redelivery (after delayMs). */
  nak(delayMs?: number): void;
  /** Drop the message for good. */
  term(): void;
}

export interface TaskConsumer {
  /** Stop pulling; resolves once in-flight handlers have finished. */
  drain(): Promise<void>;
}

export interface TaskQueueOptions {
  /** How long a delivery may stay unacked before redelivery. */
  ackWaitMs: number;
  /** Deliveries before the queue gives up on a message. */
  maxDeliver: number;
}

export interface ConsumeOptions {
  /**
   * Called when a task used up its deliveries without being acked (its workers kept dying):
   * the queue drops it, so someone must record an outcome or the job would wait forever.
   * May be called in several consumers of the pool for one task.
   */
  onExhausted?: (task: TaskMessage) => Promise<void>;
}

export interface TaskQueue {
  dispatch(pool: string, task: TaskMessage): Promise<void>;
  /** Pull deliveries from `pool`, at most `concurrency` handlers at once. */
  consume(pool: string, concurrency: number, handler: (d: Delivery) => Promise<void>, opts?: ConsumeOptions): TaskConsumer;
  close(): Promise<void>;
}
