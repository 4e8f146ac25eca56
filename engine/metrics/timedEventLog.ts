import type { Counter, Histogram } from 'prom-client';
import { isAppError } from '../errors.ts';
import type { EventLog } from '../eventlog/eventLog.ts';

/** Event-log operations timed by {@link timedEventLog} (the `op` label). */
export type EventLogOp = 'append' | 'appendBatch' | 'readSubject' | 'lastSeq' | 'listSubjects' | 'purge';

/** Access kinds counted by {@link timedEventLog} (the `type` label), after Alluxio's list/get/transaction. */
export type EventLogAccess = 'append' | 'read' | 'list' | 'purge';

const ACCESS_OF: Readonly<Record<EventLogOp, EventLogAccess>> = { append: 'append', appendBatch: 'append', readSubject: 'read', lastSeq: 'list', listSubjects: 'list', purge: 'purge' };

/** Optional companions of the latency histogram. */
export interface TimedEventLogExtras {
  /** Counts every access by kind: append, read (readSubject), list (lastSeq, listSubjects and each follow() start), purge. */
  access?: Counter<'type'>;
  /** Counts failed operations by op and error code (`CONFLICT` = a lost CAS). */
  errors?: Counter<'op' | 'code'>;
  /** Monotonic ms. @defaultValue performance.now */
  now?: () => number;
}

/**
 * Wraps an event log so every append, readSubject, lastSeq, listSubjects and purge is timed into `latencyMs{op}`
 * (failures too: a slow timeout is latency an operator wants to see). Other members (follow, close,
 * and any an implementation adds) pass through unchanged.
 */
export function timedEventLog<L extends EventLog>(log: L, latencyMs: Histogram<'op'>, extras: TimedEventLogExtras = {}): L {
  const now = extras.now ?? (() => performance.now());
  async function timed<T>(op: EventLogOp, run: () => Promise<T>): Promise<T> {
    extras.access?.inc({ type: ACCESS_OF[op] });
    const t0 = now();
    try {
      return await run();
    } catch (err) {
      extras.errors?.inc({ op, code: isAppError(err) ? err.code : 'UNKNOWN' });
      throw err;
    } finally {
      latencyMs.observe({ op }, now() - t0);
    }
  }
  return {
    ...log,
    append: (subject, events, opts) => timed('append', () => log.append(subject, events, opts)),
    appendBatch: (items) => timed('appendBatch', () => log.appendBatch(items)),
    readSubject: (subject) => timed('readSubject', () => log.readSubject(subject)),
    lastSeq: () => timed('lastSeq', () => log.lastSeq()),
    listSubjects: (filter) => timed('listSubjects', () => log.listSubjects(filter)),
    purge: (subject) => timed('purge', () => log.purge(subject)),
    follow: (fromSeq, onRecord, opts) => {
      extras.access?.inc({ type: 'list' });
      return log.follow(fromSeq, onRecord, opts);
    },
  } satisfies EventLog as L;
}
