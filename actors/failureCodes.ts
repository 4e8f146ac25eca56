/**
 * Failure codes recorded in events: why a job FAILED (`JobFailed.error.code`) and why a task attempt
 * failed (`TaskFailed.error.code`). These are data in events, not API errors (those are
 * `ERROR_CODES` in engine/errors.ts). docs/events.md lists both tables (scripts/failureCodeTable.ts).
 *
 * Neither set is closed, and the types say so: the tables hold every code the engine and its
 * built-in job types write; a job type may add its own, and an API error a job type throws keeps
 * its code (`INVALID_SPEC`, `PATH_OUTSIDE_ROOT`, …). Events already stored keep whatever code they
 * were written with.
 */

/** Codes of `JobFailed.error`, with who writes them. */
export const JOB_FAILURE_CODES = {
  TOO_MANY_FAILURES: { by: 'coordinator', text: 'The share of failed items (or of tasks that failed for good) exceeded the job\'s `maxFailedRatio`; `details.task` holds the first failed task\'s `{taskId, code, message}` when a task failed.' },
  UNKNOWN_JOB_TYPE: { by: 'coordinator', text: 'The coordinator that owns the job has no job type of that name, so it could not plan or verify it.' },
  PLAN_FAILED: { by: 'coordinator', text: 'The job type\'s `plan` threw. An API error keeps its own code instead (e.g. `INVALID_SPEC`, `PATH_OUTSIDE_ROOT`: the table in docs/api.md).' },
  VERIFY_ERROR: { by: 'coordinator', text: 'The job type\'s `verify` threw.' },
  VERIFY_MISMATCH: { by: 'job type', text: 'Verification found the result differs from the spec (built-in file types: a planned file missing, of another size, or with a failed part; a freed path still cached).' },
  PLAN_TOO_LONG: { by: 'coordinator', text: 'The job\'s open plan reached the most tasks one job holds (200,000; engine/coordinator/planExtension.ts): a plan that never closes (a persistent Teraslice execution) goes on in a new job.' },
  SLICE_FAILURES: { by: 'job type', text: 'A `teraslice` execution processed every slice and some failed for good (Teraslice\'s "had N slice failures during processing").' },
  SCRIPT_ERROR: { by: 'job type', text: 'A `script` job\'s code threw, could not be loaded, or its process ended without a result (`details`: `message`, `errorClass`, `stack`).' },
  SCRIPT_VALIDATION: { by: 'job type', text: 'A `script` job\'s `validate` refused the config (`details.problems`).' },
  TIME_LIMIT: { by: 'job type', text: 'A `script` job ran past its `timeLimitMs`; its process group was killed.' },
  MEMORY_LIMIT: { by: 'job type', text: 'A `script` job\'s process failed to allocate within its `memoryLimitMb` (address-space limit).' },
  RESULT_TOO_LARGE: { by: 'job type', text: 'A `script` job\'s result was larger than `scriptResultMaxBytes`.' },
  EXEC_FAILED: { by: 'job type', text: 'An `exec` job\'s task role reached its `minFailedInstances` (default 1) failed instances; `details`: `exitCode` (the first failed instance\'s), `role`, `roles` (per role: instances, succeeded, failed, the failures\' exit codes).' },
} as const satisfies Record<string, { by: string; text: string }>;

/** Codes of `TaskFailed.error`, with who writes them and the `retryable` they come with. */
export const TASK_ERROR_CODES = {
  TASK_ERROR: { by: 'worker', retryable: true, text: 'The job type\'s `run` threw something other than a `TaskRunError`.' },
  DELIVERY_EXHAUSTED: { by: 'worker', retryable: true, text: 'The task queue delivered the task `taskMaxDeliver` times without an outcome (workers died or hung).' },
  UNKNOWN_JOB_TYPE: { by: 'worker', retryable: false, text: 'The worker has no job type of that name.' },
  IO_ERROR: { by: 'job type', retryable: true, text: 'An I/O error that may pass on retry (ENOSPC, EACCES, EIO, …; the OS code is in the message).' },
  BAD_PAYLOAD: { by: 'job type', retryable: false, text: 'The task payload is not what the type\'s plan writes.' },
  INJECTED_FAILURE: { by: 'job type', retryable: true, text: 'The `sleep` type failing on purpose (`failTimes`), for tests and demos.' },
  BAD_RECORD: { by: 'job type', retryable: false, text: 'A `teraslice` slice read a record it cannot parse (bad JSON) with `_dead_letter_action: throw`.' },
  FILE_TOO_LARGE: { by: 'job type', retryable: false, text: 'A `teraslice` file_reader slice of a whole file (json, gzip) found it above the size it reads at once.' },
  LINE_TOO_LONG: { by: 'job type', retryable: false, text: 'A `teraslice` file_reader slice found a line longer than it reads at once.' },
  RUNTIME_UNAVAILABLE: { by: 'job type', retryable: false, text: 'A `script` task needs a runtime this worker does not have (python3, or a JVM: `scriptJava`).' },
  BINARY_NOT_FOUND: { by: 'job type', retryable: false, text: 'A `script` task\'s binary is not in the binary store (deleted after the job was submitted).' },
  BAD_BINARY: { by: 'job type', retryable: false, text: 'A `script` task\'s binary has a content type its runtime cannot run.' },
  EXEC_EXIT: { by: 'job type', retryable: false, text: 'An `exec` instance ended with a non-zero exit code or at a limit, its retries used up; the task\'s result keeps the exit code (the role\'s policy decides the job).' },
  EXEC_RETRY: { by: 'job type', retryable: true, text: 'An `exec` instance ended with a non-zero exit code or at a limit and has `taskRetryCount` attempts left.' },
  SECRETS_UNAVAILABLE: { by: 'job type', retryable: false, text: 'An `exec` instance of a spec with `sealed` found its sealed document (document store namespace `execsealed`) missing or malformed: the job was deleted through its facade (OpenPAI v1 `DELETE`), or the document was never written. The message names the document and what is wrong with it, never its content.' },
  SANDBOX_BUSY: { by: 'job type', retryable: true, text: 'Every sandbox uid of the worker\'s host is in use (`scriptUids`).' },
  ABORTED: { by: 'job type', retryable: false, text: 'The worker aborted the task (job stopped, worker draining); the worker drops such a task, so this code is not normally recorded.' },
} as const satisfies Record<string, { by: string; retryable: boolean; text: string }>;

export type JobFailureCode = keyof typeof JOB_FAILURE_CODES;
export type TaskErrorCode = keyof typeof TASK_ERROR_CODES;

/** A code outside the tables (a job type's own, or an API error's). Keeps the known codes offered by editors. */
export type OtherCode = string & Record<never, never>;

/** Why a job FAILED (`JobFailed.error`, the job context's `error`). */
export interface JobFailure {
  code: JobFailureCode | OtherCode;
  message: string;
  /** Structured detail a job type gives (a `script` job's `{message, errorClass, stack}`); bounded by the type. */
  details?: unknown;
}
