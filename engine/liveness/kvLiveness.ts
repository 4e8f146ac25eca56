import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { Clock } from '../clock.ts';
import { toAppError } from '../nats/connection.ts';
import { backoffDelay, createPause, type Backoff } from '../retry.ts';
import { checkId, KV_LIVENESS } from '../subjects.ts';
import type { Liveness, LivenessEntry, ProcessKind } from './liveness.ts';

/** Options of {@link createKvLiveness}. */
export interface KvLivenessOptions {
  /** A connection the caller owns (close() leaves it open). */
  nc: NatsConnection;
  /** The observer's clock: staleness is measured with its monotonic(). */
  clock: Clock;
  /** @defaultValue 'liveness' */
  bucket?: string;
  /** Timeout of each KV request. @defaultValue 5000 */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** A failed watch is started again this long after, doubling (reset by a delivered entry). */
const WATCH_RESTART_BACKOFF: Backoff = { baseMs: 250, maxMs: 5_000 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Splits a key `coord.<id>` / `worker.<id>`; undefined for keys we did not write. */
export function parseLivenessKey(key: string): { kind: ProcessKind; id: string } | undefined {
  const dot = key.indexOf('.');
  const kind = key.slice(0, dot);
  if (dot < 1 || (kind !== 'coord' && kind !== 'worker')) return undefined;
  return { kind, id: key.slice(dot + 1) };
}

/** Applies one observed put / delete to a view keyed by `kind.id`; shared with memoryLiveness. */
export function observe(
  view: Map<string, LivenessEntry>,
  key: string,
  change: { revision: number; info: Record<string, unknown> } | undefined,
  nowMonotonic: number,
): void {
  const k = parseLivenessKey(key);
  if (k === undefined) return;
  if (change === undefined) {
    view.delete(key);
    return;
  }
  // only a new revision counts as a sign of life: a re-read of the same value does not
  if (view.get(key)?.revision === change.revision) return;
  view.set(key, { ...k, revision: change.revision, info: change.info, seenAtMonotonic: nowMonotonic });
}

/** Copies of the view's entries of `kind` (all kinds if undefined) seen within `timeoutMs`. */
export function selectAlive(view: Map<string, LivenessEntry>, kind: ProcessKind, timeoutMs: number, nowMonotonic: number): LivenessEntry[] {
  return [...view.values()].filter((e) => e.kind === kind && nowMonotonic - e.seenAtMonotonic <= timeoutMs).map((e) => ({ ...e }));
}

/**
 * Heartbeats in the KV bucket `liveness` (docs/architecture.md). Each observer watches the bucket and
 * records, by its own monotonic clock, when it saw a key's revision change: no host's wall
 * clock is trusted. The watch is restarted after every reconnect: if the server lost the
 * watcher's consumer, the client alone would notice only after missed heartbeats (10-60 s).
 */
export function createKvLiveness(opts: KvLivenessOptions): Liveness {
  const { nc, clock } = opts;
  const bucket = opts.bucket ?? KV_LIVENESS;
  const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const view = new Map<string, LivenessEntry>();
  let kvP: Promise<KV> | undefined;
  const kv = () => (kvP ??= new Kvm(jetstream(nc, { timeout })).open(bucket)).catch((err) => {
    kvP = undefined; // try again next time
    throw err;
  });
  let closed = false;
  let watch: QueuedIterator<KvWatchEntry> | undefined;
  /** The wait before restarting the watch; a reconnect or close() ends it. */
  const pause = createPause();
  const status = nc.status();
  // typed as a plain AsyncIterable, but it is the client's QueuedIterator, whose stop() ends it
  const stopStatus = () => (status as { stop?: () => void }).stop?.();

  function apply(e: KvWatchEntry): void {
    if (e.operation !== 'PUT') {
      observe(view, e.key, undefined, clock.monotonic());
      return;
    }
    let info: Record<string, unknown> = {};
    try {
      const v: unknown = JSON.parse(decoder.decode(e.value));
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) info = v as Record<string, unknown>;
    } catch {
      // a foreign value still proves the writer is alive
    }
    observe(view, e.key, { revision: e.revision, info }, clock.monotonic());
  }

  async function watchLoop(): Promise<void> {
    let failures = 0; // consecutive restarts without an entry delivered
    while (!closed) {
      try {
        const w = await (await kv()).watch({ key: '>' });
        watch = w;
        if (closed) w.stop();
        for await (const e of w) {
          apply(e);
          failures = 0;
        }
      } catch {
        // server down or bucket missing: retried below
      }
      watch = undefined;
      if (closed) break;
      await pause(backoffDelay(WATCH_RESTART_BACKOFF, failures));
      failures++;
    }
  }

  // after a reconnect the server may have lost the watcher's consumer: start a fresh watch now
  // (a re-read of unchanged keys does not refresh them: observe() compares revisions)
  void (async () => {
    for await (const s of status) {
      if (s.type !== 'reconnect') continue;
      watch?.stop();
      pause.wake();
    }
  })();
  void watchLoop();

  const keyOf = (kind: ProcessKind, id: string) => `${kind}.${checkId(id)}`;
  return {
    beat: async (kind, id, info) => {
      const key = keyOf(kind, id);
      try {
        await (await kv()).put(key, encoder.encode(JSON.stringify(info)), { timeout });
      } catch (err) {
        throw toAppError(err, `liveness beat ${key}`);
      }
    },
    leave: async (kind, id) => {
      const key = keyOf(kind, id);
      try {
        await (await kv()).delete(key);
      } catch (err) {
        throw toAppError(err, `liveness leave ${key}`);
      }
    },
    entries: () => [...view.values()].map((e) => ({ ...e, info: structuredClone(e.info) })),
    alive: (kind, timeoutMs) => selectAlive(view, kind, timeoutMs, clock.monotonic()),
    close: async () => {
      closed = true;
      stopStatus();
      watch?.stop();
      pause.wake();
    },
  };
}
