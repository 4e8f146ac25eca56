/** Runs untrusted code in a separate process: the runner of the `script` and `exec` job types. */
export { runSandboxed, DEFAULT_KILL_GRACE_MS } from './runSandboxed.ts';
export type { SandboxOptions, SandboxOutcome, SandboxEndReason, SandboxStream } from './runSandboxed.ts';
export type { StreamTail } from './outputTail.ts';
export { createWorkDir, removeWorkDir, workDirPath } from './workDir.ts';
export {
  nodeArgsForMemory,
  minimumMemoryLimitBytes,
  looksLikeMemoryFailure,
  MIN_MEMORY_LIMIT_BYTES,
  NODE_MIN_MEMORY_LIMIT_BYTES,
} from './memoryLimit.ts';
export { SANDBOX_PATH } from './sandboxEnv.ts';
