/**
 * What the API reads about one job (each refused, as not found, to a caller that may not see it):
 * its view, progress, failures, tasks, full history, webhook deliveries, and a live stream of its changes.
 */
import type { JobContext } from '../../actors/jobContext.ts';
import { statusAt } from '../../actors/jobContext.ts';
import { toJobView, type JobSnapshot } from '../../actors/jobFold.ts';
import type { Clock } from '../clock.ts';
import type { EventLog, LogRecord } from '../eventlog/eventLog.ts';
import { liveStream } from '../live/liveStream.ts';
import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import type { Caller, DeliveryEntry, FailuresView, HistoryEntry, JobService, ProgressView } from '../serviceTypes.ts';
import { foldAsOf, type AsOf } from './asOf.ts';
import { jobHookSubject, jobTaskSubject, parseSubject } from '../subjects.ts';
import { canSeeJob, listedOwner } from './access.ts';
import { AppError } from '../errors.ts';
import { entryView } from '../projections/jobEntry.ts';
import { notFound, READ_YOUR_WRITES_MS, toView, type JobReader } from './jobReader.ts';
import { lastOutcomes, taskViews } from './taskViews.ts';

export type JobQueries = Pick<JobService, 'get' | 'getBySubmitSeq' | 'progress' | 'failures' | 'tasks' | 'plan' | 'history' | 'getAsOf' | 'historyAsOf' | 'deliveries' | 'live'>;

/** History entries of records, in the order given. */
function historyOf(records: readonly LogRecord[]): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const r of records) {
    const kind = parseSubject(r.subject)?.kind === 'job-task' ? 'task' : 'ev';
    for (const e of r.events) out.push({ seq: r.seq, time: r.time, subject: kind, type: e.type, data: e.data, meta: { ...e.meta } });
  }
  return out;
}

export function createJobQueries(deps: { eventLog: EventLog; projection: JobProjection; clock: Clock }, reader: JobReader): JobQueries {
  const { eventLog, projection, clock } = deps;

  /** The job at `asOf`, after the caller's access is checked on the job as it is now (the same 404 as `get`). */
  async function jobAsOf(id: string, caller: Caller, asOf: AsOf) {
    const now = await reader.loadVisible(id, caller);
    if (asOf.kind === 'time' && asOf.ms > clock.now()) {
      throw new AppError('VALIDATION_FAILED', `querystring/asOf ${asOf.text} is in the future (the server's time is ${new Date(clock.now()).toISOString()}); leave asOf out for the job as it is now`);
    }
    if (asOf.kind === 'seq') {
      const last = await eventLog.lastSeq();
      if (asOf.seq > last) throw new AppError('VALIDATION_FAILED', `querystring/asOf ${asOf.seq} is past the stream's last sequence ${last}`);
    }
    const [ev, tasks] = await reader.readJob(id);
    return { now, at: foldAsOf(id, ev, tasks, asOf) };
  }

  function progressOf(s: JobSnapshot): ProgressView {
    const v = toJobView(s);
    const c = s.context as JobContext;
    const start = v.startedAt ? Date.parse(v.startedAt) : NaN;
    const end = v.finishedAt ? Date.parse(v.finishedAt) : clock.now();
    const elapsedMs = Number.isFinite(start) ? Math.max(0, end - start) : 0;
    return {
      jobId: v.id,
      state: v.state,
      ...v.progress,
      elapsedMs,
      throughputBytesPerSec: elapsedMs > 0 ? Math.round((v.progress.bytesDone * 1000) / elapsedMs) : 0,
      failures: c.failures.map((f) => ({ taskId: f.taskId, item: f.item, error: f.error })),
    };
  }

  return {
    async get(id, caller) {
      const j = await reader.loadVisible(id, caller);
      return toView(j.snapshot, j.submitSeq);
    },

    async getBySubmitSeq(seq, caller) {
      if (!Number.isSafeInteger(seq) || seq < 1) throw notFound(String(seq));
      // A sequence past what this process applied: wait only if the stream has it (a just-made job),
      // so that a number no job has yet answers at once.
      if (seq > projection.lastSeq() && seq <= (await eventLog.lastSeq()) && !(await projection.waitFor(seq, READ_YOUR_WRITES_MS))) {
        throw new AppError('NOT_READY', `the projection has not applied seq ${seq} yet`);
      }
      const e = projection.getBySubmitSeq(seq);
      if (e === undefined || !canSeeJob(caller, e.snapshot.context)) throw notFound(String(seq));
      return entryView(e);
    },

    async progress(id, caller) {
      return progressOf((await reader.loadVisible(id, caller)).snapshot);
    },

    async failures(id, caller) {
      const s = (await reader.loadVisible(id, caller)).snapshot;
      const c = s.context as JobContext;
      const tasks: FailuresView['tasks'] = [];
      for (let i = 0; i < (c.tasks?.length ?? 0); i++) {
        const st = statusAt(c, i);
        if (st.state === 'failed') tasks.push({ taskId: c.tasks![i]!.taskId, attempts: [...st.failedAttempts], error: st.error ? { ...st.error } : null });
      }
      const items = c.failures.map((f) => ({ taskId: f.taskId, item: f.item, error: f.error }));
      return {
        jobId: c.jobId, state: s.value, itemsFailed: c.progress.itemsFailed, tasksFailed: c.progress.tasksFailed,
        items, truncated: c.progress.itemsFailed > items.length, tasks,
      };
    },

    async tasks(id, caller) {
      const s = (await reader.loadVisible(id, caller)).snapshot;
      // compacted: the plan and the `.task` records are gone
      if (s.context.tasks === null || s.context.compacted) return [];
      return taskViews(s, lastOutcomes(await eventLog.readSubject(jobTaskSubject(id))));
    },

    async plan(id, caller, opts = {}) {
      const s = (await reader.loadVisible(id, caller)).snapshot;
      const c = s.context;
      const head = { open: c.planCursor !== undefined, cursor: c.planCursor ?? null };
      if (c.tasks === null || c.compacted) return { ...head, tasks: [] };
      const outcomes = opts.outcomes === false ? new Map() : lastOutcomes(await eventLog.readSubject(jobTaskSubject(id)));
      const planned = c.tasks;
      const wanted = opts.states === undefined ? undefined : new Set(opts.states);
      const tasks = taskViews(s, outcomes, wanted).map((v) => ({ ...v, payload: planned[v.index]!.payload }));
      return { ...head, tasks };
    },

    async history(id, caller) {
      await reader.loadVisible(id, caller);
      const [ev, tasks] = await reader.readJob(id);
      if (ev.length === 0) throw notFound(id);
      return historyOf([...ev, ...tasks].sort((a, b) => a.seq - b.seq));
    },

    async getAsOf(id, caller, asOf) {
      const { now, at } = await jobAsOf(id, caller, asOf);
      // the submit sequence is the job's for good (a compaction keeps it)
      return { ...toView(at.snapshot, now.submitSeq), asOf: at.info };
    },

    async historyAsOf(id, caller, asOf) {
      const { at } = await jobAsOf(id, caller, asOf);
      return { events: historyOf(at.records), asOf: at.info };
    },

    async deliveries(id, caller) {
      await reader.loadVisible(id, caller);
      const out: DeliveryEntry[] = [];
      for (const r of await eventLog.readSubject(jobHookSubject(id))) {
        for (const e of r.events) {
          if (e.type === 'WebhookDue') continue; // the deliverer's trigger (decision 0012 F4), not an attempt or a request
          out.push({ seq: r.seq, time: r.time, type: e.type as DeliveryEntry['type'], data: e.data, meta: { ...e.meta } });
        }
      }
      return out;
    },

    live({ caller, jobId, afterSeq, signal }) {
      const canSee = (e: JobEntry) => canSeeJob(caller, e.snapshot.context);
      const owner = listedOwner(caller, undefined);
      const stream = () => liveStream(
        { eventLog, projection, canSee, clock, ...(owner !== undefined ? { owner } : {}) },
        { signal, ...(jobId !== undefined ? { jobId } : {}), ...(afterSeq !== undefined ? { afterSeq } : {}) },
      );
      if (jobId === undefined) return stream();
      return (async function* visibleJob() {
        await reader.loadVisible(jobId, caller);
        yield* stream();
      })();
    },
  };
}
