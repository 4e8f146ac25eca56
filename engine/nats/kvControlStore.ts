/**
 * The ControlStore over the `control` KV bucket: every process mirrors the whole bucket in memory
 * through a watch, so reads are local and synchronous; writes go to NATS (CAS on the key's
 * revision) and are applied to the local mirror as soon as NATS acknowledges them
 * (read-your-writes), before the watch echoes them back.
 */
import { Empty, headers, type NatsConnection, type QueuedIterator } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { ControlChangeListener, ControlStore, Versioned } from '../controlstore/controlStore.ts';
import { KV_CONTROL } from '../subjects.ts';
import { toAppError } from './connection.ts';
import { backoffDelay, createPause, type Backoff } from '../retry.ts';

/** The pino method we use. */
interface WarnLogger {
  warn(obj: Record<string, unknown>, msg?: string): void;
}

/** Options of {@link createKvControlStore}. */
export interface KvControlStoreOptions {
  /** A connection the caller owns (close() leaves it open). */
  nc: NatsConnection;
  /** @defaultValue 'control' */
  bucket?: string;
  /** Timeout of each KV request. @defaultValue 5000 */
  requestTimeoutMs?: number;
  /** Receives notices about values that are not JSON and watch restarts. */
  logger?: WarnLogger;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** A failed watch is started again this long after, doubling (reset by a delivered entry). */
const WATCH_RESTART_BACKOFF: Backoff = { baseMs: 250, maxMs: 5_000 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A ControlStore backed by a KV bucket; `ready` resolves once the mirror holds the bucket's content. */
export function createKvControlStore(opts: KvControlStoreOptions): ControlStore {
  const { nc } = opts;
  const bucket = opts.bucket ?? KV_CONTROL;
  const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const mirror = new Map<string, Versioned<unknown>>();
  /**
   * Revision of the latest known delete of a key, so that an older value arriving late (from the
   * watch, or from a local write that raced the delete) cannot bring it back. Pruned once the watch
   * has passed it and no local write is in flight.
   */
  const tombstones = new Map<string, number>();
  let inflight = 0;
  const listeners = new Set<ControlChangeListener>();
  /** Highest bucket revision the watch delivered: a restarted watch resumes after it. */
  let watermark = 0;
  let closed = false;
  let watch: QueuedIterator<KvWatchEntry> | undefined;
  /** The wait before restarting the watch; a reconnect or close() ends it. */
  const pause = createPause();
  let markReady!: () => void;
  const ready = new Promise<void>((res) => (markReady = res));

  const js: JetStreamClient = jetstream(nc, { timeout });
  let kvP: Promise<KV> | undefined;
  const kv = () =>
    (kvP ??= new Kvm(js).open(bucket)).catch((err: unknown) => {
      kvP = undefined; // try again next time
      throw err;
    });

  const emit = (key: string, value: unknown) => {
    for (const l of listeners) {
      try {
        l(key, value === undefined ? undefined : clone(value));
      } catch (err) {
        opts.logger?.warn({ err, key }, 'control store listener threw');
      }
    }
  };

  function pruneTombstones(): void {
    if (inflight > 0 || tombstones.size === 0) return;
    for (const [key, rev] of tombstones) if (rev <= watermark) tombstones.delete(key);
  }

  /** True when the mirror already knows something newer about `key` than `revision`. */
  function stale(key: string, revision: number): boolean {
    const cur = mirror.get(key);
    return (cur !== undefined && cur.revision >= revision) || (tombstones.get(key) ?? 0) > revision;
  }

  function applyDelete(key: string, revision: number): void {
    tombstones.set(key, Math.max(revision, tombstones.get(key) ?? 0));
    const cur = mirror.get(key);
    if (cur === undefined || cur.revision > revision) return;
    mirror.delete(key);
    emit(key, undefined);
  }

  /** Applies a write this process made; a newer revision already mirrored wins. */
  function applyLocal(key: string, value: unknown, revision: number): void {
    if (stale(key, revision)) return;
    mirror.set(key, { value: clone(value), revision });
    emit(key, value);
  }

  function applyWatched(e: KvWatchEntry): void {
    watermark = Math.max(watermark, e.revision);
    const key = e.key;
    if (e.operation !== 'PUT') {
      applyDelete(key, e.revision);
      pruneTombstones();
      return;
    }
    // an older value of a key deleted (or rewritten) here must not come back
    if (stale(key, e.revision)) return;
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(e.value));
    } catch {
      opts.logger?.warn({ key, revision: e.revision }, 'control store: ignoring a value that is not JSON');
      return;
    }
    mirror.set(key, { value, revision: e.revision });
    emit(key, value);
    pruneTombstones();
  }

  /** Runs a write, counted as in flight (tombstones stay until it is applied). */
  async function write<T>(what: string, fn: () => Promise<T>, apply: (result: T) => void): Promise<T> {
    inflight++;
    try {
      let result: T;
      try {
        result = await fn();
      } catch (err) {
        throw toAppError(err, what);
      }
      apply(result);
      return result;
    } finally {
      inflight--;
      pruneTombstones();
    }
  }

  async function watchLoop(): Promise<void> {
    let failures = 0; // consecutive restarts without an entry delivered
    while (!closed) {
      try {
        const store = await kv();
        // The first watch delivers the last value of every key; a restarted one every change since.
        const first = watermark === 0;
        const lastSeq = first ? (await store.status()).streamInfo.state.last_seq : 0;
        const w = await store.watch({ key: '>', ...(first ? {} : { resumeFromRevision: watermark + 1 }) });
        watch = w;
        if (closed) w.stop();
        if (lastSeq === 0) markReady();
        for await (const e of w) {
          applyWatched(e);
          if (e.delta === 0 || watermark >= lastSeq) markReady();
          failures = 0;
        }
      } catch (err) {
        if (!closed) opts.logger?.warn({ err }, 'control store watch failed; retrying');
      }
      watch = undefined;
      if (closed) break;
      await pause(backoffDelay(WATCH_RESTART_BACKOFF, failures));
      failures++;
    }
  }

  // After a reconnect the server may have lost the watcher's consumer: resume with a fresh one.
  const status = nc.status();
  const stopStatus = () => (status as { stop?: () => void }).stop?.();
  void (async () => {
    for await (const s of status) {
      if (s.type !== 'reconnect') continue;
      watch?.stop();
      pause.wake();
    }
  })();
  void watchLoop();

  const encode = (value: unknown) => encoder.encode(JSON.stringify(value));

  return {
    ready,
    get<T>(key: string): Versioned<T> | undefined {
      const v = mirror.get(key);
      return v === undefined ? undefined : { value: clone(v.value) as T, revision: v.revision };
    },
    count(prefix) {
      let n = 0;
      for (const k of mirror.keys()) if (k.startsWith(prefix)) n++;
      return n;
    },
    list<T>(prefix: string) {
      return [...mirror.entries()]
        .filter(([k]) => k.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, v]) => ({ key, value: clone(v.value) as T, revision: v.revision }));
    },
    async create(key, value) {
      const encoded = encode(value);
      return write(`control create ${key}`, async () => (await kv()).create(key, encoded), (rev) => applyLocal(key, value, rev));
    },
    async update(key, value, revision) {
      if (revision === 0) return this.create(key, value);
      const encoded = encode(value);
      return write(`control update ${key}`, async () => (await kv()).update(key, encoded, revision, timeout), (rev) => applyLocal(key, value, rev));
    },
    async delete(key) {
      await write(
        `control delete ${key}`,
        async () => {
          await kv(); // the bucket must exist (a publish would otherwise fail with no responders)
          // KV's own delete (ADR-8: a `KV-Operation: DEL` marker), published here to learn its revision
          const h = headers();
          h.set('KV-Operation', 'DEL');
          return (await js.publish(`$KV.${bucket}.${key}`, Empty, { headers: h, timeout })).seq;
        },
        (rev) => applyDelete(key, rev),
      );
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      stopStatus();
      watch?.stop();
      pause.wake();
    },
  };
}
