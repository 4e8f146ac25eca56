/**
 * Reading a password: from a terminal without echo, or the first line of stdin
 * (`--password-stdin`, for scripts). Never from argv, where every local user may read it.
 */
import { CliError, NATIVE_EXIT } from '../exitCodes.ts';
import { readAll, type NativeIo } from './nativeIo.ts';

/** The first line of stdin (its line end removed). */
export async function passwordFromStdin(io: NativeIo): Promise<string> {
  if (io.stdin === undefined) throw new CliError(NATIVE_EXIT.INVALID_INPUT, '--password-stdin: no stdin');
  const text = await readAll(io.stdin);
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new CliError(NATIVE_EXIT.INVALID_INPUT, '--password-stdin: stdin was empty');
  return line;
}

/**
 * Asks for a password on the terminal (prompt on stderr, nothing echoed). Ctrl-C or Ctrl-D ends
 * with invalid input; without a terminal it says to use `--password-stdin`.
 */
export function promptPassword(io: NativeIo, prompt: string): Promise<string> {
  const stdin = io.stdin;
  if (stdin === undefined || stdin.isTTY !== true || stdin.setRawMode === undefined) {
    return Promise.reject(new CliError(NATIVE_EXIT.INVALID_INPUT, 'no terminal to ask for the password: pipe it with --password-stdin'));
  }
  io.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err: CliError | null) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      if (err === null) resolve(typed);
      else reject(err);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004') return done(new CliError(NATIVE_EXIT.INVALID_INPUT, 'no password given'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The password as the flags say: `--password-stdin`, else the terminal. */
export function readPassword(io: NativeIo, fromStdin: boolean, prompt = 'Password: '): Promise<string> {
  return fromStdin ? passwordFromStdin(io) : promptPassword(io, prompt);
}
