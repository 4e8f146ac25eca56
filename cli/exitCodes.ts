/**
 * The exit codes of `jetjobs`, one table that docs/compat/alluxio.md repeats (a unit test keeps
 * the two equal). A script can rely on them.
 */
export const EXIT = {
  /** Done: submitted, stopped, listed, re-run, or `--progress` of a job that is not FAILED/STOPPED. */
  OK: 0,
  /** `--progress` of a job that ended FAILED or STOPPED (with `--follow`: the job ended so). */
  JOB_NOT_SUCCEEDED: 1,
  /** Bad flags or values, or the service refused the request as invalid (HTTP 400). */
  INVALID_INPUT: 2,
  /** No job of that (type, path), or the service answered 404. */
  NOT_FOUND: 3,
  /** The service cannot be reached, is unavailable (429, 5xx), or refused the token (401, 403). */
  UNAVAILABLE: 4,
  /** The service refused the command in the job's state (409), e.g. a re-run of a running job. */
  REFUSED: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with a message on stderr and an exit code. */
export class CliError extends Error {
  constructor(readonly exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}
