import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { AppError } from '../errors.ts';
import { toAppError } from '../nats/connection.ts';
import { backoffDelay, createPause, type Backoff } from '../retry.ts';
import { followFilters, subjectMatcher, type EventLog, type Follower, type FollowOptions, type LogRecord } from './eventLog.ts';
import { toRecord, type JetStreamLogContext } from './jetStreamLogContext.ts';

/** Messages per pull while following: large batches make replay fast (see the report in tests). */
const FOLLOW_BATCH = 2_000;
/** Messages held behind an async handler before the follower stops pulling (see run()). */
const HELD_MAX = 2 * FOLLOW_BATCH;
const FOLLOW_EXPIRES_MS = 5_000;
/** A follower's consumer left behind by a crash is removed by the server after this. */
const FOLLOW_INACTIVE_MS = 60_000;
/** A follower starts again after a failed pull this long after the last, doubling (reset by a record). */
const RESTART_BACKOFF: Backoff = { baseMs: 250, maxMs: 5_000 };

/**
 * The followers of the JetStream event log: each replays from its cursor on an ordered consumer,
 * then keeps following; a failed pull or a reconnect starts it again from the cursor after a pause.
 * `close` stops them all.
 */
export function createJetStreamFollowers(cx: JetStreamLogContext, lastSeq: () => Promise<number>): Pick<EventLog, 'follow' | 'close'> {
  const { js, stream, nc, onReconnect } = cx;
  const followers = new Set<Follower>();

  function follow(fromSeq: number, onRecord: (r: LogRecord) => void | Promise<void>, fo: FollowOptions = {}): Follower {
    // One filter goes to the server. Several are matched here, on every record: nats-server >= 2.11
    // finds each next message of a consumer with several filters by walking the subjects of the file
    // block it reads, thousands of steps per message on a job stream (docs/nats-notes.md, 2026-12-05:
    // a worker-only follower with three filters took 111 s for 200,000 records against 1.3 s unfiltered).
    const filters = followFilters(fo);
    const filter = filters?.length === 1 ? { filter_subjects: filters[0]! } : {};
    const wanted = filters !== undefined && filters.length > 1 ? subjectMatcher(filters) : undefined;
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
            ...filter,
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: cursor,
            inactive_threshold: FOLLOW_INACTIVE_MS,
          });
          current = { consumer };
          if (!stopped && !settled && (await consumer.info(true)).num_pending === 0) resolveCaughtUp();
          // Messages come to a callback: an async iterator costs a few turns of the microtask queue per
          // message (a fifth of the transport's CPU in replay). A handler that returns a promise holds the
          // messages after it until it settles; past HELD_MAX of them the consumer is closed (no more
          // pulls) and following starts again from the cursor once the handler is done.
          const t = target;
          let busy: Promise<void> | undefined;
          let overflowed = false;
          const held: JsMsg[] = [];
          const advance = (seq: number, m: JsMsg) => {
            delivered = seq;
            cursor = seq + 1;
            failures = 0;
            if (!settled && (seq >= t || m.info.pending === 0)) resolveCaughtUp();
          };
          // a malformed record or a throwing handler: retrying would not help (the caller's fail())
          const deliver = (m: JsMsg): Promise<void> | undefined => {
            if (wanted !== undefined && !wanted(m.subject)) {
              advance(m.seq, m); // not asked for: skipped undecoded
              return undefined;
            }
            const rec = toRecord(m);
            const done = onRecord(rec);
            if (done === undefined) {
              advance(rec.seq, m);
              return undefined;
            }
            return Promise.resolve(done).then(() => advance(rec.seq, m));
          };
          const drain = async (first: Promise<void>) => {
            try {
              await first;
              while (held.length > 0 && !stopped) await deliver(held.shift()!);
            } catch (err) {
              fail(err);
            } finally {
              busy = undefined;
            }
          };
          const onMessage = (m: JsMsg) => {
            if (stopped || overflowed) return;
            if (busy !== undefined) {
              if (held.length < HELD_MAX) held.push(m);
              else {
                overflowed = true; // this one and every later one come again after the restart
                void current.msgs?.close();
              }
              return;
            }
            try {
              const pending = deliver(m);
              if (pending !== undefined) busy = drain(pending);
            } catch (err) {
              fail(err);
            }
          };
          // expires bounds how long a pull may hang after a server restart (the client's default is 30 s)
          const msgs = stopped ? undefined : await consumer.consume({ max_messages: FOLLOW_BATCH, expires: FOLLOW_EXPIRES_MS, callback: onMessage });
          current = { consumer, msgs };
          if (stopped || msgs === undefined) {
            // stop() ran while we were creating these: it could not see them, so clean up here
            // (an open ordered consumer would even re-create a deleted consumer)
            void msgs?.close();
            await consumer.delete().catch(() => undefined);
            return;
          }
          await msgs.closed(); // stopped, closed after a reconnect or an overflow, or failed
          await busy; // a handler still running: start again after it, from its cursor
          if (stopped) return;
        } catch {
          // transient (server restart, timeout, consumer gone): retried below
        }
        // the consumer ended or creating it failed: start again from the cursor
        if (nc.isClosed()) {
          fail(new AppError('UNAVAILABLE', 'the NATS connection is closed'));
          return;
        }
        current.consumer?.delete().catch(() => undefined);
        if (!stopped) await pause(backoffDelay(RESTART_BACKOFF, failures));
        failures++;
      }
    }

    // After a reconnect the old consumer may be gone or stuck waiting on a pull the restarted server
    // never saw: close it so run() resumes from the cursor on a fresh consumer at once.
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
    follow,
    close: async () => {
      await Promise.all([...followers].map((f) => f.stop()));
    },
  };
}
