import type { MsgRequest } from '@nats-io/jetstream';
import type { Envelope } from '../../actors/events.ts';
import { AppError } from '../errors.ts';
import { toAppError } from '../nats/connection.ts';
import type { AppendOptions, AppendResult, EventLog } from './eventLog.ts';
import type { JetStreamLogContext } from './jetStreamLogContext.ts';

const encoder = new TextEncoder();

/**
 * Appends of the JetStream event log: one message per append (body = JSON array), CAS on the
 * subject's last sequence, dedup by msg id, and a retried append recognised as our own after a
 * CAS loss (docs/nats-notes.md, "Appends and CAS").
 */
export function createJetStreamAppend(cx: JetStreamLogContext): EventLog['append'] {
  const { jsm, stream, pubAcks, checkConnected } = cx;

  async function append(subject: string, events: readonly Envelope[], o: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) throw new AppError('INTERNAL', 'append needs at least one event');
    checkConnected(`append to ${subject}`);
    try {
      // the expectation is sent for any number, 0 included (0 = "no message on the subject yet")
      return await pubAcks.publish(subject, encoder.encode(JSON.stringify(events)), o, `append to ${subject}`);
    } catch (err) {
      const e = toAppError(err, `append to ${subject}`);
      // A retry of an append whose ack was lost: its expectation is stale because our own message
      // is stored. Servers answer `duplicate` or a CAS loss depending on version and topology
      // (docs/nats-notes.md), so look for our msg id rather than trust either.
      if (e.code === 'CONFLICT' && o.msgId !== undefined && o.expectedLastSubjectSeq !== undefined) {
        const own = await storedAfter(subject, o.expectedLastSubjectSeq, o.msgId);
        if (own !== undefined) return { seq: own, duplicate: true };
      }
      throw e;
    }
  }

  /**
   * The seq of our message if it was stored: a CAS append lands right after the message it
   * expected, so it is the first message on `subject` past `expected` (one request). Undefined
   * when that message is another writer's (we lost the race) or there is none.
   */
  async function storedAfter(subject: string, expected: number, msgId: string): Promise<number | undefined> {
    try {
      const m = await (await jsm()).streams.getMessage(stream, { next_by_subj: subject, seq: expected + 1 } as unknown as MsgRequest);
      return m !== null && m.header.get('Nats-Msg-Id') === msgId ? m.seq : undefined;
    } catch (err) {
      // unreachable: we cannot tell whether ours is stored, so the append is to be retried (an outage);
      // any other answer (e.g. no permission to read messages) keeps the conflict the server reported
      const e = toAppError(err, `look up ${msgId} on ${subject}`);
      if (e.code === 'UNAVAILABLE') throw e;
      return undefined;
    }
  }

  return append;
}
