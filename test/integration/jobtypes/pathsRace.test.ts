/**
 * Resolving a path inside a root while another thread keeps creating and deleting the directories
 * on the way. Every answer must be right for some moment: a directory that appears mid-check is
 * never taken for a dangling symlink (the bug: about 3 % of calls failed with PATH_OUTSIDE_ROOT).
 */
import { afterEach, beforeEach, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { resolveInside } from '../../../engine/jobtypes/paths.ts';
import { makeRoots, type TempRoots } from '../../unit/engine/jobtypes/fileJobs.fixture.ts';
import { startLoop } from './raceLoop.fixture.ts';

const MAX_CALLS = 20_000;
const BUDGET_MS = 3000;
/** Fewer calls than this means the race barely ran: fail rather than pass vacuously. */
const MIN_CALLS = 2000;
const CHAIN = 'ds/a/b/c';

describe('resolving paths while directories come and go', () => {
  let r: TempRoots;
  beforeEach(async () => {
    r = await makeRoots();
  });
  afterEach(() => r.cleanup());

  const churn = () => startLoop({ kind: 'churn', dirs: [path.join(r.cacheDir, CHAIN)], base: r.cacheDir });

  it('resolveInside gives the right path every time and never a false escape', async (t: TestContext) => {
    const loop = churn();
    const wrong: string[] = [];
    let calls = 0;
    const expected = path.join(r.cacheDir, CHAIN, 'file.txt');
    try {
      for (const deadline = Date.now() + BUDGET_MS; calls < MAX_CALLS && Date.now() < deadline; ) {
        for (let i = 0; i < 100; i++, calls++) {
          try {
            const got = resolveInside(r.cacheDir, `${CHAIN}/file.txt`);
            if (got !== expected) wrong.push(got);
          } catch (e) {
            wrong.push(e instanceof Error ? e.message : String(e));
          }
        }
        await tick();
      }
    } finally {
      t.diagnostic(`resolveInside: ${calls} calls, ${await loop.stop()} create/delete rounds, ${wrong.length} wrong`);
    }
    assert.deepEqual(wrong.slice(0, 5), []);
    assert.ok(calls >= MIN_CALLS, `only ${calls} calls ran`);
  });
});
