/**
 * Writes valid job histories straight into an event log (no service): each command goes through
 * actors/decide.ts and is appended with CAS, like the engine does. Shared by the live and webhook tests.
 */
import { randomUUID } from 'node:crypto';
import { decideFolded, type JobCommand } from '../../../../actors/decide.ts';
import type { JobSubmittedData } from '../../../../actors/events.ts';
import type { JobSnapshot } from '../../../../actors/jobFold.ts';
import type { EventLog } from '../../../../engine/eventlog/eventLog.ts';
import { jobEvSubject } from '../../../../engine/subjects.ts';

export interface JobWriter {
  submit(opts?: { owner?: string; callbackUrl?: string; jobId?: string }): Promise<string>;
  /** Decides and appends; returns the stream seq of the append (0 if decide emitted nothing). */
  command(jobId: string, cmd: JobCommand, actor?: string): Promise<number>;
  succeed(jobId: string): Promise<number>;
  fail(jobId: string): Promise<number>;
  stop(jobId: string): Promise<number>;
}

export function createJobWriter(eventLog: EventLog): JobWriter {
  const jobs = new Map<string, { s: JobSnapshot | undefined; lastSeq: number }>();
  const command = async (jobId: string, cmd: JobCommand, actor = 'test'): Promise<number> => {
    const j = jobs.get(jobId) ?? { s: undefined, lastSeq: 0 };
    const d = decideFolded(cmd, j.s, { actor, at: new Date().toISOString() });
    if (!d.ok) throw new Error(`${cmd.kind} refused: ${d.message}`);
    if (d.events.length === 0) return 0;
    const { seq } = await eventLog.append(jobEvSubject(jobId), d.events, { expectedLastSubjectSeq: j.lastSeq });
    jobs.set(jobId, { s: d.state, lastSeq: seq });
    return seq;
  };
  const writer: JobWriter = {
    async submit(opts = {}) {
      const jobId = opts.jobId ?? randomUUID();
      const data: JobSubmittedData = {
        jobId, type: 'noop', name: 'test', spec: {}, priority: 0, maxTaskAttempts: 1, maxFailedRatio: 0,
        requestHash: 'h', owner: opts.owner ?? 'alice',
        ...(opts.callbackUrl === undefined ? {} : { callbackUrl: opts.callbackUrl }),
      };
      await command(jobId, { kind: 'submit', data });
      return jobId;
    },
    command,
    async succeed(jobId) {
      await command(jobId, { kind: 'claim', coordinatorId: 'c1', tasks: [] });
      await command(jobId, { kind: 'startVerification' });
      return command(jobId, { kind: 'finish', outcome: 'succeeded' });
    },
    async fail(jobId) {
      await command(jobId, { kind: 'claim', coordinatorId: 'c1', tasks: [] });
      return command(jobId, { kind: 'finish', outcome: 'failed', error: { code: 'BOOM', message: 'failed on purpose' } });
    },
    stop: (jobId) => command(jobId, { kind: 'stop' }),
  };
  return writer;
}
