import type { Envelope } from '../../actors/events.ts';
import { AppError } from '../errors.ts';

/** One stored NATS message: one or more events appended atomically to one subject. */
export interface LogRecord {
  /** Stream sequence (1-based, strictly increasing across the whole stream). */
  seq: number;
  subject: string;
  /** Server receive time, ISO-8601. */
  time: string;
  events: Envelope[];
}

export interface AppendOptions {
  /**
   * CAS: the append succeeds only if the last message on `subject` has this sequence
   * (0 = no message on the subject yet). A loss throws AppError('CONFLICT').
   */
  expectedLastSubjectSeq?: number;
  /** Dedup id (Nats-Msg-Id): a second append with the same id inside the window is a no-op. */
  msgId?: string;
  /**
   * Rollup (JetStream `Nats-Rollup: sub`): once stored, this record is the only one left on
   * `subject`; the older ones are deleted. Combines with `expectedLastSubjectSeq`: a stale
   * expectation fails with CONFLICT and rolls up nothing. Retention compacts a job with it.
   */
  rollup?: boolean;
}

export interface AppendResult {
  seq: number;
  /** True when `msgId` matched an earlier append; `seq` is then that append's sequence. */
  duplicate: boolean;
}

/** One record of {@link EventLog.appendBatch}: what {@link EventLog.append} takes. */
export interface BatchItem {
  subject: string;
  events: readonly Envelope[];
  opts?: AppendOptions;
}

/** The outcome of one {@link BatchItem}: what `append` would have returned, or the AppError it would have thrown. */
export type BatchItemResult = { ok: true; result: AppendResult } | { ok: false; error: AppError };

export interface Follower {
  /** Resolves once every record that existed when follow() was called has been delivered. */
  readonly caughtUp: Promise<void>;
  /** Sequence of the last record delivered (0 if none). */
  lastDelivered(): number;
  stop(): Promise<void>;
}

export interface FollowOptions {
  /** Subject filter with NATS wildcards (default: every subject of the stream). */
  filter?: string;
  /**
   * Several subject filters (NATS wildcards, none overlapping another): a record is delivered when
   * it matches one. Not with `filter`. On JetStream they are matched by the follower, which reads
   * every record: a consumer with several filters costs nats-server ≥ 2.11 a walk over a file block's
   * subjects per message (docs/nats-notes.md). A worker-only process follows what its slim job view
   * reads (engine/startRoles.ts).
   */
  filterSubjects?: readonly string[];
  /** Called when following breaks for good (the follower retries transient errors itself). */
  onError?: (err: unknown) => void;
}

/**
 * The event store. Two implementations (JetStream and in-memory) pass one contract suite
 * (test/contract/eventLog.contract.ts). All errors are AppErrors: CONFLICT on a CAS loss,
 * UNAVAILABLE when the store cannot be reached.
 */
export interface EventLog {
  append(subject: string, events: readonly Envelope[], opts?: AppendOptions): Promise<AppendResult>;
  /**
   * Group commit: the items in as few round trips as the store allows, each one with the semantics of
   * `append` on its own (its CAS, msg id and rollup decide for it alone; one item's conflict does not fail
   * the others). The results come back in item order; the items that succeed are stored in item order.
   * Rejects only for a misuse (an item without events: INTERNAL); every store error is an item's result.
   */
  appendBatch(items: readonly BatchItem[]): Promise<BatchItemResult[]>;
  /**
   * Deletes every record on exactly `subject` (no wildcards); a no-op when there are none. The
   * subject's last sequence goes back to 0 (a CAS with 0 succeeds again), so purge only subjects
   * nothing will append to with CAS any more (terminal jobs). The stream's lastSeq is unchanged.
   * Followers are not told: a deleted record not yet delivered is simply never delivered.
   */
  purge(subject: string): Promise<void>;
  /** Every record on one exact subject, oldest first. Empty if none. */
  readSubject(subject: string): Promise<LogRecord[]>;
  /** Sequence of the last record in the stream (0 when empty). */
  lastSeq(): Promise<number>;
  /**
   * The subjects matching `filter` (NATS wildcards) that hold at least one record now. A follower
   * that skipped deleted records reconciles with it (retention.ts): a job whose `.ev` subject is
   * gone was removed, even if the records saying so were deleted before it could read them.
   */
  listSubjects(filter: string): Promise<Set<string>>;
  /**
   * Deliver every record with seq >= fromSeq in order, then keep delivering new ones live.
   * `onRecord` is awaited before the next record is delivered.
   */
  follow(fromSeq: number, onRecord: (r: LogRecord) => void | Promise<void>, opts?: FollowOptions): Follower;
  close(): Promise<void>;
}

/** Runs `run` and folds its outcome into a {@link BatchItemResult}; a non-AppError becomes INTERNAL. */
export async function settleItem(run: () => Promise<AppendResult>): Promise<BatchItemResult> {
  try {
    return { ok: true, result: await run() };
  } catch (err) {
    return { ok: false, error: err instanceof AppError ? err : new AppError('INTERNAL', 'append failed', { cause: err }) };
  }
}

/** The subject filters of a follow (undefined: every subject). Throws INTERNAL for both options, or an empty list. */
export function followFilters(fo: FollowOptions): readonly string[] | undefined {
  if (fo.filterSubjects === undefined) return fo.filter === undefined ? undefined : [fo.filter];
  if (fo.filter !== undefined || fo.filterSubjects.length === 0) {
    throw new AppError('INTERNAL', 'follow takes `filter` or a non-empty `filterSubjects`, not both');
  }
  return fo.filterSubjects;
}

/** Purge takes one exact subject: a wildcard would delete other jobs' history. Throws INTERNAL. */
export function checkExactSubject(subject: string): void {
  if (subject === '' || /[\s*>]/.test(subject) || subject.split('.').some((t) => t === '')) {
    throw new AppError('INTERNAL', `purge needs one exact subject, got ${JSON.stringify(subject)}`);
  }
}

/** NATS subject matching: `*` is one token, a trailing `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  return tokensMatch(filter.split('.'), subject.split('.'));
}

/** A test for "matches one of `filters`", with the filters split once (a follower runs it on every record). */
export function subjectMatcher(filters: readonly string[]): (subject: string) => boolean {
  const split = filters.map((f) => f.split('.'));
  return (subject) => {
    const s = subject.split('.');
    return split.some((f) => tokensMatch(f, s));
  };
}

function tokensMatch(f: readonly string[], s: readonly string[]): boolean {
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
