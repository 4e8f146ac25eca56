/**
 * The in-memory BinaryStore: the same semantics as the object store (limit, all-or-nothing put,
 * compare-and-set replace, reads that fail with CONFLICT when their version goes away), for unit
 * tests and simulation. It holds the bytes in memory, so it is no place for big binaries.
 */
import { systemClock, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import {
  binaryNotFound,
  checkBinaryName,
  checkPutOptions,
  replacedWhileReading,
  type BinaryInfo,
  type BinaryReader,
  type BinaryStore,
} from './binaryStore.ts';
import { meterSource, tooLarge } from './meterSource.ts';
import { readsThroughOpen } from './saveBinaryToFile.ts';

/** Options of {@link createMemoryBinaryStore}. */
export interface MemoryBinaryStoreOptions {
  /** Stamps `uploadedAt`. @defaultValue systemClock */
  clock?: Clock;
}

/** The memory store, with a probe for tests. */
export interface MemoryBinaryStore extends BinaryStore {
  /** Bytes held: stored versions plus uploads in progress (what the object store's stream holds). */
  storedBytes(): number;
}

interface Version {
  info: BinaryInfo;
  chunks: readonly Uint8Array[];
  revision: number;
}

export function createMemoryBinaryStore(opts: MemoryBinaryStoreOptions = {}): MemoryBinaryStore {
  const clock = opts.clock ?? systemClock;
  const current = new Map<string, Version>();
  /** Last revision of each name ever written, deletes included (the object store's meta subject sequence). */
  const revisions = new Map<string, number>();
  let lastRevision = 0;
  let pendingBytes = 0;

  const copy = (i: BinaryInfo): BinaryInfo => ({ ...i });

  async function* read(name: string, v: Version): AsyncGenerator<Uint8Array> {
    for (const chunk of v.chunks) {
      // a yield lets writers run: the object store purges a replaced version's chunks the same way
      if (current.get(name) !== v) throw replacedWhileReading(name);
      yield chunk.slice();
    }
  }

  const store: MemoryBinaryStore = {
    async put(name, p) {
      checkBinaryName(name);
      checkPutOptions(p);
      const seen = revisions.get(name) ?? 0;
      const uploadedAt = new Date(clock.now()).toISOString();
      const metered = meterSource(p.source, p.maxBytes);
      const reader = metered.stream.getReader();
      const chunks: Uint8Array[] = [];
      let held = 0;
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          chunks.push(r.value);
          held += r.value.byteLength;
          pendingBytes += r.value.byteLength;
        }
      } catch (err) {
        if (metered.exceeded) throw tooLarge(p.maxBytes);
        throw err;
      } finally {
        pendingBytes -= held;
      }
      if ((revisions.get(name) ?? 0) !== seen) {
        throw new AppError('CONFLICT', `binary ${name} was replaced while this upload ran; upload again`);
      }
      const info: BinaryInfo = { name, contentType: p.contentType, size: metered.bytes, sha256: metered.sha256(), uploadedAt, uploadedBy: p.uploadedBy };
      const revision = ++lastRevision;
      revisions.set(name, revision);
      current.set(name, { info, chunks, revision });
      return copy(info);
    },
    async info(name) {
      checkBinaryName(name);
      const v = current.get(name);
      return v === undefined ? undefined : copy(v.info);
    },
    async list() {
      return [...current.values()].map((v) => copy(v.info)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async open(name): Promise<BinaryReader> {
      checkBinaryName(name);
      const v = current.get(name);
      if (v === undefined) throw binaryNotFound(name);
      return { info: copy(v.info), data: read(name, v) };
    },
    ...readsThroughOpen((name) => store.open(name)),
    async delete(name) {
      checkBinaryName(name);
      if (!current.has(name)) return false;
      current.delete(name);
      revisions.set(name, ++lastRevision);
      return true;
    },
    storedBytes() {
      let n = pendingBytes;
      for (const v of current.values()) n += v.info.size;
      return n;
    },
  };
  return store;
}
