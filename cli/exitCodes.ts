/**
 * The exit codes of `jetjobs`: two tables a script can rely on. The `job` commands (Alluxio's, seed
 * 004) keep theirs, which docs/compat/alluxio.md repeats; the native commands use the issue's,
 * which docs/cli.md repeats (unit tests keep each document equal to its table). They differ on 3
 * and 4: see docs/decisions/0015-native-command-line.md.
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

/** The native commands' exit codes (`jetjobs submit|status|list|…`, docs/cli.md). */
export const NATIVE_EXIT = {
  /** Done; for a command that reports a job (submit, status, progress, …): it did not end FAILED or STOPPED. */
  OK: 0,
  /** The job reported ended FAILED or STOPPED. */
  JOB_NOT_SUCCEEDED: 1,
  /**
   * The same command would fail again: bad flags or values, an unreadable job file, or the service
   * refused the request (400, 401 no or bad token, 403 role, 409 not in the job's state, 413, 415).
   */
  INVALID_INPUT: 2,
  /** Worth trying again later: the service cannot be reached, or answered 408, 429 or 5xx. */
  UNAVAILABLE: 3,
  /** No such job, task, user or virtual cluster (404). */
  NOT_FOUND: 4,
  /** Interrupted (Ctrl-C, SIGINT) while following or watching: the job keeps running. 128 + SIGINT, as a shell says. */
  DETACHED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT] | (typeof NATIVE_EXIT)[keyof typeof NATIVE_EXIT];

/** The exit code of each kind of HTTP failure, per table. */
export interface StatusExits {
  notFound: ExitCode;
  unavailable: ExitCode;
  invalidInput: ExitCode;
  /** 409: the command does not apply in the job's state. */
  refused: ExitCode;
  /** 401 and 403. */
  denied: ExitCode;
  /** 408: the request did not reach the server in time. */
  requestTimeout: ExitCode;
}

export const ALLUXIO_STATUS_EXITS: StatusExits = {
  notFound: EXIT.NOT_FOUND, unavailable: EXIT.UNAVAILABLE, invalidInput: EXIT.INVALID_INPUT, refused: EXIT.REFUSED, denied: EXIT.UNAVAILABLE, requestTimeout: EXIT.INVALID_INPUT,
};

export const NATIVE_STATUS_EXITS: StatusExits = {
  notFound: NATIVE_EXIT.NOT_FOUND, unavailable: NATIVE_EXIT.UNAVAILABLE, invalidInput: NATIVE_EXIT.INVALID_INPUT,
  refused: NATIVE_EXIT.INVALID_INPUT, denied: NATIVE_EXIT.INVALID_INPUT, requestTimeout: NATIVE_EXIT.UNAVAILABLE,
};

/** Exit code for an HTTP error status. */
export function exitCodeForStatus(status: number, exits: StatusExits = ALLUXIO_STATUS_EXITS): ExitCode {
  if (status === 404) return exits.notFound;
  if (status === 409) return exits.refused;
  if (status === 401 || status === 403) return exits.denied;
  if (status === 408) return exits.requestTimeout;
  if (status === 429 || status >= 500) return exits.unavailable;
  return exits.invalidInput;
}

/** An error that ends the command with a message on stderr and an exit code. */
export class CliError extends Error {
  constructor(readonly exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}
