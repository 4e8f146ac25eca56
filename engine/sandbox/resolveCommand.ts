/** Finds the executable a sandboxed command names, the way the sandbox's own PATH would. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { SANDBOX_PATH } from './sandboxEnv.ts';

/**
 * The absolute path of `command`: a name with a `/` is taken relative to `workDir`; a bare name is
 * looked up in {@link SANDBOX_PATH} (never the worker's PATH). Resolving before spawning turns a
 * missing or non-executable binary into a clear message instead of a wrapper's exit code 127.
 * @returns the path, or `{ error }` saying what is wrong.
 */
export async function resolveCommand(command: string, workDir: string): Promise<string | { error: string }> {
  if (command === '' || command.includes('\0')) return { error: `invalid command ${JSON.stringify(command)}` };
  if (command.includes('/')) {
    const file = path.resolve(workDir, command);
    const problem = await notExecutable(file);
    return problem === undefined ? file : { error: `cannot run ${command}: ${problem}` };
  }
  for (const dir of SANDBOX_PATH.split(':')) {
    const file = path.join(dir, command);
    if ((await notExecutable(file)) === undefined) return file;
  }
  return { error: `command not found: ${command} (looked in ${SANDBOX_PATH})` };
}

async function notExecutable(file: string): Promise<string | undefined> {
  try {
    if (!(await stat(file)).isFile()) return 'not a regular file';
    await access(file, constants.X_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not executable' : String(code ?? e);
  }
}
