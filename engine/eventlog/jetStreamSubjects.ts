import { toAppError } from '../nats/connection.ts';
import { checkExactSubject, type EventLog } from './eventLog.ts';
import type { JetStreamLogContext } from './jetStreamLogContext.ts';

/** The subjects of the JetStream event log: which ones hold records, and emptying one (retention). */
export function createJetStreamSubjects(cx: JetStreamLogContext): Pick<EventLog, 'listSubjects' | 'purge'> {
  const { jsm, stream, checkConnected } = cx;

  async function listSubjects(filter: string): Promise<Set<string>> {
    checkConnected(`list ${filter}`);
    try {
      // the client pages through large answers (the server sends at most 100,000 subjects a page)
      const si = await (await jsm()).streams.info(stream, { subjects_filter: filter });
      return new Set(Object.keys(si.state.subjects ?? {}));
    } catch (err) {
      throw toAppError(err, `list subjects ${filter} of ${stream}`);
    }
  }

  async function purge(subject: string): Promise<void> {
    checkExactSubject(subject);
    checkConnected(`purge ${subject}`);
    try {
      await (await jsm()).streams.purge(stream, { filter: subject });
    } catch (err) {
      throw toAppError(err, `purge ${subject}`);
    }
  }

  return { listSubjects, purge };
}
