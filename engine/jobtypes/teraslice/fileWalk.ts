/**
 * The files a file_reader reads, in a fixed order that can be resumed from any file: in each
 * directory its files (sorted by name, in code-unit order), then its subdirectories, one after
 * another. Names starting with "." are skipped, as file-assets does. The walk resumes after a given
 * file by descending along that file's path again, so a plan cursor needs only that path, however
 * large the tree (Teraslice walks breadth-first and keeps the queue in memory; the order of slices
 * does not change what is read).
 *
 * Every directory is opened through rootedDir.ts: checked to lie inside the files root, symlinked
 * directories never entered, symlinked files followed only to a file inside the root.
 */
import { readdir } from 'node:fs/promises';
import { AppError, isAppError } from '../../errors.ts';
import { fileSize } from '../listFiles.ts';
import { openDir, statFollowing, type RootedDir } from '../rootedDir.ts';

export interface WalkFile {
  /** Relative to the files root. */
  rel: string;
  size: number;
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

/**
 * The regular files at or below `startRel` (a file or a directory) in walk order, beginning after
 * the file `after` (undefined: from the start).
 * @throws AppError INVALID_SPEC when `startRel` does not exist, PATH_OUTSIDE_ROOT when it leads out.
 */
export async function* walkFiles(root: RootedDir, startRel: string, after: string | undefined, signal: AbortSignal): AsyncGenerator<WalkFile> {
  const shown = startRel === '' ? '.' : startRel;
  let start: RootedDir;
  try {
    start = await openDir(root, startRel);
  } catch (e) {
    if (isAppError(e)) throw e;
    if (errCode(e) === 'ENOENT') throw new AppError('INVALID_SPEC', `file_reader path "${shown}" does not exist`);
    if (errCode(e) !== 'ENOTDIR') throw e;
    const st = await statFollowing(root, startRel);
    if (!st.isFile()) throw new AppError('INVALID_SPEC', `file_reader path "${shown}" is neither a file nor a directory`);
    if (after === undefined) yield { rel: startRel, size: st.size };
    return;
  }
  try {
    const prefix = startRel === '' ? '' : `${startRel}/`;
    if (after !== undefined && !after.startsWith(prefix)) throw new AppError('INVALID_SPEC', `file_reader cursor "${after}" is not below "${shown}"`);
    yield* scan(start, startRel, after === undefined ? undefined : after.slice(prefix.length).split('/'), signal);
  } finally {
    await start.close();
  }
}

async function* scan(dir: RootedDir, dirRel: string, after: string[] | undefined, signal: AbortSignal): AsyncGenerator<WalkFile> {
  signal.throwIfAborted();
  const { files, dirs } = await entries(dir);
  const head = after?.[0];
  if (after === undefined || after.length === 1) {
    for (const name of files) {
      if (head !== undefined && name <= head) continue;
      const size = await fileSize(dir, name);
      if (size !== undefined) yield { rel: join(dirRel, name), size };
    }
  } else if (dirs.includes(head!)) {
    yield* sub(dir, dirRel, head!, after.slice(1), signal);
  }
  for (const name of dirs) {
    if (after !== undefined && after.length > 1 && name <= head!) continue;
    yield* sub(dir, dirRel, name, undefined, signal);
  }
}

async function* sub(dir: RootedDir, dirRel: string, name: string, after: string[] | undefined, signal: AbortSignal): AsyncGenerator<WalkFile> {
  let child: RootedDir;
  try {
    child = await dir.openSubdir(name);
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return; // gone or swapped meanwhile
    throw e;
  }
  try {
    yield* scan(child, join(dirRel, name), after, signal);
  } finally {
    await child.close();
  }
}

/** The visible file and directory names of `dir`, each sorted (symlinks: to files only, checked). */
async function entries(dir: RootedDir): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const ent of await readdir(dir.self, { withFileTypes: true })) {
    if (ent.name.startsWith('.')) continue;
    if (ent.isDirectory()) dirs.push(ent.name);
    else if (ent.isFile() || ent.isSymbolicLink()) files.push(ent.name);
  }
  return { files: files.sort(), dirs: dirs.sort() };
}
