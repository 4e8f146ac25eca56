/**
 * Small durable documents the facades keep beside the jobs: a Teraslice job definition (a job that
 * may have no execution yet), and the like. Stored in the control KV bucket under
 * `doc.<namespace>.<id>` (so every API process reads them from its local mirror and after a
 * restart), written with CAS on the revision. Namespaces and ids are checked before they become part
 * of a key: a namespace is a short lower-case word, an id a lowercase UUID.
 */
import type { ControlStore, Versioned } from '../controlstore/controlStore.ts';
import { AppError } from '../errors.ts';

/** Largest document (its JSON) a facade may store. */
export const MAX_DOCUMENT_BYTES = 256 * 1024;

const NAMESPACE_RE = /^[a-z]{1,16}$/;
/** A document id: a lowercase UUID. */
export const DOCUMENT_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface DocumentStore {
  get<T>(namespace: string, id: string): Versioned<T> | undefined;
  /** Every document of the namespace, in id order. */
  list<T>(namespace: string): { id: string; value: T; revision: number }[];
  /** How many documents the namespace holds. */
  count(namespace: string): number;
  /** Creates it; CONFLICT if the id exists; VALIDATION_FAILED if too large. */
  create(namespace: string, id: string, value: unknown): Promise<number>;
  /** Replaces it if still at `revision`; CONFLICT otherwise. */
  update(namespace: string, id: string, value: unknown, revision: number): Promise<number>;
  /** Deletes it (no error if absent). */
  delete(namespace: string, id: string): Promise<void>;
}

function key(namespace: string, id: string): string {
  if (!NAMESPACE_RE.test(namespace)) throw new AppError('VALIDATION_FAILED', `not a document namespace: ${JSON.stringify(namespace.slice(0, 40))}`);
  if (!DOCUMENT_ID_RE.test(id)) throw new AppError('INVALID_ID', `not a document id (a lowercase UUID): ${JSON.stringify(id.slice(0, 80))}`);
  return `doc.${namespace}.${id}`;
}

function checkSize(value: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (bytes > MAX_DOCUMENT_BYTES) throw new AppError('VALIDATION_FAILED', `the document is ${bytes} bytes; at most ${MAX_DOCUMENT_BYTES} are kept`);
}

/** Documents over the control store (its `doc.` keys). */
export function createDocumentStore(store: ControlStore): DocumentStore {
  return {
    get: <T>(namespace: string, id: string) => store.get<T>(key(namespace, id)),
    list<T>(namespace: string) {
      const prefix = key(namespace, '00000000-0000-0000-0000-000000000000').slice(0, -36);
      return store.list<T>(prefix).map((e) => ({ id: e.key.slice(prefix.length), value: e.value, revision: e.revision }));
    },
    count(namespace) {
      const prefix = key(namespace, '00000000-0000-0000-0000-000000000000').slice(0, -36);
      return store.count(prefix);
    },
    async create(namespace, id, value) {
      const k = key(namespace, id);
      checkSize(value);
      return store.create(k, value);
    },
    async update(namespace, id, value, revision) {
      const k = key(namespace, id);
      checkSize(value);
      return store.update(k, value, revision);
    },
    async delete(namespace, id) {
      await store.delete(key(namespace, id));
    },
  };
}
