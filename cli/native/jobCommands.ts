/**
 * The native job commands (docs/cli.md): submit (following by default), status, list, progress,
 * stop, pause, resume, recover, rerun, history, explain. Each is the grammar (commander) and a few
 * lines over the native API; the layouts are in jobTables.ts, following in follow.ts.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { Explanation, HistoryEntry, JobList, JobView, ProgressView, SubmissionPlan } from '../apiTypes.ts';
import { jobPath } from '../client.ts';
import { NATIVE_EXIT } from '../exitCodes.ts';
import type { ConnectionFlags } from './connection.ts';
import { durationMs, sinceMs } from './durations.ts';
import { exitForState, followJob } from './follow.ts';
import { readJobFile } from './jobFile.ts';
import { explainTable, historyTable, jobListTable, jobTable, planTable } from './jobTables.ts';
import { withConnection, withOutput, type NativeContext, type OutputFlags } from './nativeContext.ts';
import { formatOutput } from './output.ts';
import { figuresOf, plainLine } from './progressDisplay.ts';

const JOB_STATES = ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING', 'SUCCEEDED', 'FAILED', 'STOPPED'];
/** `list` pages through `GET /jobs` this many at a time. */
const PAGE_LIMIT = 1000;

type Flags = ConnectionFlags & OutputFlags & Record<string, unknown>;

function states(value: string): string {
  const list = value.split(',').map((s) => s.trim().toUpperCase());
  const unknown = list.find((s) => !JOB_STATES.includes(s));
  if (unknown !== undefined) throw new InvalidArgumentError(`${unknown} is not one of ${JOB_STATES.join(', ')}`);
  return list.join(',');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}

/** A command body with the reason when one was given. */
function withReason(flags: Flags, body: Record<string, unknown> = {}): Record<string, unknown> {
  return typeof flags['reason'] === 'string' ? { ...body, reason: flags['reason'] } : body;
}

function asOfQuery(flags: Flags): string {
  return typeof flags['asOf'] === 'string' ? `?asOf=${encodeURIComponent(flags['asOf'])}` : '';
}

/** Registers the job commands on `program`. */
export function registerJobCommands(program: Command, cx: NativeContext): void {
  const { io } = cx;
  const print = (s: string) => io.stdout.write(s);
  const action = (cmd: Command, run: (flags: Flags, ...args: string[]) => Promise<number>) =>
    cmd.action(async (...args: unknown[]) => {
      // commander passes the arguments, then the options, then the command
      const positional = args.slice(0, -2) as string[];
      cx.setExit(await run(args.at(-2) as Flags, ...positional));
    });
  const command = (spec: string, description: string) => withConnection(program.command(spec).description(description).exitOverride());

  action(withOutput(command('submit', 'submit a job from a file and follow it to its end (Ctrl-C detaches: exit 130)'))
    .requiredOption('-f, --file <path>', 'the job: a POST /jobs body in JSON or YAML (- reads stdin)')
    .option('--no-wait', 'print the job id and return at once')
    .option('--idempotency-key <key>', 'submitting again with the same key (and body) answers the same job')
    .option('--dry-run', 'validate and show the task plan; submit nothing'), async (flags) => {
    const body = await readJobFile(String(flags['file']), io);
    const http = await cx.connect(flags);
    if (flags['dryRun'] === true) {
      const plan = await http.call<SubmissionPlan>('POST', '/jobs:plan', { body });
      print(formatOutput(plan, flags.output, () => planTable(plan)));
      return NATIVE_EXIT.OK;
    }
    const key = typeof flags['idempotencyKey'] === 'string' ? { 'idempotency-key': flags['idempotencyKey'] } : undefined;
    const { value: job, status } = await http.exchange<JobView>('POST', '/jobs', { body, ...(key ? { headers: key } : {}) });
    if (flags['wait'] === false) {
      print(flags.output === 'table' ? `${job.id}\n` : formatOutput(job, flags.output, () => ''));
      return NATIVE_EXIT.OK;
    }
    io.stdout.write(status === 201 ? `submitted job ${job.id} (${job.type} ${job.name})\n` : `job ${job.id} exists for this idempotency key (${job.state}): following it\n`);
    return followJob(http, job.id, io);
  });

  action(withOutput(command('status <id>', 'show a job (exit 1 if it ended FAILED or STOPPED)'))
    .option('--as-of <seq|time>', 'the job as it was then: a stream sequence or a time with a zone'), async (flags, id) => {
    const job = await (await cx.connect(flags)).call<JobView>('GET', `${jobPath(id!)}${asOfQuery(flags)}`);
    print(formatOutput(job, flags.output, () => jobTable(job, cx.now())));
    return exitForState(job.state);
  });

  action(withOutput(command('list', 'list jobs, newest first'))
    .option('--state <states>', `only these states, comma-separated (${JOB_STATES.join(', ')})`, states)
    .option('--type <type>', 'only jobs of this type')
    .option('--owner <user>', 'only jobs of this owner (admins; others see only their own)')
    .option('--since <when>', 'only jobs submitted since: a duration ago (30m, 2h, 7d) or a time with a zone', sinceMs(cx.now()))
    .option('--label <key=value,...>', 'only jobs with these labels')
    .option('--vc <name>', 'only jobs of this virtual cluster')
    .option('--all', 'inactive (deactivated) jobs too')
    .option('--limit <n>', 'at most this many jobs', positiveInt), async (flags) => {
    const http = await cx.connect(flags);
    const query: Record<string, string> = { active: flags['all'] === true ? 'all' : 'true', limit: String(PAGE_LIMIT) };
    for (const [flag, param] of [['state', 'state'], ['type', 'type'], ['owner', 'owner'], ['label', 'label'], ['vc', 'virtualCluster']] as const) {
      if (typeof flags[flag] === 'string') query[param] = flags[flag];
    }
    const since = typeof flags['since'] === 'number' ? flags['since'] : null;
    const limit = typeof flags['limit'] === 'number' ? flags['limit'] : Infinity;
    const jobs: JobView[] = [];
    let cursor: string | null = null;
    // newest first: the first job older than --since ends the listing
    paging: do {
      const page: JobList = await http.call<JobList>('GET', `/jobs?${new URLSearchParams({ ...query, ...(cursor === null ? {} : { cursor }) })}`);
      for (const j of page.jobs) {
        if ((since !== null && Date.parse(j.submittedAt) < since) || jobs.length >= limit) break paging;
        jobs.push(j);
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
    print(formatOutput(jobs, flags.output, () => jobListTable(jobs, cx.now())));
    return NATIVE_EXIT.OK;
  });

  action(withOutput(command('progress <id>', "show a job's progress; --follow: a live bar until it ends (Ctrl-C detaches)"))
    .option('-f, --follow', 'follow the job to its end'), async (flags, id) => {
    const http = await cx.connect(flags);
    if (flags['follow'] === true) return followJob(http, id!, io);
    const [job, progress] = await Promise.all([http.call<JobView>('GET', jobPath(id!)), http.call<ProgressView>('GET', `${jobPath(id!)}/progress`)]);
    print(formatOutput(progress, flags.output, () => plainLine(figuresOf(job, progress))));
    return exitForState(job.state);
  });

  action(command('stop <id>', 'stop a job: cooperatively (tasks in flight get a grace period), or at once with --force')
    .option('--grace <duration>', 'how long tasks in flight may run on (30s, 2m; default: the service\'s stopGraceMs)', durationMs)
    .option('--force', 'stop at once: running tasks are aborted')
    .option('--reason <text>', 'recorded in the job\'s history'), async (flags, id) => {
    const body = withReason(flags, {
      ...(typeof flags['grace'] === 'number' ? { graceMs: flags['grace'] } : {}),
      ...(flags['force'] === true ? { force: true } : {}),
    });
    const job = await (await cx.connect(flags)).call<JobView>('POST', `${jobPath(id!)}/stop`, { body });
    print(job.state === 'STOPPED' ? `job ${job.id} STOPPED\n` : `job ${job.id} stopping: tasks in flight have until ${job.stopRequested?.deadline ?? '-'} (${job.state})\n`);
    return NATIVE_EXIT.OK;
  });

  for (const [verb, what] of [['pause', 'pause a running job: nothing new is dispatched, tasks in flight finish'], ['resume', 'resume a paused job']] as const) {
    action(command(`${verb} <id>`, what).option('--reason <text>', 'recorded in the job\'s history'), async (flags, id) => {
      const job = await (await cx.connect(flags)).call<JobView>('POST', `${jobPath(id!)}/${verb}`, { body: withReason(flags) });
      print(`job ${job.id} ${job.state}\n`);
      return NATIVE_EXIT.OK;
    });
  }

  action(command('recover <id>', 'run a FAILED or STOPPED job again, keeping its plan: the tasks that did not succeed (with --failed-only: those that failed)')
    .option('--failed-only', 'only the tasks that failed, not those that succeeded with failed items')
    .option('--reason <text>', 'recorded in the job\'s history')
    .option('--follow', 'follow it to its end'), async (flags, id) => {
    const http = await cx.connect(flags);
    const job = await http.call<JobView>('POST', `${jobPath(id!)}/recover`, { body: withReason(flags, { mode: flags['failedOnly'] === true ? 'failed' : 'notSucceeded' }) });
    print(`job ${job.id} ${job.state} (recovery ${job.recoveries ?? '?'})\n`);
    return flags['follow'] === true ? followJob(http, job.id, io) : NATIVE_EXIT.OK;
  });

  action(command('rerun <id>', 'submit a new job like a finished one (same type, spec, owner); prints its id')
    .option('--reason <text>', 'recorded in the new job\'s history')
    .option('--follow', 'follow the new job to its end'), async (flags, id) => {
    const http = await cx.connect(flags);
    const job = await http.call<JobView>('POST', `${jobPath(id!)}/rerun`, { body: withReason(flags) });
    print(`${job.id}\n`);
    return flags['follow'] === true ? followJob(http, job.id, io) : NATIVE_EXIT.OK;
  });

  action(withOutput(command('history <id>', "a job's events: who did what, when and why"))
    .option('--as-of <seq|time>', 'only the events up to then: a stream sequence or a time with a zone'), async (flags, id) => {
    const { events } = await (await cx.connect(flags)).call<{ events: HistoryEntry[] }>('GET', `${jobPath(id!)}/history${asOfQuery(flags)}`);
    print(formatOutput(events, flags.output, () => historyTable(events)));
    return NATIVE_EXIT.OK;
  });

  action(withOutput(command('explain <id>', 'why a job is where it is: its place in the queue, quotas, capacity, what it waits on')), async (flags, id) => {
    const x = await (await cx.connect(flags)).call<Explanation>('GET', `${jobPath(id!)}/explain`);
    print(formatOutput(x, flags.output, () => explainTable(x)));
    return NATIVE_EXIT.OK;
  });
}
