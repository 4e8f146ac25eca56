/**
 * Commands on an existing job: read it, let the job's decider turn the command into events, and
 * append them with CAS on the job's `.ev` subject, re-reading and re-deciding when another writer
 * won the race (emmett's command handler: `handleCommand` in engine/retry.ts).
 */
import type { Envelope, EventMeta, JobEvent, WebhookRedeliveryRequested } from '../../actors/events.ts';
import { EVENT_SCHEMA_VERSION, TERMINAL_STATES } from '../../actors/events.ts';
import { decideFolded, type CommandMeta, type JobCommand } from '../../actors/decide.ts';
import type { JobSnapshot } from '../../actors/jobFold.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { EventLog } from '../eventlog/eventLog.ts';
import type { JobProjection } from '../projections/jobProjection.ts';
import { handleCommand } from '../retry.ts';
import type { By, JobService, JobView } from '../serviceTypes.ts';
import { jobEvSubject, jobHookSubject } from '../subjects.ts';
import { actorOf } from './access.ts';
import { toView, type JobReader, type LoadedJob } from './jobReader.ts';

/** Retries after a lost CAS race; with the first try, `MAX_CAS_RETRIES + 1` tries in all. */
const MAX_CAS_RETRIES = 8;

const DECISION_ERRORS = { JOB_NOT_FOUND: 'JOB_NOT_FOUND', JOB_COMPACTED: 'JOB_COMPACTED' } as const;

/** What a command decided to write: the events, and the state the decider folded them to. */
interface Decided {
  events: JobEvent[];
  state: JobSnapshot;
}

/** Who writes, when and why: the meta of the events a command decides. */
export function commandMeta(by: By, clock: Clock, causationId?: string): CommandMeta {
  return {
    actor: actorOf(by.caller),
    at: new Date(clock.now()).toISOString(),
    ...(by.reason !== undefined ? { reason: by.reason } : {}),
    ...(causationId !== undefined ? { causationId } : {}),
  };
}

export interface CommandHandler {
  /** Decides `cmd` on the job and appends the events with CAS; the job's view after them. */
  command(id: string, cmd: JobCommand, by: By): Promise<JobView>;
  /** Asks the deliverer to send a finished job's notification again. */
  redeliver: JobService['redeliver'];
}

export function createCommandHandler(
  deps: { eventLog: EventLog; projection: JobProjection; clock: Clock },
  reader: JobReader,
): CommandHandler {
  const { eventLog, projection, clock } = deps;

  async function command(id: string, cmd: JobCommand, by: By): Promise<JobView> {
    return handleCommand<LoadedJob, Decided, JobView>({
      // a retry follows a lost race: the projection may not show the winner yet
      read: (attempt) => reader.loadVisible(id, by.caller, attempt > 1),
      decide: ({ snapshot, submitSeq }) => {
        const d = decideFolded(cmd, snapshot, commandMeta(by, clock));
        if (!d.ok) {
          const code = d.code === 'JOB_NOT_FOUND' || d.code === 'JOB_COMPACTED' ? DECISION_ERRORS[d.code] : 'INVALID_TRANSITION';
          throw new AppError(code, `${cmd.kind}: ${d.message}`);
        }
        // nothing to write: the job as it is; otherwise `append` answers the view after the write
        return d.events.length === 0 ? { result: toView(snapshot, submitSeq) } : { write: { events: d.events, state: d.state } };
      },
      append: async ({ snapshot, lastEvSeq }, d) => {
        const r = await eventLog.append(jobEvSubject(id), d.events, { expectedLastSubjectSeq: lastEvSeq });
        if (!r.duplicate) projection.prefolded(r.seq, id, snapshot, d.state);
        return reader.viewAfter(id, r.seq);
      },
    }, { attempts: MAX_CAS_RETRIES + 1 });
  }

  async function redeliver(id: string, by: By & { target?: string }): Promise<void> {
    const { snapshot } = await reader.loadVisible(id, by.caller);
    if (!TERMINAL_STATES.has(snapshot.value)) {
      throw new AppError('INVALID_TRANSITION', `redeliver: job ${id} is ${snapshot.value}; notifications are sent once it finished`);
    }
    const cm = commandMeta(by, clock);
    const meta: EventMeta = { jobId: id, epoch: snapshot.context.epoch, actor: cm.actor, at: cm.at, v: EVENT_SCHEMA_VERSION };
    if (cm.reason !== undefined) meta.reason = cm.reason;
    const ev: WebhookRedeliveryRequested = { type: 'WebhookRedeliveryRequested', data: by.target !== undefined ? { target: by.target } : {}, meta };
    await eventLog.append(jobHookSubject(id), [ev as Envelope]);
  }

  return { command, redeliver };
}
