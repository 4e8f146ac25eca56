import { headers, type NatsConnection } from '@nats-io/transport-node';
import {
  DeliverPolicy,
  jetstream,
  type Consumer,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type MsgRequest,
} from '@nats-io/jetstream';
import type { Envelope } from '../../actors/events.ts';
import { AppError } from '../errors.ts';
import { toAppError } from '../nats/connection.ts';
import { backoffDelay, createPause, type Backoff } from '../retry.ts';
import { STREAM_JOBS } from '../subjects.ts';
import { checkExactSubject, type AppendOptions, type AppendResult, type EventLog, type Follower, type FollowOptions, type LogRecord } from './eventLog.ts';

/** Options of {@link createJetStreamEventLog}. */
export interface JetStreamEventLogOptions {
  /** A connection the caller owns (close() leaves it open). */
  nc: NatsConnection;
  /** @defaultValue 'JOBS' */
  stream?: string;
  /** Timeout of each JetStream request (publish, info, consumer create). @defaultValue 5000 */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Messages per pull while following: large batches make replay fast (see the report in tests). */
const FOLLOW_BATCH = 2_000;
/** One pull of a subject read: short, see readSubject. */
const READ_PULL_MS = 1_000;
const READ_BATCH = 10_000;
const FOLLOW_EXPIRES_MS = 5_000;
/** A follower's consumer left behind by a crash is removed by the server after this. */
const FOLLOW_INACTIVE_MS = 60_000;
const READ_INACTIVE_MS = 10_000;
/** A follower starts again after a failed pull this long after the last, doubling (reset by a record). */
const RESTART_BACKOFF: Backoff = { baseMs: 250, maxMs: 5_000 };

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** `Nats-Rollup: sub` (the JOBS stream allows rollup headers): a fresh object per publish. */
function rollupHeaders() {
  const h = headers();
  h.set('Nats-Rollup', 'sub');
  return h;
}

/** Converts one stored message into a LogRecord; a body that is not a JSON array is INTERNAL. */
function toRecord(m: JsMsg): LogRecord {
  let events: unknown;
  try {
    events = JSON.parse(decoder.decode(m.data));
  } catch (err) {
    throw new AppError('INTERNAL', `record ${m.seq} on ${m.subject} is not JSON`, { cause: err });
  }
  if (!Array.isArray(events)) throw new AppError('INTERNAL', `record ${m.seq} on ${m.subject} is not an array`);
  const ms = Math.floor(m.info.timestampNanos / 1_000_000); // server receive time
  return { seq: m.seq, subject: m.subject, time: new Date(ms).toISOString(), events: events as Envelope[] };
}

/** The event store on a JetStream stream (docs/architecture.md): one message per append, body = JSON array. */
export function createJetStreamEventLog(opts: JetStreamEventLogOptions): EventLog {
  const stream = opts.stream ?? STREAM_JOBS;
  const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const js = jetstream(opts.nc, { timeout });
  let jsmP: Promise<JetStreamManager> | undefined;
  // checkAPI false: no account-info round trip; created once, lazily
  const jsm = () => (jsmP ??= js.jetstreamManager(false));
  const followers = new Set<Follower>();
  // While disconnected the client drops what it would send (see PITFALLS): fail fast instead of
  // making every caller wait for the request timeout, so the API answers 503 at once.
  let disconnected = false;
  /** Followers to restart from their cursor after a reconnect (see follow()). */
  const onReconnect = new Set<() => void>();
  void (async () => {
    for await (const s of opts.nc.status()) {
      if (s.type === 'disconnect') disconnected = true;
      else if (s.type === 'reconnect') {
        disconnected = false;
        for (const restart of onReconnect) restart();
      }
    }
  })().catch(() => undefined);
  const checkConnected = (what: string) => {
    if (disconnected) throw new AppError('UNAVAILABLE', `${what}: not connected to NATS`);
  };

  async function lastSeq(): Promise<number> {
    try {
      return (await (await jsm()).streams.info(stream)).state.last_seq;
    } catch (err) {
      throw toAppError(err, `stream info ${stream}`);
    }
  }

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

  async function append(subject: string, events: readonly Envelope[], o: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) throw new AppError('INTERNAL', 'append needs at least one event');
    checkConnected(`append to ${subject}`);
    try {
      const pa = await js.publish(subject, encoder.encode(JSON.stringify(events)), {
        timeout,
        // the client sends the header for any number, 0 included (0 = "no message on the subject yet")
        ...(o.expectedLastSubjectSeq !== undefined ? { expect: { lastSubjectSequence: o.expectedLastSubjectSeq } } : {}),
        ...(o.msgId !== undefined ? { msgID: o.msgId } : {}),
        ...(o.rollup === true ? { headers: rollupHeaders() } : {}),
      });
      return { seq: pa.seq, duplicate: pa.duplicate };
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

  async function purge(subject: string): Promise<void> {
    checkExactSubject(subject);
    checkConnected(`purge ${subject}`);
    try {
      await (await jsm()).streams.purge(stream, { filter: subject });
    } catch (err) {
      throw toAppError(err, `purge ${subject}`);
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

  function follow(fromSeq: number, onRecord: (r: LogRecord) => void | Promise<void>, fo: FollowOptions = {}): Follower {
    let stopped = false;
    let delivered = 0;
    let cursor = Math.max(1, fromSeq);
    let current: { consumer?: Consumer; msgs?: ConsumerMessages } = {};
    /** The wait before starting again; a reconnect or stop() ends it. */
    const pause = createPause();
    let settled = false;
    let resolveCaughtUp!: () => void;
    let rejectCaughtUp!: (e: unknown) => void;
    const caughtUp = new Promise<void>((res, rej) => {
      resolveCaughtUp = () => {
        settled = true;
        res();
      };
      rejectCaughtUp = (e) => {
        settled = true;
        rej(e);
      };
    });
    caughtUp.catch(() => undefined); // a caller who never awaits it must not see an unhandled rejection

    const fail = (err: unknown) => {
      if (stopped) return;
      const e = toAppError(err, 'follow');
      if (!settled) rejectCaughtUp(e);
      void follower.stop();
      fo.onError?.(e);
    };

    async function run(): Promise<void> {
      let target: number | undefined; // stream last_seq when follow() was called
      let failures = 0; // consecutive restarts without a record delivered
      while (!stopped) {
        try {
          if (target === undefined) {
            target = await lastSeq();
            if (target < cursor) resolveCaughtUp();
          }
          const consumer = await js.consumers.get(stream, {
            ...(fo.filter !== undefined ? { filter_subjects: fo.filter } : {}),
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: cursor,
            inactive_threshold: FOLLOW_INACTIVE_MS,
          });
          current = { consumer };
          if (!stopped && !settled && (await consumer.info(true)).num_pending === 0) resolveCaughtUp();
          // expires bounds how long a pull may hang after a server restart (the client's default is 30 s)
          const msgs = stopped ? undefined : await consumer.consume({ max_messages: FOLLOW_BATCH, expires: FOLLOW_EXPIRES_MS });
          current = { consumer, msgs };
          if (stopped || msgs === undefined) {
            // stop() ran while we were creating these: it could not see them, so clean up here
            // (an open ordered iterator would even re-create a deleted consumer)
            void msgs?.close();
            await consumer.delete().catch(() => undefined);
            return;
          }
          for await (const m of msgs) {
            if (stopped) return;
            let rec: LogRecord;
            try {
              rec = toRecord(m); // a malformed record or a throwing handler: retrying would not help
              await onRecord(rec);
            } catch (err) {
              fail(err);
              return;
            }
            delivered = rec.seq;
            cursor = rec.seq + 1;
            failures = 0;
            if (!settled && (rec.seq >= target || m.info.pending === 0)) resolveCaughtUp();
          }
        } catch {
          // transient (server restart, timeout, consumer gone): retried below
        }
        // the iterator ended or creating the consumer failed: start again from the cursor
        if (opts.nc.isClosed()) {
          fail(new AppError('UNAVAILABLE', 'the NATS connection is closed'));
          return;
        }
        current.consumer?.delete().catch(() => undefined);
        if (!stopped) await pause(backoffDelay(RESTART_BACKOFF, failures));
        failures++;
      }
    }

    // After a reconnect the old consumer may be gone or stuck waiting on a pull the restarted server
    // never saw: end the iteration so run() resumes from the cursor on a fresh consumer at once.
    const restart = () => {
      void current.msgs?.close();
      pause.wake();
    };
    onReconnect.add(restart);

    let stopping: Promise<void> | undefined;
    const follower: Follower = {
      caughtUp,
      lastDelivered: () => delivered,
      stop: () =>
        (stopping ??= (async () => {
          stopped = true;
          followers.delete(follower);
          onReconnect.delete(restart);
          pause.wake();
          if (!settled) rejectCaughtUp(new AppError('UNAVAILABLE', 'follower stopped before catching up'));
          // not awaiting close(): its promise settles only once the loop takes the next message,
          // which never happens if stop() is called from inside onRecord
          void current.msgs?.close();
          await current.consumer?.delete().catch(() => undefined);
        })()),
    };
    followers.add(follower);
    void run();
    return follower;
  }

  return {
    append,
    purge,
    readSubject,
    lastSeq,
    listSubjects,
    follow,
    close: async () => {
      await Promise.all([...followers].map((f) => f.stop()));
    },
  };
}
