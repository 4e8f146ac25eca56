import { connect } from '@nats-io/transport-node';
import {
  errors as coreErrors,
  type NatsConnection,
} from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { jserrors, JetStreamStatusError } from '@nats-io/jetstream/internal';
import { Kvm } from '@nats-io/kv';
import { AppError } from '../errors.ts';
import { KV_CONTROL, KV_LIVENESS, RETENTION_REMOVED_SUBJECT, STREAM_JOBS, STREAM_LOGS, STREAM_TASKS } from '../subjects.ts';
import { DEFAULT_LOGS_MAX_AGE_MS, DEFAULT_LOGS_MAX_BYTES, MAX_CHUNK_BYTES, taskLogLimits } from '../tasklogs/taskLogRecords.ts';
import { DEFAULT_MAX_PAYLOAD } from './embeddedServer.ts';

/** The pino methods we use (pino itself satisfies this). */
export interface NatsLogger {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** Options of {@link connectNats}. */
export interface ConnectNatsOptions {
  /** Connection name shown by the server (e.g. `coordinator:<id>`). */
  name: string;
  /** Receives disconnect / reconnect / error notices. */
  logger?: NatsLogger;
}

const RECONNECT_TIME_WAIT_MS = 250;
const RECONNECT_JITTER_MS = 100;

/**
 * Connects with unlimited reconnects (a NATS restart must never leave a process disconnected for
 * good). `url` may list several servers separated by commas. The first connect is not retried: it
 * rejects with AppError('UNAVAILABLE').
 */
export async function connectNats(url: string, opts: ConnectNatsOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      // a cluster is given as "nats://a:4222,nats://b:4222" (the NATS convention); the client wants a list
      servers: url.split(',').map((s) => s.trim()).filter((s) => s !== ''),
      name: opts.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_TIME_WAIT_MS,
      reconnectJitter: RECONNECT_JITTER_MS,
      // No Error object (and stack capture) per request: ~10% of the hot path's CPU, measured.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new AppError('UNAVAILABLE', `cannot connect to NATS at ${url}`, { cause: err });
  }
  const log = opts.logger;
  if (log !== undefined) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') log.warn({ server: s.server }, 'nats disconnected');
        else if (s.type === 'reconnect') log.info({ server: s.server }, 'nats reconnected');
        else if (s.type === 'error') log.error({ err: s.error }, 'nats error');
        else if (s.type === 'slowConsumer') log.warn({ pending: s.pending }, 'nats slow consumer');
      }
    })();
  }
  return nc;
}

/** Options of {@link ensureStreams}. */
export interface EnsureStreamsOptions {
  /** Replicas of every stream and the KV bucket. @defaultValue 1 */
  replicas?: number;
  /** Nats-Msg-Id dedup window of JOBS and TASKS. @defaultValue 120000 (2 min) */
  duplicateWindowMs?: number;
  /**
   * Accepted for call-site symmetry only: ack wait and max deliver are consumer settings, applied
   * per pool by createJetStreamTaskQueue.
   */
  taskAckWaitMs?: number;
  /** See {@link EnsureStreamsOptions.taskAckWaitMs}. */
  taskMaxDeliver?: number;
  /** Bounds of stream LOGS (task output); pass what createJetStreamTaskLogs gets. @defaultValue its defaults */
  logs?: Omit<LogsStreamOptions, 'replicas'>;
  /**
   * JOBS allows atomic batches (`allow_atomic`, server ≥ 2.12; the event log's group commit uses them).
   * ensureStreams sets it from the connected server's version. @defaultValue false
   */
  atomic?: boolean;
}

/** Options of {@link logsStreamConfig}: stream LOGS, the output of `script`/`exec` tasks (engine/tasklogs/). */
export interface LogsStreamOptions {
  /** @defaultValue 1 */
  replicas?: number;
  /** Per task: sets max_msgs_per_subject (engine/tasklogs/taskLogRecords.ts maxChunksPerTask). @defaultValue 1048576 */
  maxBytesPerTask?: number;
  /** The stream's max_bytes (oldest output goes first). @defaultValue 1073741824 (1 GiB) */
  maxBytes?: number;
  /** The stream's max_age. @defaultValue 604800000 (7 days) */
  maxAgeMs?: number;
}

/** The connection type the rest of the engine passes around (only engine/nats/ and the adapters import @nats-io). */
export type { NatsConnection };

/** A stream config with its name. */
export type StreamSpec = Partial<StreamConfig> & { name: string };

const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
const nanos = (ms: number) => ms * 1_000_000;

/** The first server line with atomic batch publish (ADR-50). */
const ATOMIC_SINCE: readonly [number, number] = [2, 12];

/** True when `version` (e.g. "2.15.1") is at least {@link ATOMIC_SINCE}. */
export function serverHasAtomicBatch(version: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)\./.exec(version ?? '');
  if (m === null) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > ATOMIC_SINCE[0] || (major === ATOMIC_SINCE[0] && minor >= ATOMIC_SINCE[1]);
}

/** The stream configs we own; exported so tests and docs show the layout (docs/architecture.md). */
export function streamConfigs(opts: EnsureStreamsOptions = {}): StreamSpec[] {
  const replicas = opts.replicas ?? 1;
  const dup = nanos(opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS);
  return [
    {
      name: STREAM_JOBS,
      subjects: ['job.*.ev', 'job.*.task', 'job.*.hook', 'worker.*.ev', RETENTION_REMOVED_SUBJECT],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: replicas,
      duplicate_window: dup,
      allow_rollup_hdrs: true,
      allow_direct: true,
      max_msg_size: DEFAULT_MAX_PAYLOAD,
      discard: DiscardPolicy.Old,
      ...(opts.atomic === true ? { allow_atomic: true } : {}),
    },
    {
      name: STREAM_TASKS,
      subjects: ['task.*'],
      storage: StorageType.File,
      retention: RetentionPolicy.Workqueue,
      num_replicas: replicas,
      duplicate_window: dup,
      max_msg_size: DEFAULT_MAX_PAYLOAD,
    },
    logsStreamConfig({ replicas, ...opts.logs }),
  ];
}

/** Stream LOGS: `log.<jobId>.<taskId>.out|end`, bounded per subject, in bytes and in age, oldest first. */
export function logsStreamConfig(o: LogsStreamOptions = {}): StreamSpec {
  return {
    name: STREAM_LOGS,
    subjects: ['log.*.*.*'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: o.replicas ?? 1,
    max_bytes: o.maxBytes ?? DEFAULT_LOGS_MAX_BYTES,
    max_age: nanos(o.maxAgeMs ?? DEFAULT_LOGS_MAX_AGE_MS),
    max_msgs_per_subject: taskLogLimits(o.maxBytesPerTask).maxChunksPerTask,
    // a chunk plus its small JSON header
    max_msg_size: 2 * MAX_CHUNK_BYTES,
    discard: DiscardPolicy.Old,
    allow_direct: true,
  };
}

/** True if any field we set differs from the stream's current config. */
function differs(current: StreamConfig, want: StreamSpec): boolean {
  const cur = current as unknown as Record<string, unknown>;
  return Object.entries(want).some(([k, v]) => JSON.stringify(cur[k]) !== JSON.stringify(v));
}

/** Creates the stream, or updates it when a field we set differs. */
export async function ensureStream(jsm: JetStreamManager, want: StreamSpec): Promise<void> {
  const name = want.name;
  try {
    const info = await jsm.streams.info(name);
    if (differs(info.config, want)) await jsm.streams.update(name, { ...info.config, ...want });
  } catch (err) {
    if (!(err instanceof jserrors.StreamNotFoundError)) throw err;
    await jsm.streams.add(want);
  }
}

/**
 * Creates or updates streams JOBS, TASKS and LOGS and the KV buckets `liveness` and `control` (docs/architecture.md).
 * Idempotent: when everything matches it only reads stream info.
 */
export async function ensureStreams(nc: NatsConnection, opts: EnsureStreamsOptions = {}): Promise<void> {
  try {
    const jsm = await jetstreamManager(nc);
    // a 2.10 server would accept a batch and store it message by message (PITFALLS): only ≥ 2.12 gets allow_atomic
    const atomic = opts.atomic ?? serverHasAtomicBatch(nc.info?.version);
    for (const cfg of streamConfigs({ ...opts, atomic })) await ensureStream(jsm, cfg);
    // file storage: a memory bucket's stream does not survive a standalone server restart
    await new Kvm(nc).create(KV_LIVENESS, { history: 1, replicas: opts.replicas ?? 1, storage: StorageType.File });
    // users, tokens, virtual clusters, webhooks: small, CAS-updated, mirrored in memory by every process
    await new Kvm(nc).create(KV_CONTROL, { history: 1, replicas: opts.replicas ?? 1, storage: StorageType.File });
  } catch (err) {
    throw toAppError(err, 'ensureStreams');
  }
}

/**
 * Translates a NATS client error into an AppError at the edge: a lost CAS (10071, or 10164 on a
 * 2.15 cluster) is CONFLICT;
 * timeouts, no responders, closed/disconnected connections and 503s are UNAVAILABLE (retryable);
 * anything else is INTERNAL. AppErrors pass through.
 */
export function toAppError(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (err instanceof JetStreamApiError) {
    // 10164 (StreamWrongLastSequenceUnknown): how a 2.15 cluster can answer a losing CAS too
    if (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown) {
      return new AppError('CONFLICT', undefined, { cause: err });
    }
    if (err.status === 503) return new AppError('UNAVAILABLE', `${what}: ${msg}`, { cause: err });
  }
  // a pull answered 503 "no responders" (a stream or consumer without a leader for a moment: seen
  // right after an R3 stream was created on a 2.10 cluster): retryable like any outage
  if (err instanceof JetStreamStatusError && err.code === 503) return new AppError('UNAVAILABLE', `${what}: ${msg}`, { cause: err });
  if (
    err instanceof jserrors.JetStreamNotEnabled ||
    err instanceof coreErrors.TimeoutError ||
    err instanceof coreErrors.NoRespondersError ||
    err instanceof coreErrors.ClosedConnectionError ||
    err instanceof coreErrors.DrainingConnectionError ||
    err instanceof coreErrors.ConnectionError ||
    (err instanceof coreErrors.RequestError && !(err.cause instanceof coreErrors.PermissionViolationError))
  ) {
    return new AppError('UNAVAILABLE', `${what}: ${msg}`, { cause: err });
  }
  return new AppError('INTERNAL', `${what}: ${msg}`, { cause: err });
}

/**
 * Calls `fn` each time the client reconnects, until the returned function is called. Pull loops use
 * it to re-pull at once: the client's own recovery of a pending fetch backs off for the fetch's
 * whole expiry when JetStream is not ready yet after a server restart.
 */
export function onReconnect(nc: NatsConnection, fn: () => void): () => void {
  const status = nc.status();
  void (async () => {
    for await (const s of status) if (s.type === 'reconnect') fn();
  })().catch(() => undefined);
  // typed as a plain AsyncIterable, but it is the client's QueuedIterator, whose stop() ends it
  return () => (status as { stop?: () => void }).stop?.();
}
