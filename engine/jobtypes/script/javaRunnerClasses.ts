/**
 * The Java runner compiled once per process (`javac` beside the configured `java`), so a Java job
 * starts in ~0.1 s instead of the ~0.5 s the single-file source launcher spends compiling the runner
 * on every run. Without a `javac` (a JRE only) or when the compile fails, jobs use the source
 * launcher as before. The classes go to `<root>/java-runner-<sha of the source>/` (0755, readable
 * by the sandbox uids); a half-written dir is never used (compiled beside, then renamed).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, constants, mkdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../log.ts';
import { JAVA_RUNNER_PATH } from './runners/index.ts';

const run = promisify(execFile);
const COMPILE_TIMEOUT_MS = 60_000;

/** A function that resolves to the compiled runner's dir, or undefined (use the source launcher); compiles at most once. */
export function javaRunnerClasses(root: string, javaPath: () => string | undefined, logger: Logger): () => Promise<string | undefined> {
  let once: Promise<string | undefined> | undefined;
  return () => (once ??= compile(root, javaPath(), logger));
}

async function compile(root: string, java: string | undefined, logger: Logger): Promise<string | undefined> {
  if (java === undefined) return undefined;
  try {
    const javac = path.join(path.dirname(await realpath(java)), 'javac');
    await access(javac, constants.X_OK);
    const source = await readFile(JAVA_RUNNER_PATH);
    const dir = path.join(root, `java-runner-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
    if (await exists(path.join(dir, 'JetjobsRunner.class'))) return dir;
    await mkdir(root, { recursive: true, mode: 0o711 });
    const tmp = `${dir}.${randomBytes(4).toString('hex')}.tmp`;
    await mkdir(tmp, { mode: 0o755 });
    try {
      await run(javac, ['--release', '11', '-encoding', 'UTF-8', '-nowarn', '-d', tmp, JAVA_RUNNER_PATH], { timeout: COMPILE_TIMEOUT_MS, env: { PATH: '/usr/bin:/bin' } });
      await rename(tmp, dir).catch(async (err: unknown) => {
        // another process of this host compiled it first: theirs is as good
        if (!(await exists(path.join(dir, 'JetjobsRunner.class')))) throw err;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    logger.info({ dir }, 'compiled the Java runner of script jobs');
    return dir;
  } catch (err) {
    logger.info({ err }, 'the Java runner is not precompiled (no javac beside java?): Java script jobs use the source launcher');
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
