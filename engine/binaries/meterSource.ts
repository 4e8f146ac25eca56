/**
 * Reads an upload's source lazily, a chunk per request, counting and hashing the bytes and refusing
 * past the limit: the one place where an upload's size limit is enforced.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { BinarySource } from './binaryStore.ts';

/** A source being read through {@link meterSource}. */
export interface MeteredSource {
  /** Pull-based (nothing is read ahead of the consumer); errors with BODY_TOO_LARGE past the limit. */
  readonly stream: ReadableStream<Uint8Array>;
  /** Bytes read so far. */
  readonly bytes: number;
  /** True once the source went past the limit. */
  readonly exceeded: boolean;
  /** The source's own failure, if it failed (e.g. the client went away). */
  readonly failure: { error: unknown } | undefined;
  /** Hex sha256 of everything read (call once, after the end). */
  sha256(): string;
}

function iterate(source: BinarySource): AsyncIterator<Uint8Array> {
  if ('getReader' in source) {
    const reader = source.getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
      return: async () => {
        await reader.cancel().catch(() => undefined);
        return { done: true, value: undefined };
      },
    };
  }
  return source[Symbol.asyncIterator]();
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError('BODY_TOO_LARGE', `the binary is larger than ${maxBytes} bytes`);
}

/** Wraps `source` so that reading it counts, hashes and enforces `maxBytes`. */
export function meterSource(source: BinarySource, maxBytes: number): MeteredSource {
  const it = iterate(source);
  const hash = createHash('sha256');
  let bytes = 0;
  let exceeded = false;
  let failure: { error: unknown } | undefined;
  const stop = () => void Promise.resolve(it.return?.()).catch(() => undefined);
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await it.next();
        } catch (error) {
          failure = { error };
          controller.error(error);
          return;
        }
        if (r.done) {
          controller.close();
          return;
        }
        const chunk = r.value;
        if (!(chunk instanceof Uint8Array)) {
          failure = { error: new AppError('VALIDATION_FAILED', 'a binary source must yield Uint8Array chunks') };
          controller.error(failure.error);
          stop();
          return;
        }
        bytes += chunk.byteLength;
        if (bytes > maxBytes) {
          exceeded = true;
          controller.error(tooLarge(maxBytes));
          stop();
          return;
        }
        hash.update(chunk);
        // a copy: a source may reuse its buffer once we ask for the next chunk
        controller.enqueue(chunk.slice());
      },
      cancel: stop,
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    get bytes() {
      return bytes;
    },
    get exceeded() {
      return exceeded;
    },
    get failure() {
      return failure;
    },
    sha256: () => hash.digest('hex'),
  };
}
