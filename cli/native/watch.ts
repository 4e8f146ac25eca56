/**
 * `jetjobs watch [id]`: the live events (docs/api.md, Live events) as NDJSON, one SSE message's
 * data a line. After a dropped connection it reconnects with the last event id it saw
 * (`Last-Event-ID`) and goes on with no duplicate and no gap: events stored together share one id,
 * carried by the record's last event only, so a drop in the middle of a record resends the record
 * from its start and the events already printed are skipped.
 */
import type { Command } from 'commander';
import { jobPath } from '../client.ts';
import { CliError, NATIVE_EXIT } from '../exitCodes.ts';
import type { LiveEvent } from '../http.ts';
import { delay } from '../liveChanges.ts';
import { withConnection, type NativeContext } from './nativeContext.ts';

/** Wait before reconnecting (the service suggests 2 s to EventSource clients; a CLI may be quicker). */
export const WATCH_RECONNECT_MS = 500;

/** What a message's data holds that watch reads. */
interface Message {
  kind: 'snapshot' | 'event' | 'removed';
  seq?: number;
  type?: string;
  jobId?: string;
}

export interface WatchOptions {
  jobId?: string;
  /** Start after this stream sequence (no snapshot). */
  after?: string;
  snapshot: boolean;
  /** Only these event types (snapshots and removals always pass). */
  types?: ReadonlySet<string>;
}

/**
 * The cursor of a watch: the last id seen, and the events already printed of a record whose last
 * event (the one with the id) has not come yet.
 */
export function createCursor(after: string | undefined) {
  let lastId = after;
  let partial: { seq: number; seen: number } | null = null;
  let skip = 0;
  return {
    get lastId() {
      return lastId;
    },
    /** A new connection: the partial record will come again from its start. */
    reconnected() {
      skip = partial?.seen ?? 0;
    },
    /** Whether `m` is new (print it) or a repeat of a partial record (skip it). */
    admit(m: LiveEvent, msg: Message): boolean {
      if (msg.kind === 'event' && msg.seq !== undefined) {
        if (partial !== null && partial.seq === msg.seq && skip > 0) {
          skip--;
          return false;
        }
        skip = 0;
        if (m.id === undefined || m.id === '') partial = { seq: msg.seq, seen: partial?.seq === msg.seq ? partial.seen + 1 : 1 };
      }
      if (m.id !== undefined && m.id !== '') {
        lastId = m.id;
        partial = null;
      }
      return true;
    },
  };
}

export async function watch(cx: NativeContext, flags: Parameters<NativeContext['connect']>[0], o: WatchOptions): Promise<number> {
  const http = await cx.connect(flags);
  const path = o.jobId === undefined ? '/events' : `${jobPath(o.jobId)}/events`;
  const stop = new AbortController();
  const off = cx.io.onInterrupt?.(() => stop.abort());
  const cursor = createCursor(o.after);
  let connected = false;
  try {
    while (!stop.signal.aborted) {
      try {
        for await (const m of http.events(path, cursor.lastId, stop.signal)) {
          connected = true;
          if (m.event === 'error') break; // fell behind: the service ends the stream; resume from the cursor
          const msg = JSON.parse(m.data) as Message;
          if (!cursor.admit(m, msg)) continue;
          const shown = msg.kind === 'snapshot' ? o.snapshot : msg.kind === 'removed' || o.types === undefined || o.types.has(msg.type ?? '');
          if (shown) cx.io.stdout.write(`${m.data}\n`);
          if (msg.kind === 'removed' && o.jobId !== undefined) return NATIVE_EXIT.OK; // the job is gone: its stream ends
        }
      } catch (e) {
        // the first connection's failure is the answer (no service, no job, no token); later ones are drops
        if (!connected || !(e instanceof CliError) || e.exitCode !== NATIVE_EXIT.UNAVAILABLE) throw e;
      }
      await delay(WATCH_RECONNECT_MS, stop.signal);
      cursor.reconnected();
    }
    return NATIVE_EXIT.DETACHED;
  } finally {
    off?.();
    stop.abort();
  }
}

export function registerWatch(program: Command, cx: NativeContext): void {
  withConnection(program.command('watch [id]').exitOverride()
    .description('live events as NDJSON (every job you may see, or one); reconnects after a drop and resumes where it was')
    .option('--after <seq>', 'start after this stream sequence (no snapshot)')
    .option('--no-snapshot', 'leave out the first line, the snapshot of the jobs')
    .option('--type <types>', 'only these event types, comma-separated (JobSubmitted, TaskSucceeded, …)'))
    .action(async (id: string | undefined, flags: Record<string, unknown>) => {
      const after = flags['after'];
      if (after !== undefined && !/^[0-9]{1,15}$/.test(String(after))) throw new CliError(NATIVE_EXIT.INVALID_INPUT, '--after: a stream sequence (digits)');
      cx.setExit(await watch(cx, flags, {
        ...(id === undefined ? {} : { jobId: id }),
        ...(after === undefined ? {} : { after: String(after) }),
        snapshot: flags['snapshot'] !== false && after === undefined,
        ...(typeof flags['type'] === 'string' ? { types: new Set(flags['type'].split(',').map((t) => t.trim())) } : {}),
      }));
    });
}
