/** Streams an opened binary into a file, atomically: a temporary file beside it, renamed when whole. */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BinaryInfo, BinaryReader } from './binaryStore.ts';

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
