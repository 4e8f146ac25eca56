/**
 * What the native commands read and write, passed in by the launcher (bin/jetjobs.mjs) so that
 * tests can run them in-process: the streams, stdin, and Ctrl-C.
 */
import type { CliIo } from '../jobActions.ts';

export interface NativeIo extends CliIo {
  /** Where `--password-stdin`, `-f -` and the password prompt read. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  /** The prompt's echo goes here (stderr, a terminal). */
  stderr: CliIo['stderr'] & { isTTY?: boolean };
  /**
   * Calls `handler` on Ctrl-C (SIGINT) instead of ending the process, until the returned function is
   * called. Without it (tests) nothing interrupts.
   */
  onInterrupt?(handler: () => void): () => void;
}

/** Reads all of stdin as text. */
export async function readAll(stdin: NonNullable<NativeIo['stdin']>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}
