/**
 * file_exporter: writes the records of one slice to `<path>/<jobId>.<taskId>.<ext>` under the files
 * root (ext `ldjson`, `json` or `txt` for raw, plus `.gz`).
 *
 * Always one file per slice, whatever `file_per_slice` says (file-assets appends to one file per
 * worker unless it is set): a retried or recovered slice then rewrites its own file instead of
 * appending its records a second time. The file is written to a temp name in the same directory
 * and renamed into place, so it appears whole, and a retry replaces it. A slice without records
 * writes nothing. Directories are created and the file published by name inside checked
 * directories (rootedDir.ts), so a swapped symlink cannot redirect the write.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { openDir, type RootedDir } from '../rootedDir.ts';
import type { FileExporterConfig } from './opTypes.ts';

const gzipAsync = promisify(gzip);
/** Creates a new file, failing on anything already there (a symlink included). */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Writes one slice's file, a chunk of records at a time. */
export interface SliceWriter {
  write(records: readonly Record<string, unknown>[]): Promise<void>;
  /** Publishes the file (nothing if no record was written); answers the bytes written. */
  finish(): Promise<number>;
  /** Drops the temp file (after a failure). */
  abort(): Promise<void>;
}

const EXTENSIONS = { ldjson: 'ldjson', json: 'json', raw: 'txt' } as const;

/** The file name of a slice's output: ids are made filename-safe (they are uuids and `s…`/`r…`). */
export function exportFileName(op: FileExporterConfig, jobId: string, taskId: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128);
  return `${safe(jobId)}.${safe(taskId)}.${EXTENSIONS[op.format]}${op.compression === 'gzip' ? '.gz' : ''}`;
}

function encode(op: FileExporterConfig, records: readonly Record<string, unknown>[], first: boolean): string {
  const d = op.line_delimiter;
  if (op.format === 'json') return (first ? '[' : ',') + records.map((r) => JSON.stringify(r)).join(',');
  if (op.format === 'raw') return records.map((r) => (typeof r.data === 'string' ? r.data : JSON.stringify(r)) + d).join('');
  return records.map((r) => JSON.stringify(r) + d).join('');
}

/** Opens the slice's writer; the directory `op.path` is created if missing. */
export async function openSliceWriter(op: FileExporterConfig, root: RootedDir, jobId: string, taskId: string): Promise<SliceWriter> {
  const name = exportFileName(op, jobId, taskId);
  const tmp = `.${name}.${randomBytes(6).toString('hex')}.tmp`;
  let dir: RootedDir | undefined;
  let fh: FileHandle | undefined;
  let bytes = 0;
  let records = 0;
  const close = async (): Promise<void> => {
    await fh?.close();
    fh = undefined;
    await dir?.close();
    dir = undefined;
  };
  const append = async (text: string): Promise<void> => {
    const data = op.compression === 'gzip' ? await gzipAsync(text) : Buffer.from(text); // gzip members concatenate into one valid file
    for (let w = 0; w < data.length; ) w += (await fh!.write(data, w, data.length - w)).bytesWritten;
    bytes += data.length;
  };
  return {
    async write(chunk) {
      if (chunk.length === 0) return;
      if (fh === undefined) {
        dir = await openDir(root, op.path, { create: true });
        fh = await open(dir.at(tmp), CREATE_NEW, 0o644);
      }
      await append(encode(op, chunk, records === 0));
      records += chunk.length;
    },
    async finish() {
      if (fh === undefined) return 0;
      try {
        if (op.format === 'json') await append(']' + op.line_delimiter);
        await fh.close();
        fh = undefined;
        await dir!.recheck(); // the directory may have been moved out since it was opened
        await rename(dir!.at(tmp), dir!.at(name));
        return bytes;
      } catch (e) {
        await unlink(dir!.at(tmp)).catch(() => undefined);
        throw e;
      } finally {
        await close();
      }
    },
    async abort() {
      if (dir !== undefined) await unlink(dir.at(tmp)).catch(() => undefined);
      await close();
    },
  };
}
