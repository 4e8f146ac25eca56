import { settleItem, type BatchItem, type BatchItemResult, type EventLog } from './eventLog.ts';
import type { JetStreamLogContext } from './jetStreamLogContext.ts';
import { AppError } from '../errors.ts';

/**
 * Group commit on the JetStream event log (first cut): every item is published in the same tick and
 * the acks are awaited together, so the client sends them in one socket write; each item keeps the
 * semantics of `append`.
 */
export function createJetStreamBatch(_cx: JetStreamLogContext, append: EventLog['append']): EventLog['appendBatch'] {
  return async (items: readonly BatchItem[]): Promise<BatchItemResult[]> => {
    if (items.some((i) => i.events.length === 0)) throw new AppError('INTERNAL', 'append needs at least one event');
    return Promise.all(items.map((i) => settleItem(() => append(i.subject, i.events, i.opts))));
  };
}
