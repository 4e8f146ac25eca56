/**
 * The control plane's small shared state: users, tokens, virtual clusters, global webhooks and
 * settings, as JSON values under dotted keys. Backed by the `control` KV bucket (JetStream) and
 * mirrored in memory by every process through a watch, so reads are local and synchronous; writes
 * are CAS on the key's revision. An in-memory implementation serves unit tests and simulation.
 *
 * Keys (every segment after the prefix is validated before use; never raw user text):
 *   user.<name>       UserRecord            name: ^[A-Za-z][A-Za-z0-9_-]{0,31}$
 *   token.<sha256hex> TokenRecord           the token itself is never stored
 *   vc.<name>         VirtualClusterDef     name: ^[a-z][a-z0-9_-]{0,31}$
 *   hook.<id>         WebhookDef            id: generated
 *   setting.<name>    unknown               e.g. setting.callbackSecret
 *   doc.<ns>.<uuid>   a facade's document   engine/documents/documentStore.ts (e.g. a Teraslice job)
 */
import { AppError } from '../errors.ts';

export interface Versioned<T> {
  value: T;
  revision: number;
}

/** Called after every change the mirror applies (local or remote); `value` undefined = deleted. */
export type ControlChangeListener = (key: string, value: unknown) => void;

export interface ControlStore {
  /** Resolves once the mirror holds every key that existed at start. */
  readonly ready: Promise<void>;
  get<T>(key: string): Versioned<T> | undefined;
  /** Every entry whose key starts with `prefix` (e.g. `user.`), in key order. */
  list<T>(prefix: string): { key: string; value: T; revision: number }[];
  /** How many entries have keys starting with `prefix` (no copies made). */
  count(prefix: string): number;
  /** Creates the key; AppError('CONFLICT') if it exists. Applied to the local mirror before resolving. */
  create(key: string, value: unknown): Promise<number>;
  /** Writes if the key is still at `revision` (0 = must not exist); AppError('CONFLICT') otherwise. */
  update(key: string, value: unknown, revision: number): Promise<number>;
  /** Deletes the key (no error if absent). */
  delete(key: string): Promise<void>;
  onChange(listener: ControlChangeListener): () => void;
  close(): Promise<void>;
}

/** Names of virtual clusters (and settings): safe in a KV key and a NATS subject. */
export const NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;
/**
 * Names of users: like {@link NAME_RE} with upper-case letters too (OpenPAI's SDK tests create
 * `nonadminTestUser`). Case-sensitive: `Alice` and `alice` are two users.
 */
export const USER_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/** The key for `prefix.name`, refusing any name that is not USER_NAME_RE or NAME_RE (or hex for tokens, generated ids for hooks). */
export function controlKey(prefix: 'user' | 'vc' | 'token' | 'hook' | 'setting', name: string): string {
  const ok =
    prefix === 'token' ? /^[0-9a-f]{64}$/.test(name)
    : prefix === 'hook' ? /^[A-Za-z0-9_-]{1,64}$/.test(name)
    : prefix === 'user' ? USER_NAME_RE.test(name)
    : NAME_RE.test(name) || (prefix === 'setting' && /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name));
  if (!ok) throw new AppError('VALIDATION_FAILED', `not a valid ${prefix} name: ${JSON.stringify(name.slice(0, 80))}`);
  return `${prefix}.${name}`;
}

/** A ControlStore in process memory (unit tests, simulation). */
export function createMemoryControlStore(): ControlStore {
  const data = new Map<string, Versioned<unknown>>();
  const listeners = new Set<ControlChangeListener>();
  let rev = 0;
  const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
  const emit = (key: string, value: unknown) => {
    for (const l of listeners) l(key, value);
  };
  return {
    ready: Promise.resolve(),
    get<T>(key: string) {
      const v = data.get(key);
      return v ? { value: clone(v.value) as T, revision: v.revision } : undefined;
    },
    count(prefix) {
      let n = 0;
      for (const k of data.keys()) if (k.startsWith(prefix)) n++;
      return n;
    },
    list<T>(prefix: string) {
      return [...data.entries()]
        .filter(([k]) => k.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, v]) => ({ key, value: clone(v.value) as T, revision: v.revision }));
    },
    async create(key, value) {
      if (data.has(key)) throw new AppError('CONFLICT', `${key} exists`);
      data.set(key, { value: clone(value), revision: ++rev });
      emit(key, clone(value));
      return rev;
    },
    async update(key, value, revision) {
      const cur = data.get(key);
      if ((cur?.revision ?? 0) !== revision) throw new AppError('CONFLICT', `${key} changed`);
      data.set(key, { value: clone(value), revision: ++rev });
      emit(key, clone(value));
      return rev;
    },
    async delete(key) {
      if (data.delete(key)) emit(key, undefined);
    },
    onChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async close() {},
  };
}
