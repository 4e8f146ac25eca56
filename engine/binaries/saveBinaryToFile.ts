/** Streams an opened binary into a file, atomically: a temporary file beside it, renamed when whole. */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BinaryInfo, BinaryReader, BinaryStore } from './binaryStore.ts';

/** Writes `reader.data` to `path` (replacing a file there); on any failure `path` is untouched. */
export async function saveBinaryToFile(reader: BinaryReader, path: string): Promise<BinaryInfo> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.part`);
  try {
    await pipeline(Readable.from(reader.data, { objectMode: false }), createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return reader.info;
}

/** `get` and `getToFile` of a store, both through its `open` (the version is pinned before any byte). */
export function readsThroughOpen(open: (name: string) => Promise<BinaryReader>): Pick<BinaryStore, 'get' | 'getToFile'> {
  return {
    get(name) {
      return {
        async *[Symbol.asyncIterator]() {
          yield* (await open(name)).data;
        },
      };
    },
    async getToFile(name, path) {
      return saveBinaryToFile(await open(name), path);
    },
  };
}
