/**
 * Uploaded binaries (Spark Jobserver's `/binaries`: jars, python wheels/eggs, JavaScript modules),
 * stored by name and streamed in and out: never held whole in memory. The production
 * implementation is the JetStream object store bucket `binaries` (engine/nats/objBinaryStore.ts),
 * replicated like the streams; `createMemoryBinaryStore()` serves unit tests and simulation with
 * the same semantics (test/contract/binaryStore.contract.ts holds both to them).
 *
 * Guarantees of every implementation:
 * - A put is all or nothing: a refused (over `maxBytes`), failed or aborted upload leaves nothing
 *   behind, and the binary it would have replaced stays as it was.
 * - A replace is a compare-and-set on the version the put saw when it started: a reader sees the
 *   old version or the new one, never a mix. Of two puts of one name racing, the first to finish
 *   wins; the other fails with `CONFLICT` (retryable) and leaves nothing.
 * - A read is pinned to the version it opened. If that version is replaced or deleted before the
 *   read has all its bytes, the read fails with `CONFLICT` (read again for the new version); bytes
 *   are checked against the recorded size and sha256 before the read ends.
 */
import { AppError } from '../errors.ts';

/** The default upload limit (issue 13): 256 MiB. */
export const DEFAULT_MAX_BINARY_BYTES = 256 * 1024 * 1024;

/** Spark Jobserver app names: letters, digits, `._-`, 1–128, starting with a letter or digit. */
export const BINARY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What is known about a stored binary. */
export interface BinaryInfo {
  name: string;
  /** As uploaded, e.g. `application/java-archive`. */
  contentType: string;
  /** Bytes. */
  size: number;
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
  /** ISO 8601: when the upload started (the injected clock). */
  uploadedAt: string;
  /** The user who uploaded it. */
  uploadedBy: string;
}

/** Bytes to store: read once, a chunk at a time, only as fast as the store takes them. */
export type BinarySource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** Options of {@link BinaryStore.put}. */
export interface PutBinaryOptions {
  /** At most 255 printable ASCII characters. */
  contentType: string;
  source: BinarySource;
  /** Past this many bytes the upload is refused (`BODY_TOO_LARGE`) and nothing is kept. */
  maxBytes: number;
  /** At most 256 characters. */
  uploadedBy: string;
}

/** A binary opened for reading: `data` streams exactly the version `info` describes. */
export interface BinaryReader {
  info: BinaryInfo;
  /** Iterate once. Fails with `CONFLICT` if the version is replaced or deleted meanwhile. */
  data: AsyncIterable<Uint8Array>;
}

export interface BinaryStore {
  /** Stores (or replaces) `name`, streaming `source`; see the guarantees above. */
  put(name: string, opts: PutBinaryOptions): Promise<BinaryInfo>;
  /** The binary's info, or undefined when there is none of that name. */
  info(name: string): Promise<BinaryInfo | undefined>;
  /** Every binary, by name. */
  list(): Promise<BinaryInfo[]>;
  /** Pins the current version; `NOT_FOUND` when there is none (before any byte is read). */
  open(name: string): Promise<BinaryReader>;
  /** The bytes of the current version, streamed (`open(name)` on the first read). */
  get(name: string): AsyncIterable<Uint8Array>;
  /**
   * Streams the current version into the file `path` (written beside it under a temporary name,
   * checked, then renamed: `path` never holds a partial binary). For workers.
   */
  getToFile(name: string, path: string): Promise<BinaryInfo>;
  /** Removes the binary; false when there was none. */
  delete(name: string): Promise<boolean>;
}

/** Returns `name` if it is a valid binary name; AppError('VALIDATION_FAILED') otherwise. */
export function checkBinaryName(name: string): string {
  if (typeof name !== 'string' || !BINARY_NAME_RE.test(name)) {
    throw new AppError('VALIDATION_FAILED', `not a valid binary name (letters, digits, '._-', 1-128, starting with a letter or digit): ${JSON.stringify(String(name).slice(0, 80))}`);
  }
  return name;
}

const CONTENT_TYPE_RE = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;
const MAX_UPLOADED_BY = 256;

/** Validates the options of a put (the name separately, {@link checkBinaryName}). */
export function checkPutOptions(opts: PutBinaryOptions): void {
  if (typeof opts.contentType !== 'string' || !CONTENT_TYPE_RE.test(opts.contentType)) {
    throw new AppError('VALIDATION_FAILED', 'contentType must be 1-255 printable ASCII characters');
  }
  if (typeof opts.uploadedBy !== 'string' || opts.uploadedBy.length > MAX_UPLOADED_BY) {
    throw new AppError('VALIDATION_FAILED', `uploadedBy must be a string of at most ${MAX_UPLOADED_BY} characters`);
  }
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 0) {
    throw new AppError('VALIDATION_FAILED', 'maxBytes must be a non-negative integer');
  }
}

/** The error of a read whose version was replaced or deleted before it ended. */
export function replacedWhileReading(name: string): AppError {
  return new AppError('CONFLICT', `binary ${name} was replaced or deleted while being read; read it again`);
}

export function binaryNotFound(name: string): AppError {
  return new AppError('NOT_FOUND', `no binary named ${name}`);
}
