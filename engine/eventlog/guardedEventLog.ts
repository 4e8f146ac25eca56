import { AppError } from '../errors.ts';
import type { EventLog } from './eventLog.ts';

/**
 * Once the store is known to be lost (the store guard's reason), no write may start the history
 * over: appends, purges and subject listings fail with STATE_STORE_RESET. Reads pass through.
 */
export function guardedEventLog<L extends EventLog>(log: L, resetReason: () => string | null): L {
  const refuseAfterReset = () => {
    const why = resetReason();
    if (why) throw new AppError('STATE_STORE_RESET', why);
  };
  return {
    ...log,
    append: (subject, events, opts) => {
      refuseAfterReset();
      return log.append(subject, events, opts);
    },
    appendBatch: (items) => {
      refuseAfterReset();
      return log.appendBatch(items);
    },
    purge: (subject) => {
      refuseAfterReset();
      return log.purge(subject);
    },
    // a reset store holds none of our jobs: retention must not conclude they were all removed
    listSubjects: (filter) => {
      refuseAfterReset();
      return log.listSubjects(filter);
    },
  };
}
