/** engine/retry.ts: backoff, sleeps that can be cut short, retry on codes, the CAS command loop. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../../engine/errors.ts';
import { backoffDelay, createPause, handleCommand, retry, sleep } from '../../../engine/retry.ts';

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    const b = { baseMs: 100, maxMs: 1000 };
    assert.deepEqual([0, 1, 2, 3, 4, 50, 10_000].map((a) => backoffDelay(b, a)), [100, 200, 400, 800, 1000, 1000, 1000]);
  });
  it('spreads by the jitter fraction and never passes the cap', () => {
    const b = { baseMs: 100, maxMs: 120, jitter: 0.5 };
    const at = (x: number) => backoffDelay(b, 0, { next: () => x, uuid: () => 'u' });
    assert.equal(at(0), 50);
    assert.equal(at(0.5), 100);
    assert.equal(at(0.3), 80);
    assert.equal(at(0.999), 120);
  });
});

describe('sleep and pause', () => {
  it('an aborted signal ends a long sleep at once', async () => {
    const c = new AbortController();
    const p = sleep(60_000, { signal: c.signal });
    c.abort();
    await p;
  });
  it('wake() ends the running pause; a later pause waits again', async () => {
    const pause = createPause();
    const p = pause(60_000);
    pause.wake();
    await p;
    let ended = false;
    const q = pause(20).then(() => (ended = true));
    pause.wake();
    await q;
    assert.equal(ended, true);
  });
});

describe('retry', () => {
  it('retries only the listed codes, up to the number of attempts', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls++;
        throw new AppError('UNAVAILABLE', 'down');
      }, { retryOn: ['UNAVAILABLE'], attempts: 3, backoff: { baseMs: 1, maxMs: 2 } }),
      (e: unknown) => e instanceof AppError && e.code === 'UNAVAILABLE',
    );
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(retry(async () => {
      calls++;
      throw new AppError('VALIDATION_FAILED', 'bad');
    }, { retryOn: ['UNAVAILABLE'], attempts: 3 }));
    assert.equal(calls, 1);
  });
  it('returns the first success and reports each retry', async () => {
    const seen: number[] = [];
    const r = await retry(async (n) => {
      if (n < 3) throw new AppError('UNAVAILABLE', 'down');
      return n;
    }, { retryOn: ['UNAVAILABLE'], attempts: 5, onRetry: (_e, n) => seen.push(n) });
    assert.equal(r, 3);
    assert.deepEqual(seen, [1, 2]);
  });
});

describe('retry and stop', () => {
  it('an abort during the backoff ends the retries with the last error, without another try', async () => {
    const c = new AbortController();
    let calls = 0;
    const p = retry(async () => {
      calls++;
      if (calls === 1) setTimeout(() => c.abort(), 5);
      throw new AppError('UNAVAILABLE', 'down');
    }, { retryOn: ['UNAVAILABLE'], attempts: 5, backoff: { baseMs: 60_000, maxMs: 60_000 }, signal: c.signal });
    await assert.rejects(p, (e: unknown) => e instanceof AppError && e.code === 'UNAVAILABLE');
    assert.equal(calls, 1);
  });
});

describe('handleCommand', () => {
  it('re-reads and re-decides after a lost race, then appends against the new version', async () => {
    let version = 0;
    const appended: number[] = [];
    const r = await handleCommand({
      read: () => ({ version }),
      decide: (s) => ({ write: s.version + 1 }),
      append: (s, w) => {
        if (version === 0) {
          version = 5; // another writer got there first
          throw new AppError('CONFLICT', 'wrong last sequence');
        }
        assert.equal(s.version, 5);
        appended.push(w);
        return `v${w}`;
      },
    }, { attempts: 3 });
    assert.equal(r, 'v6');
    assert.deepEqual(appended, [6]);
  });
  it('writes nothing when the decision is a no-op, and gives up after the attempts', async () => {
    let appends = 0;
    assert.equal(await handleCommand({ read: () => 1, decide: () => ({ result: 'same' }), append: () => (appends++, 'x') }, { attempts: 2 }), 'same');
    assert.equal(appends, 0);
    await assert.rejects(handleCommand({
      read: () => 1,
      decide: () => ({ write: 1 }),
      append: () => {
        appends++;
        throw new AppError('CONFLICT', 'again');
      },
    }, { attempts: 2 }));
    assert.equal(appends, 2);
  });
});
