/**
 * The runners of the `script` job type: small programs, one per runtime, that the worker starts
 * in the task's work dir to load the uploaded binary and call the job in it (README.md: the
 * protocol, the calling conventions, the measurements behind the Java flags).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../../errors.ts';
import { nodeArgsForMemory } from '../../../sandbox/index.ts';

const MIB = 1024 * 1024;
const HERE = path.dirname(fileURLToPath(import.meta.url));

export type ScriptRuntime = 'node' | 'python' | 'java';

/** `node node-runner.mjs <app.mjs>` */
export const NODE_RUNNER_PATH = path.join(HERE, 'node-runner.mjs');
/** `python3 python_runner.py <app.whl|.egg|.zip>`; the `sparkjobserver` shim is beside it, in `python/`. */
export const PYTHON_RUNNER_PATH = path.join(HERE, 'python_runner.py');
/** `java -cp <app.jar> JetjobsRunner.java <app.jar>` (the single-file source launcher). */
export const JAVA_RUNNER_PATH = path.join(HERE, 'JetjobsRunner.java');
/** The runner's class name, for a precompiled runner (`javac -d <dir> JetjobsRunner.java`). */
export const JAVA_RUNNER_CLASS = 'JetjobsRunner';

/**
 * The JVM's own address space under RLIMIT_AS with {@link JAVA_FLAGS}, outside the heap: code
 * cache, class space, metaspace, CDS archive, thread stacks, two malloc arenas. Measured 400–407
 * MiB (JDK 17.0.15, Debian 12, x86_64, 2 CPUs) whatever the -Xmx; 48 MiB more for machines
 * with more CPUs (more threads) and for the job's own threads.
 */
const JAVA_RESERVED_BYTES = 448 * MIB;
/** The share of what is left that the heap may take (the rest: the job's threads, direct buffers, JNI). */
const JAVA_HEAP_SHARE = 0.75;
/** The JVM starts from ~410 MiB of address space; 512 MiB leaves it a 48 MiB heap. */
export const JAVA_MIN_MEMORY_BYTES = 512 * MIB;

/**
 * Small fixed reservations (each counts against RLIMIT_AS even untouched), one C1 compiler thread
 * (so the footprint does not grow with the CPU count; no C2: short jobs start faster, long
 * compute-bound ones run slower), no hsperfdata file in the shared /tmp, temp files in the work dir.
 */
export const JAVA_FLAGS: readonly string[] = Object.freeze([
  '-Xss512k',
  '-XX:ReservedCodeCacheSize=32m',
  '-XX:CompressedClassSpaceSize=64m',
  '-XX:MaxMetaspaceSize=128m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:CICompilerCount=1',
  '-Xshare:auto',
  '-XX:-UsePerfData',
  '-Djava.io.tmpdir=tmp',
]);

/**
 * glibc gives each new thread a malloc arena that reserves 64 MiB (128 MiB while aligning it): under
 * RLIMIT_AS the JVM then failed its own small mallocs at 800 MiB where it ran at 700 (19 runs of
 * 20). Two arenas make the footprint fixed; the variable has to be in the JVM's environment, so the
 * command is `env MALLOC_ARENA_MAX=2 java …`.
 */
const JAVA_ENV = 'MALLOC_ARENA_MAX=2';

export interface RunnerCommandOptions {
  /** The uploaded binary in the work dir (absolute, or relative to the work dir). */
  binaryPath: string;
  /** The sandbox's RLIMIT_AS for the run; the heap flags are derived from it. */
  memoryLimitBytes: number;
  nodePath: string;
  pythonPath: string;
  javaPath: string;
  /**
   * A directory holding the compiled runner (`javac -d <dir> JetjobsRunner.java`): Java then starts
   * in ~0.1 s instead of ~0.8 s (the source launcher compiles the runner on every run).
   * @defaultValue none: the single-file source launcher, which needs no JDK tools beyond `java`
   */
  javaClassDir?: string;
}

/**
 * The argv that runs the job in `opts.binaryPath` with the runner of `runtime`; pass it to
 * `runSandboxed` with the same `memoryLimitBytes` and the work dir as cwd.
 * @throws AppError INVALID_SPEC when the memory limit is below what the runtime needs to start.
 */
export function runnerCommand(runtime: ScriptRuntime, opts: RunnerCommandOptions): { command: string; args: string[] } {
  switch (runtime) {
    case 'node':
      return { command: opts.nodePath, args: [...nodeArgsForMemory(opts.memoryLimitBytes), NODE_RUNNER_PATH, opts.binaryPath] };
    case 'python':
      // -I: no user site-packages, no PYTHON* variables, not the runner's dir on sys.path;
      // -B: no __pycache__ written; -u: output reaches the task's logs as it is printed.
      return { command: opts.pythonPath, args: ['-I', '-B', '-u', PYTHON_RUNNER_PATH, opts.binaryPath] };
    case 'java': {
      const classPath = opts.javaClassDir === undefined ? opts.binaryPath : `${opts.binaryPath}${path.delimiter}${opts.javaClassDir}`;
      const runner = opts.javaClassDir === undefined ? JAVA_RUNNER_PATH : JAVA_RUNNER_CLASS;
      return {
        command: 'env',
        args: [JAVA_ENV, opts.javaPath, ...javaArgsForMemory(opts.memoryLimitBytes), '-cp', classPath, runner, opts.binaryPath],
      };
    }
  }
}

/**
 * {@link JAVA_FLAGS} plus `-Xmx` at 75% of what the limit leaves after the JVM's own
 * reservations, so a job that fills its heap gets an OutOfMemoryError (reported as its error)
 * rather than a failed native allocation.
 * @throws AppError INVALID_SPEC below {@link JAVA_MIN_MEMORY_BYTES}.
 */
export function javaArgsForMemory(memoryLimitBytes: number): string[] {
  if (!Number.isSafeInteger(memoryLimitBytes) || memoryLimitBytes < JAVA_MIN_MEMORY_BYTES) {
    throw new AppError(
      'INVALID_SPEC',
      `script: a memory limit of ${memoryLimitBytes} bytes is too small for Java: it needs at least ${JAVA_MIN_MEMORY_BYTES / MIB} MiB of address space`,
    );
  }
  const heapMib = Math.floor((JAVA_HEAP_SHARE * (memoryLimitBytes - JAVA_RESERVED_BYTES)) / MIB);
  return [...JAVA_FLAGS, `-Xmx${heapMib}m`];
}
