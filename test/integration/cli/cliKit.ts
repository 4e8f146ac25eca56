/**
 * Running the real `jetjobs` binary (bin/jetjobs.mjs) as a child process, from another directory,
 * with its own configuration directory (XDG_CONFIG_HOME) so that no test reads a developer's
 * contexts, nor another test's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../helpers/wait.ts';

export const BIN = fileURLToPath(new URL('../../../bin/jetjobs.mjs', import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Environment on top of the test process's (JETJOBS_* and XDG_CONFIG_HOME of the process are dropped first). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
  timeoutMs?: number;
}

/** Every configuration home of this test process is under one directory, removed when the process exits (a failed test too). */
let homes: string | undefined;

/** A fresh configuration home for one suite or test. */
export function configHome(): Promise<string> {
  if (homes === undefined) {
    const root = mkdtempSync(join(tmpdir(), 'jetjobs-cli-config-'));
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
    homes = root;
  }
  return mkdtemp(join(homes, 'home-'));
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('JETJOBS_') && k !== 'XDG_CONFIG_HOME') env[k] = v;
  return { ...env, ...extra };
}

/** A started binary: its output so far, and its end. */
export interface Started {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  done: Promise<Run>;
}

export function start(args: readonly string[], o: RunOptions = {}): Started {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: '/', env: childEnv(o.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  if (o.input !== undefined) child.stdin!.end(o.input);
  else child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr });
  }));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
  };
}

export function jetjobs(args: readonly string[], o: RunOptions = {}): Promise<Run> {
  return start(args, o).done;
}

/** Waits until the started binary has written something matching `re` to stdout. */
export function waitOutput(s: Started, re: RegExp, what: string, timeoutMs = 30_000): Promise<unknown> {
  return waitFor(() => re.test(s.stdout), { what, timeoutMs, intervalMs: 20 });
}
