/**
 * `jetjobs logs <id> [task]`: what a task of an `exec` or `script` job wrote (docs/api.md, Task
 * output), as the program wrote it (like `kubectl logs`: the bytes are the program's, not the
 * service's). `-f` follows the NDJSON stream until the attempt ends, reconnecting after a drop with
 * `after=<the last seq>` so nothing is lost or repeated; stderr output goes to stderr.
 */
import type { Command } from 'commander';
import type { JobView, TaskView } from '../apiTypes.ts';
import { jobPath } from '../client.ts';
import { CliError, NATIVE_EXIT } from '../exitCodes.ts';
import type { Http } from '../http.ts';
import { delay } from '../liveChanges.ts';
import { withConnection, type NativeContext } from './nativeContext.ts';

const RECONNECT_MS = 500;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);

type LogLine =
  | { type: 'chunk'; seq: number; attempt: number; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'end'; seq: number; attempt: number; reason: string; exitCode: number | null }
  | { type: 'error'; message?: string };

export interface LogsOptions {
  follow: boolean;
  stream?: 'stdout' | 'stderr';
  attempt?: number;
  tail?: number;
}

/** The task to read: the one named (if the job lists it), else the job's only task. */
async function taskOf(http: Http, id: string, task: string | undefined): Promise<string> {
  const { tasks, truncated } = await http.call<{ tasks: TaskView[]; truncated: boolean }>('GET', `${jobPath(id)}/tasks`);
  if (task !== undefined) {
    // a compacted job lists no tasks, and its logs may still be kept: only a listed plan can say no
    if (tasks.length > 0 && !truncated && !tasks.some((t) => t.taskId === task)) {
      throw new CliError(NATIVE_EXIT.NOT_FOUND, `job ${id} has no task ${JSON.stringify(task)} (its tasks: ${tasks.slice(0, 5).map((t) => t.taskId).join(', ')}${tasks.length > 5 ? ', …' : ''})`);
    }
    return task;
  }
  if (tasks.length === 1) return tasks[0]!.taskId;
  const some = tasks.slice(0, 5).map((t) => t.taskId).join(', ');
  throw new CliError(NATIVE_EXIT.INVALID_INPUT, tasks.length === 0 ? `job ${id} has no tasks yet: name one when it has (jetjobs logs ${id} t00000)` : `job ${id} has ${tasks.length} tasks: name one (${some}${tasks.length > 5 ? ', …' : ''})`);
}

export async function logs(cx: NativeContext, flags: Parameters<NativeContext['connect']>[0], id: string, task: string | undefined, o: LogsOptions): Promise<number> {
  const http = await cx.connect(flags);
  const taskId = await taskOf(http, id, task);
  const base = `${jobPath(id)}/tasks/${encodeURIComponent(taskId)}/logs`;
  const params = new URLSearchParams();
  if (o.stream !== undefined) params.set('stream', o.stream);
  if (o.attempt !== undefined) params.set('attempt', String(o.attempt));
  if (!o.follow) {
    if (o.tail !== undefined) params.set('tail', String(o.tail));
    const { text } = await http.text(`${base}?${params}`);
    cx.io.stdout.write(text);
    return NATIVE_EXIT.OK;
  }
  const stop = new AbortController();
  const off = cx.io.onInterrupt?.(() => stop.abort());
  let after: number | undefined;
  let connected = false;
  try {
    while (!stop.signal.aborted) {
      const p = new URLSearchParams(params);
      p.set('follow', 'true');
      if (after !== undefined) p.set('after', String(after));
      else if (o.tail !== undefined) p.set('tail', String(o.tail));
      try {
        for await (const raw of http.lines(`${base}?${p}`, stop.signal)) {
          connected = true;
          const line = raw as LogLine;
          if (line.type === 'chunk') {
            (line.stream === 'stderr' ? cx.io.stderr : cx.io.stdout).write(line.text);
            after = line.seq;
          } else if (line.type === 'end') {
            cx.io.stderr.write(`[${taskId} attempt ${line.attempt} ended: ${line.reason}${line.exitCode === null ? '' : `, exit code ${line.exitCode}`}]\n`);
            return NATIVE_EXIT.OK;
          }
        }
      } catch (e) {
        if (!connected || !(e instanceof CliError) || e.exitCode !== NATIVE_EXIT.UNAVAILABLE) throw e;
      }
      if (stop.signal.aborted) break;
      // ended without an end record: a newer attempt began, the service went away, or the job ended without one (a lost worker)
      const job = await http.call<JobView>('GET', jobPath(id)).catch(() => null);
      if (job !== null && TERMINAL.has(job.state)) return NATIVE_EXIT.OK;
      await delay(RECONNECT_MS, stop.signal);
    }
    return NATIVE_EXIT.DETACHED;
  } finally {
    off?.();
    stop.abort();
  }
}

function count(value: string): number {
  if (!/^[0-9]{1,9}$/.test(value)) throw new CliError(NATIVE_EXIT.INVALID_INPUT, `${value}: a number`);
  return Number(value);
}

export function registerLogs(program: Command, cx: NativeContext): void {
  withConnection(program.command('logs <id> [task]').exitOverride()
    .description("a task's output (exec, script jobs); the task may be left out when the job has one")
    .option('-f, --follow', 'follow the output until the attempt ends')
    .option('--stream <stream>', 'stdout or stderr only')
    .option('--attempt <n>', 'this attempt (default: the newest)', count)
    .option('--tail <bytes>', 'only the last bytes', count))
    .action(async (id: string, task: string | undefined, flags: Record<string, unknown>) => {
      const stream = flags['stream'];
      if (stream !== undefined && stream !== 'stdout' && stream !== 'stderr') throw new CliError(NATIVE_EXIT.INVALID_INPUT, '--stream: stdout or stderr');
      cx.setExit(await logs(cx, flags, id, task, {
        follow: flags['follow'] === true,
        ...(stream === undefined ? {} : { stream }),
        ...(typeof flags['attempt'] === 'number' ? { attempt: flags['attempt'] } : {}),
        ...(typeof flags['tail'] === 'number' ? { tail: flags['tail'] } : {}),
      }));
    });
}
