import type { Clock } from '../clock.ts';
import { checkId } from '../subjects.ts';
import { observe, selectAlive } from './kvLiveness.ts';
import type { Liveness, LivenessEntry, ProcessKind } from './liveness.ts';

type Change = { revision: number; info: Record<string, unknown> } | undefined;

/** The shared "bucket": processes of one simulation use one store, each with its own Liveness. */
export interface MemoryLivenessStore {
  /** Current values by key (`coord.<id>` / `worker.<id>`), as a KV bucket holds them. */
  readonly values: ReadonlyMap<string, { revision: number; info: Record<string, unknown> }>;
  /** Writes a value (undefined = delete) and notifies every watcher. */
  write(key: string, info: Record<string, unknown> | undefined): void;
  /** Calls `fn` on every later write; returns the unsubscribe function. */
  watch(fn: (key: string, change: Change) => void): () => void;
}

/** A new, empty store (one per simulated NATS cluster). */
export function createMemoryLivenessStore(): MemoryLivenessStore {
  const values = new Map<string, { revision: number; info: Record<string, unknown> }>();
  const watchers = new Set<(key: string, change: Change) => void>();
  let revision = 0;
  return {
    values,
    write: (key, info) => {
      revision++; // one counter for the bucket, like the KV stream's sequence
      const change = info === undefined ? undefined : { revision, info: structuredClone(info) };
      if (change === undefined) values.delete(key);
      else values.set(key, change);
      for (const w of [...watchers]) w(key, change);
    },
    watch: (fn) => {
      watchers.add(fn);
      return () => void watchers.delete(fn);
    },
  };
}

/** Options of {@link createMemoryLiveness}. */
export interface MemoryLivenessOptions {
  /** This observer's clock (staleness uses its monotonic()). */
  clock: Clock;
  /** Share one store between the simulated processes. @defaultValue a private store */
  store?: MemoryLivenessStore;
}

const hop = () => new Promise<void>((r) => queueMicrotask(r));

/**
 * Liveness over an in-memory store, with the KV version's semantics: an observer records, by its
 * own monotonic clock, when it saw each key's revision change; existing keys count as seen when
 * the observer starts.
 */
export function createMemoryLiveness(opts: MemoryLivenessOptions): Liveness {
  const { clock } = opts;
  const store = opts.store ?? createMemoryLivenessStore();
  const view = new Map<string, LivenessEntry>();
  for (const [key, v] of store.values) observe(view, key, v, clock.monotonic());
  // delivered a microtask later, as a watch update would be
  const unwatch = store.watch((key, change) => queueMicrotask(() => observe(view, key, change, clock.monotonic())));
  const keyOf = (kind: ProcessKind, id: string) => `${kind}.${checkId(id)}`;
  return {
    beat: async (kind, id, info) => {
      const key = keyOf(kind, id);
      await hop();
      store.write(key, info);
    },
    leave: async (kind, id) => {
      const key = keyOf(kind, id);
      await hop();
      if (store.values.has(key)) store.write(key, undefined);
    },
    entries: () => [...view.values()].map((e) => ({ ...e, info: structuredClone(e.info) })),
    alive: (kind, timeoutMs) => selectAlive(view, kind, timeoutMs, clock.monotonic()),
    close: async () => {
      unwatch();
    },
  };
}
