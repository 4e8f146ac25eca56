/**
 * One contract for every Liveness implementation (the simulation runs on the in-memory one, so
 * this is what makes its runs count for the KV one):
 * `livenessContract('memory', async () => { const store = createMemoryLivenessStore(); return { open: (clock) => createMemoryLiveness({ clock, store }), cleanup: async () => {} }; })`.
 * Each test gets a fresh, empty bucket; every process it opens shares it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../engine/clock.ts';
import { isAppError } from '../../engine/errors.ts';
import type { Liveness } from '../../engine/liveness/liveness.ts';
import { createFakeClock } from '../helpers/fakeClock.ts';
import { waitFor } from '../helpers/wait.ts';

export interface LivenessFixture {
  /** One process's Liveness on the test's bucket; staleness is judged by `clock`. */
  open(clock: Clock): Liveness;
  /** Closes what `open` returned and removes the bucket. */
  cleanup(): Promise<void>;
}

export interface LivenessContractOptions {
  /** Cases this implementation is known to fail: test title → the difference (the case is skipped, naming it). */
  knownDifferences?: Readonly<Record<string, string>>;
}

/** A watch update may take a moment on a server (a microtask in memory). */
const SEEN_MS = 5_000;

export function livenessContract(name: string, make: () => Promise<LivenessFixture>, options: LivenessContractOptions = {}): void {
  const known = options.knownDifferences ?? {};
  const test = (title: string, fn: (f: LivenessFixture) => Promise<void>) =>
    it(title, { skip: known[title] ?? false }, async () => {
      const f = await make();
      try {
        await fn(f);
      } finally {
        await f.cleanup();
      }
    });
  const seen = (l: Liveness, cond: (ids: string[]) => boolean, what: string) =>
    waitFor(() => cond(l.entries().map((e) => `${e.kind}.${e.id}`)), { what, timeoutMs: SEEN_MS });

  describe(`Liveness contract: ${name}`, () => {
    test('another process sees a beat with its kind, id and info, at its own monotonic time', async (f) => {
      const worker = f.open(createFakeClock({ monotonicMs: 9_999_000 }));
      const observer = f.open(createFakeClock({ monotonicMs: 1_000 }));
      await worker.beat('worker', 'w1', { pool: 'default', running: 2 });
      await seen(observer, (ids) => ids.includes('worker.w1'), 'the beat');
      const [e] = observer.entries();
      assert.deepEqual({ ...e, revision: undefined }, { kind: 'worker', id: 'w1', revision: undefined, info: { pool: 'default', running: 2 }, seenAtMonotonic: 1_000 });
      assert.ok(typeof e?.revision === 'number' && e.revision > 0, `revision ${e?.revision}`);
    });

    test('alive() counts an entry until the observer\'s clock passes the timeout without a new revision; a beat revives it', async (f) => {
      const worker = f.open(createFakeClock());
      const clock = createFakeClock({ monotonicMs: 1_000 });
      const observer = f.open(clock);
      await worker.beat('worker', 'w1', { pool: 'p' });
      await seen(observer, (ids) => ids.includes('worker.w1'), 'the beat');
      const first = observer.entries()[0]!.revision;
      await clock.advance(100);
      assert.deepEqual(observer.alive('worker', 100).map((e) => e.id), ['w1'], 'alive at exactly the timeout');
      await clock.advance(1);
      assert.deepEqual(observer.alive('worker', 100), [], 'stale one ms later');
      assert.deepEqual(observer.entries().map((e) => e.id), ['w1'], 'a stale entry is still listed');
      await worker.beat('worker', 'w1', { pool: 'p' }); // the same value again: a new revision, a sign of life
      await waitFor(() => observer.alive('worker', 100).length === 1, { what: 'alive again', timeoutMs: SEEN_MS });
      const again = observer.alive('worker', 100)[0]!;
      assert.ok(again.revision > first, `revision ${again.revision} after ${first}`);
      assert.equal(again.seenAtMonotonic, 1_101);
    });

    test('alive() selects by kind', async (f) => {
      const p = f.open(createFakeClock());
      const observer = f.open(createFakeClock());
      await p.beat('coord', 'c1', {});
      await p.beat('worker', 'w1', {});
      await seen(observer, (ids) => ids.length === 2, 'both beats');
      assert.deepEqual(observer.alive('coord', 1_000).map((e) => e.id), ['c1']);
      assert.deepEqual(observer.alive('worker', 1_000).map((e) => e.id), ['w1']);
    });

    test('leave() removes the entry from every observer; leaving an id that never beat is harmless', async (f) => {
      const w = f.open(createFakeClock());
      const a = f.open(createFakeClock());
      const b = f.open(createFakeClock());
      await w.beat('worker', 'w1', {});
      await w.beat('worker', 'w2', {});
      await seen(a, (ids) => ids.length === 2, 'both beats on a');
      await seen(b, (ids) => ids.length === 2, 'both beats on b');
      await w.leave('worker', 'w1');
      await w.leave('coord', 'never-beat');
      await seen(a, (ids) => !ids.includes('worker.w1'), 'the leave on a');
      await seen(b, (ids) => !ids.includes('worker.w1'), 'the leave on b');
      assert.deepEqual(a.entries().map((e) => e.id), ['w2']);
      assert.deepEqual(b.alive('worker', 1_000).map((e) => e.id), ['w2']);
    });

    test('a process opened later counts existing keys as seen at its start', async (f) => {
      const w = f.open(createFakeClock());
      await w.beat('coord', 'c1', { n: 1 });
      const early = f.open(createFakeClock());
      await seen(early, (ids) => ids.includes('coord.c1'), 'the beat'); // stored before the late one opens
      const late = f.open(createFakeClock({ monotonicMs: 5_000 }));
      await seen(late, (ids) => ids.includes('coord.c1'), 'the existing key');
      assert.deepEqual(late.alive('coord', 0).map((e) => [e.id, e.info, e.seenAtMonotonic]), [['c1', { n: 1 }, 5_000]]);
    });

    test('a closed process follows no more beats', async (f) => {
      const w = f.open(createFakeClock());
      const open = f.open(createFakeClock());
      const closed = f.open(createFakeClock());
      await w.beat('worker', 'w1', {});
      await seen(closed, (ids) => ids.includes('worker.w1'), 'the first beat');
      await closed.close();
      await w.beat('worker', 'w2', {});
      // the open observer is the marker: once it has the second beat, so would a closed one that still followed
      await seen(open, (ids) => ids.includes('worker.w2'), 'the second beat on the open observer');
      assert.deepEqual(closed.entries().map((e) => e.id), ['w1']);
    });

    test('entries() are copies: changing one changes nothing in the view', async (f) => {
      const w = f.open(createFakeClock());
      const observer = f.open(createFakeClock());
      await w.beat('worker', 'w1', { pool: 'p' });
      await seen(observer, (ids) => ids.includes('worker.w1'), 'the beat');
      const e = observer.entries()[0]!;
      e.info['pool'] = 'changed';
      e.seenAtMonotonic = -1;
      assert.deepEqual(observer.entries().map((x) => [x.info, x.seenAtMonotonic]), [[{ pool: 'p' }, 0]]);
    });

    test('an id that is not a subject token is refused with INVALID_ID', async (f) => {
      const l = f.open(createFakeClock());
      await assert.rejects(l.beat('worker', 'a.b', {}), (e) => isAppError(e, 'INVALID_ID'));
      await assert.rejects(l.leave('coord', 'a b'), (e) => isAppError(e, 'INVALID_ID'));
    });
  });
}
