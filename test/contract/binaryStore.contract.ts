/**
 * One contract for every BinaryStore implementation:
 * `binaryStoreContract('memory', async () => ({ store, storedBytes, cleanup }))`.
 * Each test gets a fresh, empty store from `makeStore` and always calls its `cleanup`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BinaryStore } from '../../engine/binaries/index.ts';
import { isAppError } from '../../engine/errors.ts';

const MiB = 1024 * 1024;

export interface BinaryStoreFixture {
  store: BinaryStore;
  /**
   * Bytes the backend holds now, uploads in progress included (the object store's stream bytes,
   * with its per-message overhead): shows that a put stores as it reads and that nothing is left.
   */
  storedBytes(): Promise<number>;
  cleanup(): Promise<void>;
}

async function withStore(make: () => Promise<BinaryStoreFixture>, fn: (f: BinaryStoreFixture) => Promise<void>): Promise<void> {
  const f = await make();
  try {
    await fn(f);
  } finally {
    await f.cleanup();
  }
}

/** Chunk `i` of the deterministic content `seed`: xorshift32 words. */
export function chunkOf(seed: number, i: number, bytes: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(bytes / 4));
  let x = (Math.imul(seed + 1, 2654435761) ^ Math.imul(i + 1, 40503)) >>> 0 || 1;
  for (let k = 0; k < words.length; k++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[k] = x;
  }
  return new Uint8Array(words.buffer, 0, bytes);
}

/** A lazy source of `size` bytes in `chunkBytes` pieces; `onPull(i)` runs before chunk i is made. */
export async function* content(seed: number, size: number, chunkBytes = MiB, onPull?: (i: number) => Promise<void> | void): AsyncGenerator<Uint8Array> {
  for (let i = 0, off = 0; off < size; i++, off += chunkBytes) {
    await onPull?.(i);
    yield chunkOf(seed, i, Math.min(chunkBytes, size - off));
  }
}

export async function sha256Of(src: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of src) {
    h.update(c);
    size += c.byteLength;
  }
  return { sha256: h.digest('hex'), size };
}

async function bytesOf(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of src) parts.push(c);
  return Buffer.concat(parts);
}

const put = (store: BinaryStore, name: string, seed: number, size: number, maxBytes = 64 * MiB, chunkBytes = MiB) =>
  store.put(name, { contentType: 'application/java-archive', source: content(seed, size, chunkBytes), maxBytes, uploadedBy: 'alice' });

const code = (c: string) => (err: unknown) => isAppError(err) && err.code === c;
/** The object store's per-message overhead (subject, headers) and meta messages. */
const slack = (bytes: number) => bytes / 100 + 64 * 1024;

export function binaryStoreContract(name: string, makeStore: () => Promise<BinaryStoreFixture>): void {
  describe(`BinaryStore contract: ${name}`, () => {
    it('put then get round-trips a multi-MiB binary; size, sha256 and metadata are recorded', () =>
      withStore(makeStore, async ({ store }) => {
        const size = 8 * MiB + 12_345;
        const expected = await sha256Of(content(7, size));
        const info = await store.put('word-count', { contentType: 'application/java-archive', source: content(7, size), maxBytes: 16 * MiB, uploadedBy: 'alice' });
        assert.equal(info.name, 'word-count');
        assert.equal(info.size, size);
        assert.equal(info.sha256, expected.sha256);
        assert.equal(info.contentType, 'application/java-archive');
        assert.equal(info.uploadedBy, 'alice');
        assert.ok(!Number.isNaN(Date.parse(info.uploadedAt)));
        assert.deepEqual(await store.info('word-count'), info);
        assert.deepEqual(await store.list(), [info]);
        assert.deepEqual(await sha256Of(store.get('word-count')), expected);
        const dir = await mkdtemp(join(tmpdir(), 'jetjobs-bin-'));
        try {
          const file = join(dir, 'word-count.jar');
          assert.deepEqual(await store.getToFile('word-count', file), info);
          assert.equal(createHash('sha256').update(await readFile(file)).digest('hex'), expected.sha256);
          assert.deepEqual(await readdir(dir), ['word-count.jar']); // no temporary file left
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }));

    it('put streams: the source is read a chunk at a time, each stored before the next is read', () =>
      withStore(makeStore, async ({ store, storedBytes }) => {
        const chunks = 16;
        const base = await storedBytes();
        let checked = 0;
        const source = content(3, chunks * MiB, MiB, async (i) => {
          if (i < 3) return;
          // chunks 0..i-1 were read; all but what fills one message must be stored already
          const held = (await storedBytes()) - base;
          assert.ok(held >= (i - 2) * MiB, `before chunk ${i}: ${held} bytes stored`);
          checked++;
        });
        const info = await store.put('big', { contentType: 'application/octet-stream', source, maxBytes: 64 * MiB, uploadedBy: 'bob' });
        assert.equal(info.size, chunks * MiB);
        assert.equal(checked, chunks - 3);
      }));

    it('a ReadableStream source and an empty binary work too', () =>
      withStore(makeStore, async ({ store }) => {
        const bytes = Buffer.from('export function WordCountExample() {}\n');
        const rs = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(bytes.subarray(0, 10)));
            c.enqueue(new Uint8Array(bytes.subarray(10)));
            c.close();
          },
        });
        const info = await store.put('wc.mjs', { contentType: 'application/javascript', source: rs, maxBytes: 1024, uploadedBy: 'alice' });
        assert.equal(info.size, bytes.length);
        assert.deepEqual(await bytesOf(store.get('wc.mjs')), bytes);
        const empty = await store.put('empty', { contentType: 'application/octet-stream', source: content(1, 0), maxBytes: 0, uploadedBy: 'alice' });
        assert.equal(empty.size, 0);
        assert.equal(empty.sha256, createHash('sha256').digest('hex'));
        assert.equal((await bytesOf(store.get('empty'))).length, 0);
      }));

    it('an upload over maxBytes is refused, reads no further, and leaves nothing (the old version intact)', () =>
      withStore(makeStore, async ({ store, storedBytes }) => {
        const v1 = await put(store, 'app', 1, 2 * MiB + 5);
        const listed = await store.list();
        const before = await storedBytes();
        let pulled = 0;
        const source = content(2, 20 * MiB, 256 * 1024, (i) => void (pulled = i + 1));
        await assert.rejects(
          store.put('app', { contentType: 'application/java-archive', source, maxBytes: 3 * MiB, uploadedBy: 'mallory' }),
          code('BODY_TOO_LARGE'),
        );
        assert.ok(pulled <= 13, `read ${pulled} chunks of 256 KiB past a 3 MiB limit`);
        assert.deepEqual(await store.list(), listed);
        assert.deepEqual(await store.info('app'), v1);
        assert.deepEqual(await sha256Of(store.get('app')), await sha256Of(content(1, 2 * MiB + 5)));
        const after = await storedBytes();
        assert.ok(after <= before + slack(0), `stored ${before} before, ${after} after`);
        // a new name: nothing at all; exactly maxBytes is accepted
        await assert.rejects(put(store, 'other', 3, 2 * MiB + 1, 2 * MiB), code('BODY_TOO_LARGE'));
        assert.equal(await store.info('other'), undefined);
        assert.equal((await put(store, 'other', 3, 2 * MiB, 2 * MiB)).size, 2 * MiB);
      }));

    it('a source that fails mid-way fails the put with its error and leaves nothing', () =>
      withStore(makeStore, async ({ store, storedBytes }) => {
        const v1 = await put(store, 'app', 1, MiB);
        const before = await storedBytes();
        const boom = new Error('client went away');
        const source = content(2, 8 * MiB, MiB, (i) => {
          if (i === 4) throw boom;
        });
        await assert.rejects(store.put('app', { contentType: 'x/y', source, maxBytes: 64 * MiB, uploadedBy: 'a' }), (err) => err === boom);
        assert.deepEqual(await store.list(), [v1]);
        assert.ok((await storedBytes()) <= before + slack(0));
      }));

    it('a replace swaps the whole binary and frees the old bytes', () =>
      withStore(makeStore, async ({ store, storedBytes }) => {
        await put(store, 'app', 1, 3 * MiB);
        const v2 = await store.put('app', { contentType: 'application/python-wheel', source: content(2, 2 * MiB + 1), maxBytes: 4 * MiB, uploadedBy: 'bob' });
        assert.deepEqual(await store.info('app'), v2);
        assert.equal(v2.uploadedBy, 'bob');
        assert.equal(v2.contentType, 'application/python-wheel');
        assert.deepEqual(await sha256Of(store.get('app')), await sha256Of(content(2, 2 * MiB + 1)));
        assert.deepEqual(await store.list(), [v2]);
        const held = await storedBytes();
        assert.ok(held >= v2.size && held <= v2.size + slack(v2.size), `holds ${held} bytes for ${v2.size}`);
      }));

    it('a read pinned to a version that is replaced meanwhile gives that version whole or CONFLICT, never a mix', () =>
      withStore(makeStore, async ({ store }) => {
        const size = 8 * MiB;
        await put(store, 'app', 1, size);
        const reader = await store.open('app');
        const it = reader.data[Symbol.asyncIterator]();
        const first = await it.next();
        assert.equal(first.done, false);
        const v2 = await put(store, 'app', 2, size);
        const h = createHash('sha256').update(first.value as Uint8Array);
        let n = (first.value as Uint8Array).byteLength;
        try {
          for (let r = await it.next(); !r.done; r = await it.next()) {
            h.update(r.value);
            n += r.value.byteLength;
          }
          assert.deepEqual({ sha256: h.digest('hex'), size: n }, await sha256Of(content(1, size)));
        } catch (err) {
          assert.ok(isAppError(err, 'CONFLICT'), String(err));
        }
        assert.deepEqual(await sha256Of(store.get('app')), { sha256: v2.sha256, size });
      }));

    it('delete removes the binary; deleting again is false; the name can be used again', () =>
      withStore(makeStore, async ({ store, storedBytes }) => {
        await put(store, 'app', 1, 2 * MiB);
        await put(store, 'keep', 2, 1024);
        assert.equal(await store.delete('app'), true);
        assert.equal(await store.info('app'), undefined);
        assert.deepEqual((await store.list()).map((b) => b.name), ['keep']);
        await assert.rejects(store.open('app'), code('NOT_FOUND'));
        await assert.rejects(sha256Of(store.get('app')), code('NOT_FOUND'));
        const dir = await mkdtemp(join(tmpdir(), 'jetjobs-bin-'));
        try {
          await assert.rejects(store.getToFile('app', join(dir, 'app.jar')), code('NOT_FOUND'));
          assert.deepEqual(await readdir(dir), []);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
        assert.ok((await storedBytes()) <= 1024 + slack(1024));
        assert.equal(await store.delete('app'), false);
        assert.equal(await store.delete('never'), false);
        assert.equal((await put(store, 'app', 3, 10)).size, 10);
      }));

    it('invalid names are refused everywhere; valid ones are letters, digits and ._- (1-128)', () =>
      withStore(makeStore, async ({ store }) => {
        const bad = ['', '.hidden', '-x', '_x', 'a/b', '../etc', 'a b', 'a*', 'a>', 'a\u0000', 'ü', 'a'.repeat(129), '$O.x'];
        for (const n of bad) {
          await assert.rejects(put(store, n, 1, 1), code('VALIDATION_FAILED'), `put ${JSON.stringify(n)}`);
          await assert.rejects(store.info(n), code('VALIDATION_FAILED'), `info ${JSON.stringify(n)}`);
          await assert.rejects(store.open(n), code('VALIDATION_FAILED'));
          await assert.rejects(sha256Of(store.get(n)), code('VALIDATION_FAILED'));
          await assert.rejects(store.delete(n), code('VALIDATION_FAILED'));
        }
        for (const n of ['a', '9', 'A.b-c_1.jar', 'x'.repeat(128)]) assert.equal((await put(store, n, 1, 3)).name, n);
        assert.equal((await store.list()).length, 4);
        // bad options
        await assert.rejects(put(store, 'ok', 1, 1, -1), code('VALIDATION_FAILED'));
        await assert.rejects(store.put('ok', { contentType: '', source: content(1, 1), maxBytes: 10, uploadedBy: 'a' }), code('VALIDATION_FAILED'));
        await assert.rejects(store.put('ok', { contentType: 'a\nb', source: content(1, 1), maxBytes: 10, uploadedBy: 'a' }), code('VALIDATION_FAILED'));
      }));

    it('concurrent replaces of one name end with one complete version; losers get CONFLICT and leave nothing', () =>
      withStore(makeStore, async ({ store, storedBytes }) => {
        await put(store, 'app', 0, MiB);
        const size = 2 * MiB;
        const racers = [1, 2, 3, 4];
        // small chunks with a turn of the event loop between them, so the uploads interleave
        const slow = (seed: number) => content(seed, size, 128 * 1024, () => new Promise<void>((r) => setImmediate(r)));
        const results = await Promise.allSettled(racers.map((seed) => store.put('app', { contentType: `x/v${seed}`, source: slow(seed), maxBytes: 4 * MiB, uploadedBy: `u${seed}` })));
        const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        assert.ok(won.length >= 1, 'at least one upload wins');
        for (const r of results) if (r.status === 'rejected') assert.ok(isAppError(r.reason, 'CONFLICT'), String(r.reason));
        const final = await store.info('app');
        assert.ok(final !== undefined && won.some((w) => w.sha256 === final.sha256 && w.contentType === final.contentType));
        const seed = Number(final.contentType.slice(3));
        assert.deepEqual(await sha256Of(store.get('app')), await sha256Of(content(seed, size, 128 * 1024)));
        const held = await storedBytes();
        assert.ok(held <= size + slack(size), `holds ${held} bytes for one version of ${size}`);
      }));
  });
}
