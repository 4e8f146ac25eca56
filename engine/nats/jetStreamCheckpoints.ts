/**
 * Projection checkpoints on JetStream (decision 0013 §3.3): the text in the object store bucket
 * `checkpoints` (object `projection.v<formatVersion>`, through the BinaryStore over `@nats-io/obj`:
 * a put is all or nothing and a CAS on the version it replaces), the writer's lease in the control
 * KV (key `checkpoint.lease`, CAS on its revision, like a job claim), the stream's identity from
 * stream info.
 */
import { constants } from 'node:buffer';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BinaryReader, BinaryStore } from '../binaries/binaryStore.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { ControlStore } from '../controlstore/controlStore.ts';
import { AppError, isAppError } from '../errors.ts';
import type { CheckpointStore } from '../projections/checkpointStore.ts';
import { CHECKPOINT_FORMAT_VERSION, collectCheckpoint, type StreamNow } from '../projections/projectionCheckpoint.ts';
import { STREAM_JOBS } from '../subjects.ts';
import { createObjBinaryStore } from './objBinaryStore.ts';
import { readStoreIdentity } from './storeIdentity.ts';

/** The bucket of projection checkpoints. */
export const OBJ_CHECKPOINTS = 'checkpoints';
/** The control KV key of the writer's lease. */
export const CHECKPOINT_LEASE_KEY = 'checkpoint.lease';
/** The object of this build's checkpoints: one per format version, so builds of two formats do not overwrite each other's. */
export const CHECKPOINT_OBJECT = `projection.v${CHECKPOINT_FORMAT_VERSION}`;

/**
 * Largest checkpoint stored: a start decodes the body into one string, and V8's longest is
 * `buffer.constants.MAX_STRING_LENGTH` (2^29 - 24 on 64-bit; UTF-8 never has fewer bytes than
 * UTF-16 units). At ~1 KB per held job, about 550,000 jobs.
 */
export const MAX_CHECKPOINT_BYTES = constants.MAX_STRING_LENGTH;
/** Most bytes per piece handed to the object store (it copies each and chunks it again). */
const PIECE_BYTES = 1024 * 1024;

/** Options of {@link createJetStreamCheckpoints}. */
export interface JetStreamCheckpointsOptions {
  nc: NatsConnection;
  /** The control store (its KV holds the lease). */
  controlStore: ControlStore;
  /** Replicas of the bucket: pass the engine's `replicas`. @defaultValue 1 */
  replicas?: number;
  /** @defaultValue 'checkpoints' */
  bucket?: string;
  /** @defaultValue 'JOBS' */
  stream?: string;
  /** Lease expiry (wall time: leases are compared across processes). @defaultValue systemClock */
  clock?: Clock;
  /** A store of the bucket made elsewhere (tests). */
  objects?: BinaryStore;
  /** A larger checkpoint is not written (BODY_TOO_LARGE) nor loaded. @defaultValue MAX_CHECKPOINT_BYTES */
  maxBytes?: number;
}

interface Lease {
  holder: string;
  /** Wall-clock ms. */
  until: number;
}

export function createJetStreamCheckpoints(opts: JetStreamCheckpointsOptions): CheckpointStore {
  const clock = opts.clock ?? systemClock;
  const stream = opts.stream ?? STREAM_JOBS;
  const objects = opts.objects ?? createObjBinaryStore({ nc: opts.nc, bucket: opts.bucket ?? OBJ_CHECKPOINTS, replicas: opts.replicas ?? 1 });
  const { controlStore } = opts;
  const maxBytes = opts.maxBytes ?? MAX_CHECKPOINT_BYTES;

  return {
    async stream(): Promise<StreamNow | undefined> {
      const id = await readStoreIdentity(opts.nc, stream);
      return id === null ? undefined : { created: id.created, firstSeq: id.firstSeq, lastSeq: id.lastSeq };
    },
    async load() {
      let reader: BinaryReader;
      try {
        reader = await objects.open(CHECKPOINT_OBJECT);
      } catch (err) {
        if (isAppError(err, 'NOT_FOUND')) return undefined;
        throw err;
      }
      const { size } = reader.info;
      if (size > maxBytes) throw new AppError('INTERNAL', `checkpoint ${CHECKPOINT_OBJECT}: ${size} bytes recorded, more than a start can read (${maxBytes})`);
      // into one buffer of the recorded size as the chunks come, the body hashed on the way
      return collectCheckpoint(reader.data, size);
    },
    async lease(holder, leaseMs) {
      const now = clock.now();
      const cur = controlStore.get<Lease>(CHECKPOINT_LEASE_KEY);
      if (cur !== undefined && cur.value.holder !== holder && cur.value.until > now) return false;
      try {
        await controlStore.update(CHECKPOINT_LEASE_KEY, { holder, until: now + leaseMs } satisfies Lease, cur?.revision ?? 0);
        return true;
      } catch (err) {
        if (isAppError(err, 'CONFLICT')) return false; // another process took it meanwhile
        throw err;
      }
    },
    async save(pieces) {
      const bytes = pieces.reduce((n, p) => n + p.length, 0);
      if (bytes > maxBytes) {
        throw new AppError('BODY_TOO_LARGE', `a checkpoint of ${bytes} bytes is more than a start can read (${maxBytes}): not written; fewer held jobs (decision 0013 step 2) or checkpointIntervalMs 0`);
      }
      // the writer's pieces as they are (the store reads them a chunk at a time, as it sends them)
      async function* source(): AsyncIterable<Uint8Array> {
        for (const piece of pieces) for (let i = 0; i < piece.length; i += PIECE_BYTES) yield piece.subarray(i, i + PIECE_BYTES);
      }
      await objects.put(CHECKPOINT_OBJECT, { contentType: 'application/x-ndjson', source: source(), maxBytes, uploadedBy: 'checkpoint' });
    },
  };
}
