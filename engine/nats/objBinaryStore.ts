/**
 * The BinaryStore over the JetStream object store (`@nats-io/obj`, ADR-20), bucket `binaries`
 * (stream `OBJ_binaries`, file storage) with the engine's `replicas` (like JOBS, TASKS and the KV
 * buckets: 3 on a cluster): a binary is never on one host's disk only.
 *
 * How ADR-20 lays an object out, and what we build on it:
 * - Bytes go in chunk messages on `$O.<bucket>.C.<nuid>`, a fresh nuid per put; then one meta
 *   message (JSON: name, size, chunks, digest `SHA-256=<base64url>`, our `metadata`) on
 *   `$O.<bucket>.M.<base64url(name)>` with `Nats-Rollup: sub`. The meta message is the commit: a
 *   version is visible only once all its chunks are stored, and the client then purges the previous
 *   version's chunks. A name only ever appears base64url-encoded (`A-Za-z0-9-_=`) in a subject, so
 *   no name can inject a token; we validate names all the same (BINARY_NAME_RE).
 * - Replace: the put carries `previousRevision` (the meta's sequence when it started; 0 = no meta
 *   yet), i.e. `Nats-Expected-Last-Subject-Sequence` on the commit. A put that lost a race fails
 *   (CONFLICT) and the client purges its own chunks, so no orphan chunks stay behind either.
 * - Over the limit or a failed source: the source errors, the client purges the chunks already
 *   stored and publishes no meta; the previous version is untouched.
 * - Delete: a `deleted` meta with the same rollup and expected sequence, then a purge of that
 *   version's chunks (obj's own delete has no expected sequence, and a put committing meanwhile
 *   would leave its chunks orphaned).
 * - Read: an ordered pull consumer on the version's chunk subject, fetched a few chunks at a time
 *   (bounded memory, unlike obj's get, which pushes the whole object into an unbounded queue). A
 *   purge of the version (a replace or delete) shows as a fetch that brings nothing: we then re-read
 *   the meta and fail with CONFLICT. Size and sha256 are checked at the end.
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Base64UrlPaddedCodec, Objm, setSha256Backend, StorageType, type ObjectInfo, type ObjectStore } from '@nats-io/obj';
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../clock.ts';
import { AppError, isAppError } from '../errors.ts';
import { retry } from '../retry.ts';
import {
  BINARY_NAME_RE,
  binaryNotFound,
  checkBinaryName,
  checkPutOptions,
  replacedWhileReading,
  type BinaryInfo,
  type BinaryReader,
  type BinaryStore,
} from '../binaries/binaryStore.ts';
import { meterSource, tooLarge } from '../binaries/meterSource.ts';
import { readsThroughOpen } from '../binaries/saveBinaryToFile.ts';
import { toAppError } from './connection.ts';

/** The bucket of uploaded binaries. */
export const OBJ_BINARIES = 'binaries';

/** Options of {@link createObjBinaryStore}. */
export interface ObjBinaryStoreOptions {
  /** A connection the caller owns. */
  nc: NatsConnection;
  /** @defaultValue 'binaries' */
  bucket?: string;
  /** Replicas of the bucket's stream: pass the engine's `replicas` setting. @defaultValue 1 */
  replicas?: number;
  /** Timeout of each JetStream request (one per chunk on a put). @defaultValue 10000 */
  requestTimeoutMs?: number;
  /** Bytes per chunk message (clamped to the server's max_payload). @defaultValue 131072 (ADR-20's) */
  chunkBytes?: number;
  /**
   * A read waits this long for its next chunks before checking whether its version was replaced
   * (at least 1000, the client's minimum fetch expiry). @defaultValue 2000
   */
  readStallMs?: number;
  /** A read gives up (UNAVAILABLE) after this long without a chunk. @defaultValue 30000 */
  readTimeoutMs?: number;
  /** Stamps `uploadedAt`. @defaultValue systemClock */
  clock?: Clock;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_CHUNK_BYTES = 128 * 1024;
const DEFAULT_READ_STALL_MS = 2_000;
const DEFAULT_READ_TIMEOUT_MS = 30_000;
/** Chunks fetched per pull while reading: the read's memory bound (× chunkBytes). */
const FETCH_CHUNKS = 16;
/** A delete re-reads and tries again when a put committed meanwhile. */
const DELETE_ATTEMPTS = 5;
const DIGEST_PREFIX = 'SHA-256=';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** Keys of our fields in the object's `metadata` (sha256 and size are the object's own digest and size). */
const META_CONTENT_TYPE = 'contentType';
const META_UPLOADED_BY = 'uploadedBy';
const META_UPLOADED_AT = 'uploadedAt';

const streamOf = (bucket: string) => `OBJ_${bucket}`;
const chunkSubject = (bucket: string, nuid: string) => `$O.${bucket}.C.${nuid}`;
const metaSubject = (bucket: string, name: string) => `$O.${bucket}.M.${Base64UrlPaddedCodec.encode(checkBinaryName(name))}`;

/** `SHA-256=<base64url>` → hex ('' when absent or of another kind). */
function digestHex(digest: string | undefined): string {
  if (digest === undefined || !digest.startsWith(DIGEST_PREFIX)) return '';
  return Buffer.from(digest.slice(DIGEST_PREFIX.length), 'base64url').toString('hex');
}

function toInfo(oi: ObjectInfo): BinaryInfo {
  const md = oi.metadata ?? {};
  return {
    name: oi.name,
    contentType: md[META_CONTENT_TYPE] ?? DEFAULT_CONTENT_TYPE,
    size: oi.size,
    sha256: digestHex(oi.digest),
    uploadedAt: md[META_UPLOADED_AT] ?? oi.mtime,
    uploadedBy: md[META_UPLOADED_BY] ?? '',
  };
}

/** Creates the bucket if missing and brings its replicas to `replicas` (as ensureStreams does for the streams). */
async function ensureBucket(js: JetStreamClient, jsm: JetStreamManager, bucket: string, replicas: number): Promise<ObjectStore> {
  const os = await new Objm(js).create(bucket, { replicas, storage: StorageType.File });
  const si = await jsm.streams.info(streamOf(bucket));
  if (si.config.num_replicas !== replicas) await jsm.streams.update(si.config.name, { ...si.config, num_replicas: replicas });
  return os;
}

/** A BinaryStore on a JetStream object store bucket; the bucket is created on first use. */
export function createObjBinaryStore(opts: ObjBinaryStoreOptions): BinaryStore {
  const bucket = opts.bucket ?? OBJ_BINARIES;
  const replicas = opts.replicas ?? 1;
  const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const stallMs = Math.max(1_000, opts.readStallMs ?? DEFAULT_READ_STALL_MS);
  const readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const clock = opts.clock ?? systemClock;
  const js = jetstream(opts.nc, { timeout });
  // the client's put hashes every chunk; its default is a pure-JS sha256 (~70 MiB/s here, 1.8 ms of the
  // event loop per 128 KiB chunk), node:crypto's is ~20x faster. Process-wide, and the same digest.
  setSha256Backend('native');

  let osP: Promise<{ os: ObjectStore; jsm: JetStreamManager }> | undefined;
  const bucketStore = () =>
    (osP ??= (async () => {
      const jsm = await jetstreamManager(opts.nc, { timeout });
      return { os: await ensureBucket(js, jsm, bucket, replicas), jsm };
    })()).catch((err: unknown) => {
      osP = undefined; // try again next time
      throw toAppError(err, `object store ${bucket}`);
    });

  /** The current meta of `name`, deleted ones included (their revision matters to a CAS). */
  async function rawInfo(name: string): Promise<ObjectInfo | null> {
    const { os } = await bucketStore();
    try {
      return await os.info(checkBinaryName(name));
    } catch (err) {
      throw toAppError(err, `binary info ${name}`);
    }
  }

  async function* readVersion(name: string, oi: ObjectInfo): AsyncGenerator<Uint8Array> {
    if (oi.chunks === 0) return; // consume() and fetch() on an empty filter would only wait
    const hash = createHash('sha256');
    let size = 0;
    let received = 0;
    let consumer;
    try {
      consumer = await js.consumers.get(streamOf(bucket), { filter_subjects: [chunkSubject(bucket, oi.nuid)] });
    } catch (err) {
      throw toAppError(err, `binary read ${name}`);
    }
    try {
      let idleSince = clock.monotonic();
      while (received < oi.chunks) {
        let got = 0;
        try {
          const batch = await consumer.fetch({ max_messages: Math.min(FETCH_CHUNKS, oi.chunks - received), expires: stallMs });
          for await (const m of batch) {
            got++;
            received++;
            size += m.data.length;
            hash.update(m.data);
            yield m.data;
          }
        } catch (err) {
          throw toAppError(err, `binary read ${name}`);
        }
        if (got > 0) {
          idleSince = clock.monotonic();
          continue;
        }
        // nothing came: the version may have been purged by a replace or a delete
        const now = await rawInfo(name);
        if (now === null || now.deleted || now.nuid !== oi.nuid) throw replacedWhileReading(name);
        if (clock.monotonic() - idleSince > readTimeoutMs) throw new AppError('UNAVAILABLE', `binary read ${name}: no data for ${readTimeoutMs} ms`);
      }
      if (size !== oi.size || hash.digest('hex') !== digestHex(oi.digest)) {
        throw new AppError('INTERNAL', `binary ${name}: the bytes read do not match the recorded size and sha256`);
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  const store: BinaryStore = {
    async put(name, p) {
      checkBinaryName(name);
      checkPutOptions(p);
      const { os } = await bucketStore();
      const previous = await rawInfo(name);
      const uploadedAt = new Date(clock.now()).toISOString();
      const metered = meterSource(p.source, p.maxBytes);
      let oi: ObjectInfo;
      try {
        oi = await os.put(
          {
            name,
            options: { max_chunk_size: chunkBytes },
            metadata: { [META_CONTENT_TYPE]: p.contentType, [META_UPLOADED_BY]: p.uploadedBy, [META_UPLOADED_AT]: uploadedAt },
          },
          metered.stream,
          { previousRevision: previous?.revision ?? 0, timeout },
        );
      } catch (err) {
        // the client has purged this put's chunks (ObjectStoreImpl._put) and committed nothing
        if (metered.exceeded) throw tooLarge(p.maxBytes);
        if (metered.failure !== undefined) throw metered.failure.error;
        const e = toAppError(err, `binary put ${name}`);
        if (isAppError(e, 'CONFLICT')) throw new AppError('CONFLICT', `binary ${name} was replaced while this upload ran; upload again`, { cause: err });
        throw e;
      }
      const info = toInfo(oi);
      if (info.sha256 !== metered.sha256() || info.size !== metered.bytes) {
        throw new AppError('INTERNAL', `binary ${name}: the object store recorded another size or digest than was sent`);
      }
      return info;
    },
    async info(name) {
      const oi = await rawInfo(name);
      return oi === null || oi.deleted ? undefined : toInfo(oi);
    },
    /**
     * The names from the stream's meta subjects, then each one's current meta. Not `os.list()`: that
     * stops after the message count it read at its start, so a put or delete racing it made it wait
     * for a heartbeat (30 s) and answer an empty list (~4% of racing calls; the Spark fuzz, seed 12).
     */
    async list() {
      const { jsm } = await bucketStore();
      const prefix = `$O.${bucket}.M.`;
      let subjects: string[];
      try {
        const si = await jsm.streams.info(streamOf(bucket), { subjects_filter: `${prefix}>` });
        subjects = Object.keys(si.state.subjects ?? {});
      } catch (err) {
        throw toAppError(err, 'binary list');
      }
      const out: BinaryInfo[] = [];
      for (const subject of subjects) {
        let name: string;
        try {
          const decoded = Base64UrlPaddedCodec.decode(subject.slice(prefix.length));
          name = typeof decoded === 'string' ? decoded : Buffer.from(decoded).toString('utf8');
        } catch {
          continue; // not one of ours
        }
        if (!BINARY_NAME_RE.test(name)) continue;
        const oi = await rawInfo(name);
        if (oi !== null && !oi.deleted) out.push(toInfo(oi));
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async open(name): Promise<BinaryReader> {
      const oi = await rawInfo(name);
      if (oi === null || oi.deleted) throw binaryNotFound(name);
      return { info: toInfo(oi), data: readVersion(name, oi) };
    },
    ...readsThroughOpen((name) => store.open(name)),
    async delete(name) {
      const subject = metaSubject(bucket, name);
      const { jsm } = await bucketStore();
      return retry(
        async () => {
          const oi = await rawInfo(name);
          if (oi === null || oi.deleted) return false;
          // the fields ObjectStoreImpl.delete writes, with our expected sequence added
          const tombstone = { name: oi.name, description: oi.description, options: oi.options, metadata: oi.metadata, bucket, nuid: oi.nuid, size: 0, chunks: 0, digest: '', deleted: true, mtime: oi.mtime };
          const h = headers();
          h.set('Nats-Rollup', 'sub');
          h.set('Nats-Expected-Last-Subject-Sequence', String(oi.revision));
          try {
            await js.publish(subject, JSON.stringify(tombstone), { headers: h, timeout });
            await jsm.streams.purge(streamOf(bucket), { filter: chunkSubject(bucket, oi.nuid) });
          } catch (err) {
            throw toAppError(err, `binary delete ${name}`);
          }
          return true;
        },
        { retryOn: ['CONFLICT'], attempts: DELETE_ATTEMPTS },
      );
    },
  };
  return store;
}
