/**
 * The runtimes a `script` job runs on, the binary content types each accepts, and which of them
 * this process has (a runtime that is missing is refused at submission when the spec names it, and
 * fails the task with RUNTIME_UNAVAILABLE, not retried, when the worker finds it missing).
 */
import { constants } from 'node:fs';
import { accessSync, statSync } from 'node:fs';
import path from 'node:path';
import { SANDBOX_PATH } from '../../sandbox/sandboxEnv.ts';

export const RUNTIMES = ['node', 'python', 'java'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Binary content types (Spark Jobserver's four, plus JavaScript) → runtime and file name in the work dir. */
export const BINARY_TYPES: Readonly<Record<string, { runtime: Runtime; file: string; sparkType: string }>> = Object.freeze({
  'application/java-archive': { runtime: 'java', file: 'app.jar', sparkType: 'Jar' },
  'application/python-egg': { runtime: 'python', file: 'app.egg', sparkType: 'Egg' },
  'application/python-wheel': { runtime: 'python', file: 'app.whl', sparkType: 'Wheel' },
  'application/python-archive': { runtime: 'python', file: 'app.zip', sparkType: 'Egg' },
  'application/javascript': { runtime: 'node', file: 'app.mjs', sparkType: 'JavaScript' },
});

/** The content type without parameters, lower case (`application/java-archive; charset=x` → `application/java-archive`). */
export function baseContentType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

export interface RuntimeCommands {
  /** The executable of each runtime, or why there is none. */
  node: { path: string } | { missing: string };
  python: { path: string } | { missing: string };
  java: { path: string } | { missing: string };
}

/**
 * Finds the runtimes: Node is the one running this process; Python and Java from the
 * `scriptPython` / `scriptJava` settings (a bare name looked up in the sandbox's PATH).
 */
export function findRuntimes(settings: { scriptPython: string; scriptJava: string }, nodePath = process.execPath): RuntimeCommands {
  return {
    node: { path: nodePath },
    python: find(settings.scriptPython, 'python', 'scriptPython (JETJOBS_SCRIPT_PYTHON)'),
    java: find(settings.scriptJava, 'a JVM', 'scriptJava (JETJOBS_SCRIPT_JAVA)'),
  };
}

function find(command: string, what: string, setting: string): { path: string } | { missing: string } {
  if (command === 'none') return { missing: `${what} is not configured on this service (set ${setting})` };
  const candidates = command.includes('/') ? [command] : SANDBOX_PATH.split(':').map((d) => path.join(d, command));
  for (const file of candidates) {
    try {
      if (statSync(file).isFile()) {
        accessSync(file, constants.X_OK);
        return { path: file };
      }
    } catch {
      // next candidate
    }
  }
  return { missing: `${what} was not found: ${command} (${setting}; looked in ${command.includes('/') ? command : SANDBOX_PATH})` };
}
