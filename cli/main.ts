/**
 * `jetjobs`: the command line (bin/jetjobs.mjs runs it). Seed 004's `job` commands over the native
 * API (the work is in jobActions.ts), and beside them the native commands (native/, docs/cli.md);
 * flags are parsed by commander, exit codes are in exitCodes.ts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createClient, type JetjobsClient } from './client.ts';
import { CliError, EXIT } from './exitCodes.ts';
import { listJobs, rerunJob, runPathJob, type PathJobOptions } from './jobActions.ts';
import { resolveConnection, type CliEnv, type ConnectionFlags } from './native/connection.ts';
import { createNativeContext, DEFAULT_TIMEOUT_MS } from './native/nativeContext.ts';
import type { NativeIo } from './native/nativeIo.ts';
import { registerNativeCommands } from './native/program.ts';
import { PATH_JOB_TYPES, type PathJobType } from './progressReport.ts';

export { DEFAULT_URL, type CliEnv } from './native/connection.ts';
export { DEFAULT_TIMEOUT_MS } from './native/nativeContext.ts';
/** Exit code of an error the CLI did not expect (a bug): sysexits' EX_SOFTWARE. */
export const EXIT_INTERNAL = 70;

const JOB_STATES = ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING', 'SUCCEEDED', 'FAILED', 'STOPPED'];

function jobType(value: string): PathJobType {
  const t = value.toLowerCase();
  if (!(PATH_JOB_TYPES as readonly string[]).includes(t)) throw new InvalidArgumentError(`one of ${PATH_JOB_TYPES.map((x) => x.toUpperCase()).join(', ')}`);
  return t as PathJobType;
}

function batchSize(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 10_000) throw new InvalidArgumentError('an integer from 1 to 10000');
  return n;
}

function upperChoice(choices: readonly string[]) {
  return (value: string): string => {
    const v = value.toUpperCase();
    if (!choices.includes(v)) throw new InvalidArgumentError(`one of ${choices.join(', ')}`);
    return v;
  };
}

function jobStates(value: string): string[] {
  return value.split(',').map(upperChoice(JOB_STATES));
}

/** `--url` and `--token` on every `job` command. */
function withConnection(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'service root (env JETJOBS_URL; default: the current context\'s, else http://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token (env JETJOBS_TOKEN; default: the current context\'s)');
}

/** Builds the program; `run` receives each action's work and returns its exit code. */
function buildProgram(env: CliEnv, io: NativeIo, setExit: (code: number) => void): Command {
  const connect = async (flags: ConnectionFlags): Promise<JetjobsClient> => {
    const { url, token } = await resolveConnection(flags, env);
    return createClient({ url, token, timeoutMs: DEFAULT_TIMEOUT_MS });
  };
  const program = new Command('jetjobs')
    .description('Command line of the jetjobs service: the native commands (docs/cli.md) and Alluxio\'s `job` commands (docs/compat/alluxio.md)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const job = program.command('job').description("Alluxio's job commands (seed 004): jobs by (type, path)").exitOverride();

  for (const type of PATH_JOB_TYPES) {
    const cmd = job.command(type).description(`submit, follow or stop a ${type} job of a path`).exitOverride()
      .requiredOption('--path <path>', 'absolute Alluxio path (/ is the files root); copy/move: the source')
      .option('--dst <path>', 'destination (copy, move)')
      .option('--batch-size <n>', 'files per task (spec.batchSize)', batchSize)
      .option('--verify', 'verify after loading (load; copy and move always verify)', false)
      .addOption(new Option('--submit', 'submit a job (the default)').conflicts(['progress', 'stop']))
      .addOption(new Option('--progress', 'print the progress of the most recent job of (type, path)').conflicts(['stop']))
      .option('--stop', 'stop the most recent job of (type, path)')
      .option('--format <format>', 'TEXT or JSON (--progress)', upperChoice(['TEXT', 'JSON']), 'TEXT')
      .option('--verbose', 'list failed files under the report (--progress)', false)
      .option('--file-status <status>', 'FAILURE: list failed files (--progress)', upperChoice(['FAILURE']))
      .option('--follow', 'redraw until the job ends (--progress; ours)', false);
    withConnection(cmd).action(async (flags: Record<string, unknown> & ConnectionFlags) => {
      const opts: PathJobOptions = {
        type,
        path: String(flags['path']),
        action: flags['progress'] === true ? 'progress' : flags['stop'] === true ? 'stop' : 'submit',
        verify: flags['verify'] === true,
        format: flags['format'] === 'JSON' ? 'JSON' : 'TEXT',
        verbose: flags['verbose'] === true,
        follow: flags['follow'] === true,
        ...(typeof flags['dst'] === 'string' ? { dst: flags['dst'] } : {}),
        ...(typeof flags['batchSize'] === 'number' ? { batchSize: flags['batchSize'] } : {}),
        ...(flags['fileStatus'] === 'FAILURE' ? { fileStatus: 'FAILURE' as const } : {}),
      };
      setExit(await runPathJob(await connect(flags), opts, io));
    });
  }

  withConnection(job.command('list').description('list jobs, newest first').exitOverride()
    .option('--job-state <states>', `only jobs in these states (comma-separated: ${JOB_STATES.join(', ')})`, jobStates)
    .option('--job-type <type>', 'only jobs of this type (LOAD, FREE, COPY, MOVE)', jobType)
    .option('--coordinator <id>', 'only jobs owned by this coordinator (its id, as listed)'))
    .action(async (flags: { jobState?: string[]; jobType?: PathJobType; coordinator?: string } & ConnectionFlags) => {
      setExit(await listJobs(await connect(flags), {
        ...(flags.jobState ? { states: flags.jobState } : {}),
        ...(flags.jobType ? { type: flags.jobType } : {}),
        ...(flags.coordinator ? { coordinator: flags.coordinator } : {}),
      }, io));
    });

  withConnection(job.command('rerun').description('submit a job like the most recent one of (type, path)').exitOverride()
    .requiredOption('--type <type>', 'LOAD, FREE, COPY or MOVE', jobType)
    .requiredOption('--path <path>', 'absolute Alluxio path'))
    .action(async (flags: { type: PathJobType; path: string } & ConnectionFlags) => {
      setExit(await rerunJob(await connect(flags), flags.type, flags.path, io));
    });
  registerNativeCommands(program, createNativeContext(env, io, setExit));
  return program;
}

/** Runs `jetjobs` with `argv` (without node and the script) and answers its exit code. */
export async function runCli(argv: readonly string[], env: CliEnv, io: NativeIo): Promise<number> {
  let exitCode: number = EXIT.OK;
  const program = buildProgram(env, io, (code) => { exitCode = code; });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end in a CommanderError too; every other one is a flag commander refused.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.OK : EXIT.INVALID_INPUT;
    }
    if (e instanceof CliError) {
      io.stderr.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_INTERNAL;
  }
}
