/**
 * `script`: runs an uploaded binary (binaries/) as a sandboxed process — Spark Jobserver's jobs,
 * without Spark. One task per job; the runner of the binary's runtime (runners/) loads it, calls
 * `validate` then `runJob` with the job's config, and its JSON result becomes the job's
 * `summary.result`; a refusal, a throw or a limit fails the job with the runner's detail in
 * `error.details`. Needs the binary store, so it is made per process (`createScriptJobType`), not
 * one of the built-in constants.
 */
import { AppError } from '../../errors.ts';
import { minimumMemoryLimitBytes } from '../../sandbox/index.ts';
import { JAVA_MIN_MEMORY_BYTES } from './runners/index.ts';
import type { Runtime, RuntimeCommands } from './runtimes.ts';
import type { JobType } from '../jobType.ts';
import { formatTaskId } from '../taskId.ts';
import { runScript, type ScriptDeps, type ScriptOutput } from './runScript.ts';
import { checkScriptSpec, SCRIPT_SPEC_SCHEMA, type ScriptSpec } from './spec.ts';

export function createScriptJobType(deps: ScriptDeps): JobType<ScriptSpec> {
  return {
    name: 'script',
    instantVerify: true,
    specSchema: SCRIPT_SPEC_SCHEMA,

    checkSpec(spec) {
      checkScriptSpec(spec, deps.limits);
      if (spec.runtime !== undefined) {
        const r = deps.runtimes[spec.runtime];
        if ('missing' in r) throw new AppError('INVALID_SPEC', `runtime ${spec.runtime} is not available: ${r.missing}`, { details: { field: 'spec.runtime' } });
      }
    },

    async plan() {
      return [{ taskId: formatTaskId(0), payload: {}, items: 1, bytes: 0 }];
    },

    run: (spec, _payload, ctx) => runScript(spec, ctx, deps),

    async verify(_spec, ctx) {
      const out = ctx.results[0]?.output as ScriptOutput | undefined;
      if (out === undefined) return { ok: false, code: 'SCRIPT_ERROR', message: 'the script task reported no outcome' };
      if (out.failure !== undefined) return { ok: false, code: out.failure.code, message: out.failure.message, details: out.failure.details };
      return { ok: true, summary: { result: out.result ?? null, runtime: out.runtime, durationMs: out.durationMs, exitCode: out.exitCode, binary: out.binary } };
    },
  };
}

export { SCRIPT_SPEC_SCHEMA, type ScriptSpec } from './spec.ts';
export { BINARY_TYPES, baseContentType, findRuntimes, RUNTIMES, type Runtime, type RuntimeCommands } from './runtimes.ts';
export type { ScriptDeps, ScriptFailure, ScriptOutput } from './runScript.ts';

/** MiB a runtime needs to start under the sandbox's address-space limit (node 1536, python 32, the JVM 512). */
export function runtimeMinimumMemoryMb(runtime: Runtime, commands: RuntimeCommands): number {
  if (runtime === 'java') return Math.ceil(JAVA_MIN_MEMORY_BYTES / (1024 * 1024));
  const c = commands[runtime];
  return Math.ceil(minimumMemoryLimitBytes('path' in c ? c.path : runtime === 'node' ? 'node' : 'python3') / (1024 * 1024));
}
