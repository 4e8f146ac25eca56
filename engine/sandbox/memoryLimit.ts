/**
 * The memory limit of a sandboxed process: an address-space limit (RLIMIT_AS) set between fork and
 * exec, so the process and everything it starts are held to it; a core dump limit of 0 rides
 * along (a process killed at its limit must not write gigabytes into its work dir).
 *
 * With util-linux `prlimit` (Debian: always there) the command runs as
 * `prlimit --as=<bytes> --core=0 -- <command> <args…>`, else as
 * `sh -c 'ulimit -v <KiB>; ulimit -c 0; exec "$@"' sh <command> <args…>`. Both exec the command in
 * place, so the spawned pid (the process group's leader) is the command itself.
 *
 * RLIMIT_AS counts reserved address space, not memory touched: runtimes that reserve large ranges
 * up front need a generous limit just to start. Measured here (Debian 12, x86_64, `-e`/`-c` of
 * one print, 3 runs each): Node 24.22 starts from 1119 MiB (its JIT code range alone reserves
 * 512 MiB), Node 20.20 from 711 MiB, python3.11 from 15 MiB, dash from 11 MiB.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';

const MIB = 1024 * 1024;
/** Where util-linux installs `prlimit` on Debian. */
const PRLIMIT = '/usr/bin/prlimit';

/** No process at all runs under less (python3 starts from 15 MiB, sh from 11 MiB, measured). */
export const MIN_MEMORY_LIMIT_BYTES = 32 * MIB;
/**
 * Node needs this to start and to have a heap worth having (Node 24 starts from 1119 MiB of
 * address space; with 1536 MiB it gets the 144 MiB heap `nodeArgsForMemory` gives it).
 */
export const NODE_MIN_MEMORY_LIMIT_BYTES = 1536 * MIB;
/**
 * The address space Node (24; 20 takes less) holds outside its JS heap once running: code range,
 * read-only and shared spaces, thread stacks, malloc arenas. Measured: under a 1792 MiB limit a
 * 384 MiB heap ends with V8's own "Reached heap limit", a larger one with a failed commit.
 */
const NODE_RESERVED_BYTES = 1344 * MIB;
/** The share of what is left that the JS heap may take (the rest: new space, buffers, native). */
const NODE_HEAP_SHARE = 0.75;

/** Node: `node`, `node24`, `nodejs`; python: `python`, `python3`, `python3.11`. */
const NODE_NAME = /^node(js)?\d*$/;

let prlimitAvailable: boolean | undefined;
function hasPrlimit(): boolean {
  if (prlimitAvailable === undefined) {
    try {
      accessSync(PRLIMIT, constants.X_OK);
      prlimitAvailable = true;
    } catch {
      prlimitAvailable = false;
    }
  }
  return prlimitAvailable;
}

/** How the limit is applied: the `prlimit` wrapper, or the `sh`/`ulimit` fallback. */
export type MemoryLimiter = 'prlimit' | 'ulimit';

/** The argv that runs `command args` (an absolute path) under the memory limit. */
export function limitedArgv(
  command: string,
  args: readonly string[],
  memoryLimitBytes: number,
  limiter: MemoryLimiter = hasPrlimit() ? 'prlimit' : 'ulimit',
): { file: string; args: string[] } {
  if (limiter === 'prlimit') {
    return { file: PRLIMIT, args: [`--as=${memoryLimitBytes}`, '--core=0', '--', command, ...args] };
  }
  const kib = Math.floor(memoryLimitBytes / 1024);
  return { file: '/bin/sh', args: ['-c', `ulimit -v ${kib} && ulimit -c 0 && exec "$@"`, 'sh', command, ...args] };
}

/**
 * The smallest limit `command` is accepted with: {@link NODE_MIN_MEMORY_LIMIT_BYTES} for a Node
 * binary (by its file name), {@link MIN_MEMORY_LIMIT_BYTES} for anything else.
 */
export function minimumMemoryLimitBytes(command: string): number {
  return NODE_NAME.test(path.basename(command)) ? NODE_MIN_MEMORY_LIMIT_BYTES : MIN_MEMORY_LIMIT_BYTES;
}

/** Refuses a limit the command cannot start under, naming the minimum (AppError INVALID_SPEC). */
export function checkMemoryLimit(command: string, memoryLimitBytes: number): void {
  if (!Number.isSafeInteger(memoryLimitBytes) || memoryLimitBytes <= 0) {
    throw new AppError('INVALID_SPEC', `sandbox: memoryLimitBytes must be a positive integer, got ${memoryLimitBytes}`);
  }
  const min = minimumMemoryLimitBytes(command);
  if (memoryLimitBytes < min) {
    throw new AppError(
      'INVALID_SPEC',
      `sandbox: a memory limit of ${mib(memoryLimitBytes)} MiB is too small for ${path.basename(command)}: ` +
        `it needs at least ${mib(min)} MiB of address space to start`,
    );
  }
}

/**
 * Node flags for a child held to `memoryLimitBytes`: `--max-old-space-size` at 75% of what is
 * left after Node's own reservations, so the child usually ends with V8's "JavaScript heap out of
 * memory" (which {@link looksLikeMemoryFailure} recognises) rather than a failed mmap elsewhere.
 * Put them before the script: `[...nodeArgsForMemory(limit), 'main.mjs']`.
 * @throws AppError INVALID_SPEC below {@link NODE_MIN_MEMORY_LIMIT_BYTES}.
 */
export function nodeArgsForMemory(memoryLimitBytes: number): string[] {
  checkMemoryLimit('node', memoryLimitBytes);
  const heapMib = Math.floor((NODE_HEAP_SHARE * (memoryLimitBytes - NODE_RESERVED_BYTES)) / MIB);
  return [`--max-old-space-size=${heapMib}`];
}

/**
 * What runtimes print when an allocation fails: Python's MemoryError, V8's "JavaScript heap out
 * of memory", glibc/libstdc++ "Cannot allocate memory" (ENOMEM) and "std::bad_alloc", and the
 * generic "out of memory".
 */
const MEMORY_MESSAGE = /MemoryError|out of memory|Cannot allocate memory|bad_alloc/i;
/** How much of the stderr before a chunk is kept to catch a message split across chunks. */
const CARRY_BYTES = 64;

/**
 * Watches stderr for an allocation failure. A heuristic: RLIMIT_AS does not kill, it fails the
 * allocation, and what follows is up to the program. So a process that ends abnormally (non-zero
 * exit or a signal) and printed one of the messages above is taken to have hit its memory limit.
 * A program that prints such a text and fails for another reason is misread; a program that
 * swallows its allocation failure silently is reported as a plain exit.
 */
export function createMemoryFailureWatch(): { push(chunk: Buffer): void; readonly seen: boolean } {
  let carry = '';
  let seen = false;
  return {
    push(chunk) {
      if (seen) return;
      const text = carry + chunk.toString('latin1');
      seen = MEMORY_MESSAGE.test(text);
      carry = text.slice(-CARRY_BYTES);
    },
    get seen() {
      return seen;
    },
  };
}

/** Whether `stderr` text shows an allocation failure (the same test as the watch). */
export function looksLikeMemoryFailure(stderr: string): boolean {
  return MEMORY_MESSAGE.test(stderr);
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1);
}
