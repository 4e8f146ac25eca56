import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, jetstream } from '@nats-io/jetstream';
import { STREAM_JOBS } from '../subjects.ts';
import { toAppError } from './connection.ts';

/** What tells one JetStream store from another: a recreated stream has a new creation time. */
export interface StoreIdentity {
  stream: string;
  created: string;
  /** Grows as retention deletes the oldest records: not part of the identity (a checkpoint checks it is not below its own). */
  firstSeq: number;
  lastSeq: number;
}

/** The stream's identity, or null when the stream does not exist. Throws UNAVAILABLE when unreachable. */
export async function readStoreIdentity(nc: NatsConnection, stream: string = STREAM_JOBS): Promise<StoreIdentity | null> {
  try {
    const jsm = await jetstream(nc, { timeout: 5_000 }).jetstreamManager(false);
    const info = await jsm.streams.info(stream);
    return { stream, created: info.created, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq };
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
    throw toAppError(err, `stream info ${stream}`);
  }
}
