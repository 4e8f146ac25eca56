import type { NatsConnection } from '@nats-io/transport-node';
import { STREAM_JOBS } from '../subjects.ts';
import type { EventLog } from './eventLog.ts';
import { createJetStreamAppend } from './jetStreamAppend.ts';
import { createJetStreamBatch } from './jetStreamBatch.ts';
import { createJetStreamFollowers } from './jetStreamFollower.ts';
import { createJetStreamLogContext } from './jetStreamLogContext.ts';
import { createJetStreamReads } from './jetStreamReads.ts';
import { createJetStreamSubjects } from './jetStreamSubjects.ts';

/** Options of {@link createJetStreamEventLog}. */
export interface JetStreamEventLogOptions {
  /** A connection the caller owns (close() leaves it open). */
  nc: NatsConnection;
  /** @defaultValue 'JOBS' */
  stream?: string;
  /** Timeout of each JetStream request (publish, info, consumer create). @defaultValue 5000 */
  requestTimeoutMs?: number;
  /** appendBatch sends at least this many items as an atomic batch, fewer pipelined (jetStreamBatch.ts). @defaultValue Infinity (always pipelined) */
  atomicBatchMin?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/**
 * The event store on a JetStream stream (docs/architecture.md): one message per append, body = JSON array.
 *
 * The parts: jetStreamLogContext.ts (clients, connection state, records), jetStreamAppend.ts (CAS,
 * dedup, our own retried append), jetStreamReads.ts (one subject, the stream head),
 * jetStreamSubjects.ts (listing, purge), jetStreamFollower.ts (replay, then follow).
 */
export function createJetStreamEventLog(opts: JetStreamEventLogOptions): EventLog {
  const cx = createJetStreamLogContext(opts.nc, opts.stream ?? STREAM_JOBS, opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  const { readSubject, lastSeq } = createJetStreamReads(cx);
  const { listSubjects, purge } = createJetStreamSubjects(cx);
  const { follow, close } = createJetStreamFollowers(cx, lastSeq);
  const append = createJetStreamAppend(cx);
  return {
    append,
    appendBatch: createJetStreamBatch(cx, append, opts.atomicBatchMin),
    purge,
    readSubject,
    lastSeq,
    listSubjects,
    follow,
    close,
  };
}
