import { DeliverPolicy, type Consumer } from '@nats-io/jetstream';
import { AppError } from '../errors.ts';
import { toAppError } from '../nats/connection.ts';
import type { EventLog, LogRecord } from './eventLog.ts';
import { toRecord, type JetStreamLogContext } from './jetStreamLogContext.ts';

/** One pull of a subject read: short, see readSubject. */
const READ_PULL_MS = 1_000;
const READ_BATCH = 10_000;
const READ_INACTIVE_MS = 10_000;

/** Reads of the JetStream event log: one subject's records, the stream head. */
export function createJetStreamReads(cx: JetStreamLogContext): Pick<EventLog, 'readSubject' | 'lastSeq'> {
  const { js, jsm, stream, timeout, checkConnected } = cx;

  async function lastSeq(): Promise<number> {
    try {
      return (await (await jsm()).streams.info(stream)).state.last_seq;
    } catch (err) {
      throw toAppError(err, `stream info ${stream}`);
    }
  }

  async function readSubject(subject: string): Promise<LogRecord[]> {
    checkConnected(`read ${subject}`);
    let consumer: Consumer | undefined;
    try {
      // an ordered consumer: the server reports how many messages match (num_pending), so an
      // empty subject costs no wait, and it re-creates itself if a message is lost in transit
      consumer = await js.consumers.get(stream, {
        filter_subjects: subject,
        deliver_policy: DeliverPolicy.All,
        inactive_threshold: READ_INACTIVE_MS,
      });
      let remaining = (await consumer.info(true)).num_pending;
      const out: LogRecord[] = [];
      const deadline = Date.now() + timeout;
      while (remaining > 0) {
        const before = out.length;
        // A short pull: if a purge or rollup removed the messages counted above, a long one would
        // wait for its whole expiry for messages that no longer exist (a history read racing a
        // compaction took 5 s). An empty pull asks the server again how many are left.
        const iter = await consumer.fetch({ max_messages: Math.min(remaining, READ_BATCH), expires: READ_PULL_MS });
        for await (const m of iter) {
          out.push(toRecord(m));
          remaining = m.info.pending === 0 ? 0 : remaining - 1;
          if (remaining === 0) break;
        }
        if (out.length === before) {
          remaining = (await consumer.info(true)).num_pending; // 0 once they were removed
          if (remaining > 0 && Date.now() > deadline) throw new AppError('UNAVAILABLE', `read ${subject}: ${remaining} messages not delivered within ${timeout} ms`);
        }
      }
      return out;
    } catch (err) {
      throw toAppError(err, `read ${subject}`);
    } finally {
      // not awaited: one round trip less per read; inactive_threshold removes it if this fails
      consumer?.delete().catch(() => undefined);
    }
  }

  return { readSubject, lastSeq };
}
