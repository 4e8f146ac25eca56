/**
 * The coordinator's only way to change a job: commands decided on the snapshot it read and appended
 * with a CAS on the job's subject (expected = the last sequence it saw), so a deposed owner cannot
 * write. While an append is unacknowledged or not yet in the projection the job is `busy`: it is
 * neither driven nor claimed again.
 */
import type { JobEvent } from '../../actors/events.ts';
import { decideFolded, type JobCommand } from '../../actors/decide.ts';
import type { JobSnapshot } from '../../actors/jobFold.ts';
import { isAppError } from '../errors.ts';
import type { JobEntry } from '../projections/jobProjection.ts';
import { jobEvSubject } from '../subjects.ts';
import type { CoordinatorContext } from './context.ts';

const IN_FLIGHT = Number.POSITIVE_INFINITY;
/** After a lost CAS race: re-drive once the projection has (very likely) moved. */
const CONFLICT_REDRIVE_MS = 10;

export interface FencedWriter {
  /** Decide `cmds` in order on the current snapshot and append all resulting events in one CAS write. */
  write(e: JobEntry, cmds: JobCommand[], reason?: string): Promise<boolean>;
  /** True while our write on the job is in flight or not yet in the projection. */
  busy(jobId: string): boolean;
  /** The projection applied the job's record at `seq`: our write is settled once it reaches ours. */
  projected(jobId: string, seq: number): void;
}

export function createFencedWriter(cx: CoordinatorContext): FencedWriter {
  const { eventLog, projection, clock, config, log, actor } = cx;
  /** jobId → seq our append got (IN_FLIGHT while unacknowledged); cleared when the projection has it. */
  const writing = new Map<string, number>();

  /** Our write is in the projection: the job may be driven (or claimed) again. */
  function settle(jobId: string) {
    writing.delete(jobId);
    cx.wake.markDirty(jobId);
    cx.wake.scheduleClaims();
  }

  async function write(e: JobEntry, cmds: JobCommand[], reason?: string): Promise<boolean> {
    const base = e.snapshot;
    let s: JobSnapshot = base;
    const events: JobEvent[] = [];
    for (const cmd of cmds) {
      const d = decideFolded(cmd, s, cx.meta(reason));
      if (!d.ok) {
        log.warn({ jobId: e.id, cmd: cmd.kind, code: d.code, msg: d.message }, 'command refused');
        return false;
      }
      s = d.state;
      events.push(...d.events);
    }
    if (events.length === 0) return true;
    writing.set(e.id, IN_FLIGHT);
    const expected = e.lastEvSeq;
    try {
      const res = await eventLog.append(jobEvSubject(e.id), events, {
        expectedLastSubjectSeq: expected,
        msgId: `${cmds.map((c) => c.kind).join('+')}:${actor}:${e.id}:${expected}`,
      });
      if (!res.duplicate) projection.prefolded(res.seq, e.id, base, s);
      // The follower may have applied our record before the ack arrived: then settle now.
      if (projection.lastSeq() >= res.seq) settle(e.id);
      else writing.set(e.id, res.seq);
      return true;
    } catch (err) {
      writing.delete(e.id);
      // Never retry at once: with the store down every append fails immediately, and an immediate
      // claim pass would spin without yielding to timers or the NATS client (seen in fault tests).
      cx.wake.retryClaimsLater();
      if (isAppError(err, 'CONFLICT')) {
        log.debug({ jobId: e.id, expected }, 'lost a CAS race; will re-read');
      } else {
        log.warn({ jobId: e.id, err }, 'append failed; will retry');
      }
      // Re-drive once the projection has moved (or after a backoff if the store is down).
      clock.setTimeout(() => cx.wake.markDirty(e.id), isAppError(err, 'CONFLICT') ? CONFLICT_REDRIVE_MS : config.retryBackoffMs);
      return false;
    }
  }

  return {
    write,
    busy: (jobId) => writing.has(jobId),
    projected(jobId, seq) {
      const w = writing.get(jobId);
      if (w !== undefined && w !== IN_FLIGHT && seq >= w) writing.delete(jobId);
    },
  };
}
