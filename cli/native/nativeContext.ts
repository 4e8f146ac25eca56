/**
 * What every native command's action gets: the connection (flags, environment, contexts:
 * connection.ts), where to write, the clock, and how to set the exit code. Also the flags every
 * command that talks to the service takes.
 */
import { Option, type Command } from 'commander';
import { NATIVE_STATUS_EXITS } from '../exitCodes.ts';
import { createHttp, type Http } from '../http.ts';
import { resolveConnection, type CliEnv, type ConnectionFlags } from './connection.ts';
import type { NativeIo } from './nativeIo.ts';
import { outputFormat, type OutputFormat } from './output.ts';

/** Per HTTP request (a stream: until it starts). */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface NativeContext {
  env: CliEnv;
  io: NativeIo;
  now(): number;
  setExit(code: number): void;
  /** The native API for a command's connection flags, with the native exit codes. */
  connect(flags: ConnectionFlags): Promise<Http>;
}

export function createNativeContext(env: CliEnv, io: NativeIo, setExit: (code: number) => void, now: () => number = Date.now): NativeContext {
  return {
    env, io, now, setExit,
    async connect(flags) {
      const c = await resolveConnection(flags, env);
      return createHttp({
        url: c.url, token: c.token, timeoutMs: DEFAULT_TIMEOUT_MS, exits: NATIVE_STATUS_EXITS,
        unauthenticatedHint: c.token === undefined ? '(log in: jetjobs login, or set JETJOBS_TOKEN)' : '(the token expired or was revoked: jetjobs login)',
      });
    },
  };
}

/** `--url`, `--token`, `--context` on a command that talks to the service. */
export function withConnection(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'service root (env JETJOBS_URL; default: the context\'s, else http://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token (env JETJOBS_TOKEN; default: the context\'s, from jetjobs login)')
    .option('--context <name>', 'the context to use (env JETJOBS_CONTEXT; default: the current one)');
}

/** `-o, --output table|json|yaml|ndjson`. */
export function withOutput(cmd: Command): Command {
  return cmd.addOption(new Option('-o, --output <format>', 'table, json, yaml or ndjson').argParser(outputFormat).default('table'));
}

export interface OutputFlags {
  output: OutputFormat;
}
