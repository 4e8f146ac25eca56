/**
 * One contract for every ControlStore implementation:
 * `controlStoreContract('memory', async () => ({ store: createMemoryControlStore(), cleanup: async () => {} }))`.
 * Each test gets a fresh, empty store from `makeStore` and always calls its `cleanup`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ControlStore } from '../../engine/controlstore/controlStore.ts';
import { isAppError } from '../../engine/errors.ts';
import { waitFor } from '../helpers/wait.ts';

const WAIT_MS = 5_000;

export interface ControlStoreFixture {
  store: ControlStore;
  /** A second store on the same backing data (another process); absent when the backend has no such thing. */
  openPeer?: () => Promise<ControlStore>;
  cleanup(): Promise<void>;
}

async function withStore(make: () => Promise<ControlStoreFixture>, fn: (f: ControlStoreFixture) => Promise<void>): Promise<void> {
  const f = await make();
  try {
    await f.store.ready;
    await fn(f);
  } finally {
    await f.cleanup();
  }
}

export function controlStoreContract(name: string, makeStore: () => Promise<ControlStoreFixture>): void {
  describe(`ControlStore contract: ${name}`, () => {
    it('create then get returns the value and its revision (read-your-writes)', () =>
      withStore(makeStore, async ({ store }) => {
        const rev = await store.create('user.alice', { name: 'alice', n: 1 });
        assert.ok(rev > 0);
        assert.deepEqual(store.get('user.alice'), { value: { name: 'alice', n: 1 }, revision: rev });
        assert.equal(store.get('user.bob'), undefined);
      }));

    it('create of an existing key is a CONFLICT and changes nothing', () =>
      withStore(makeStore, async ({ store }) => {
        const rev = await store.create('vc.a', { capacity: 1 });
        await assert.rejects(store.create('vc.a', { capacity: 2 }), (err) => isAppError(err, 'CONFLICT'));
        assert.deepEqual(store.get('vc.a'), { value: { capacity: 1 }, revision: rev });
      }));

    it('update is a compare-and-set on the revision', () =>
      withStore(makeStore, async ({ store }) => {
        const r1 = await store.create('user.a', { v: 1 });
        const r2 = await store.update('user.a', { v: 2 }, r1);
        assert.ok(r2 > r1);
        assert.deepEqual(store.get('user.a'), { value: { v: 2 }, revision: r2 });
        // a writer that read r1 lost the race
        await assert.rejects(store.update('user.a', { v: 3 }, r1), (err) => isAppError(err, 'CONFLICT'));
        assert.deepEqual(store.get('user.a')?.value, { v: 2 });
        // revision 0 means "must not exist"
        await assert.rejects(store.update('user.a', { v: 4 }, 0), (err) => isAppError(err, 'CONFLICT'));
        const r3 = await store.update('user.b', { v: 1 }, 0);
        assert.deepEqual(store.get('user.b'), { value: { v: 1 }, revision: r3 });
      }));

    it('delete removes the key; deleting an absent key is fine; the key can be created again', () =>
      withStore(makeStore, async ({ store }) => {
        await store.create('token.x', { user: 'a' });
        await store.delete('token.x');
        assert.equal(store.get('token.x'), undefined);
        assert.deepEqual(store.list('token.'), []);
        await store.delete('token.never');
        const rev = await store.create('token.x', { user: 'b' });
        assert.deepEqual(store.get('token.x'), { value: { user: 'b' }, revision: rev });
      }));

    it('list returns the entries under a prefix in key order', () =>
      withStore(makeStore, async ({ store }) => {
        await store.create('user.zed', { n: 3 });
        await store.create('user.amy', { n: 1 });
        await store.create('vc.amy', { n: 9 });
        await store.create('user.max', { n: 2 });
        const users = store.list<{ n: number }>('user.');
        assert.deepEqual(users.map((e) => [e.key, e.value.n]), [['user.amy', 1], ['user.max', 2], ['user.zed', 3]]);
        assert.ok(users.every((e) => e.revision > 0));
      }));

    it('values handed out are copies: mutating one does not change the store', () =>
      withStore(makeStore, async ({ store }) => {
        await store.create('user.a', { tags: ['x'] });
        const got = store.get<{ tags: string[] }>('user.a')!;
        got.value.tags.push('y');
        assert.deepEqual(store.get('user.a')?.value, { tags: ['x'] });
      }));

    it('onChange reports creates, updates and deletes until unsubscribed', () =>
      withStore(makeStore, async ({ store }) => {
        const seen: [string, unknown][] = [];
        const off = store.onChange((key, value) => seen.push([key, value]));
        const r = await store.create('vc.a', { c: 1 });
        await store.update('vc.a', { c: 2 }, r);
        await store.delete('vc.a');
        await waitFor(() => seen.length >= 3, { what: 'three changes', timeoutMs: WAIT_MS, intervalMs: 5 });
        assert.deepEqual(seen, [['vc.a', { c: 1 }], ['vc.a', { c: 2 }], ['vc.a', undefined]]);
        off();
        await store.create('vc.b', { c: 1 });
        assert.equal(seen.length, 3);
      }));

    it("two stores on the same data see each other's writes and conflict on the same key", async (t) => {
      const f = await makeStore();
      try {
        if (f.openPeer === undefined) return t.skip('no second store for this backend');
        await f.store.ready;
        const a = f.store;
        const b = await f.openPeer();
        try {
          await b.ready;
          const changes: string[] = [];
          b.onChange((key) => changes.push(key));
          const r1 = await a.create('user.shared', { v: 1 });
          await waitFor(() => b.get('user.shared')?.revision === r1, { what: 'b sees a create', timeoutMs: WAIT_MS, intervalMs: 5 });
          assert.deepEqual(b.get('user.shared')?.value, { v: 1 });
          assert.deepEqual(changes, ['user.shared']);
          // b updates; a's stale revision loses
          const r2 = await b.update('user.shared', { v: 2 }, r1);
          await assert.rejects(a.update('user.shared', { v: 3 }, r1), (err) => isAppError(err, 'CONFLICT'));
          await waitFor(() => a.get('user.shared')?.revision === r2, { what: 'a sees b update', timeoutMs: WAIT_MS, intervalMs: 5 });
          assert.deepEqual(a.get('user.shared')?.value, { v: 2 });
          await assert.rejects(a.create('user.shared', { v: 9 }), (err) => isAppError(err, 'CONFLICT'));
          // a deletes; b sees it gone
          await a.delete('user.shared');
          await waitFor(() => b.get('user.shared') === undefined, { what: 'b sees a delete', timeoutMs: WAIT_MS, intervalMs: 5 });
        } finally {
          await b.close();
        }
      } finally {
        await f.cleanup();
      }
    });

    it('a store opened later starts with everything written before (ready = caught up)', async (t) => {
      const f = await makeStore();
      try {
        if (f.openPeer === undefined) return t.skip('no second store for this backend');
        await f.store.ready;
        for (let i = 0; i < 20; i++) await f.store.create(`token.${String(i).padStart(64, '0')}`, { i });
        await f.store.create('user.gone', {});
        await f.store.delete('user.gone');
        const late = await f.openPeer();
        try {
          await late.ready;
          assert.equal(late.list('token.').length, 20);
          assert.equal(late.get('user.gone'), undefined);
        } finally {
          await late.close();
        }
      } finally {
        await f.cleanup();
      }
    });
  });
}
