/**
 * Opening (and creating) directories beneath a root while another thread keeps creating and
 * deleting them, or while many callers create the same chain at once: a directory that appears or
 * vanishes mid-walk is never taken for an escape; the only failure is ENOENT (it was deleted).
 */
import { afterEach, beforeEach, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../engine/errors.ts';
import { openDir, openRoot } from '../../../engine/jobtypes/rootedDir.ts';
import { makeRoots, type TempRoots } from '../../unit/engine/jobtypes/fileJobs.fixture.ts';
import { startLoop } from './raceLoop.fixture.ts';

const MAX_CALLS = 20_000;
const BUDGET_MS = 3000;
/** Fewer calls than this means the race barely ran: fail rather than pass vacuously. */
const MIN_CALLS = 500;
const CHAIN = 'ds/a/b/c';

describe('openDir while directories come and go', () => {
  let r: TempRoots;
  beforeEach(async () => {
    r = await makeRoots();
  });
  afterEach(() => r.cleanup());

  const churn = () => startLoop({ kind: 'churn', dirs: [path.join(r.cacheDir, CHAIN)], base: r.cacheDir });

  it('openDir creating the chain never reports an escape; it only ever fails as deleted (ENOENT)', async (t: TestContext) => {
    const loop = churn();
    const root = await openRoot(r.cacheDir);
    const unexpected: string[] = [];
    let calls = 0;
    let opened = 0;
    try {
      for (const deadline = Date.now() + BUDGET_MS; calls < MAX_CALLS && Date.now() < deadline; ) {
        const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => openDir(root, CHAIN, { create: true })));
        calls += outcomes.length;
        for (const o of outcomes) {
          if (o.status === 'fulfilled') {
            opened++;
            await o.value.close();
          } else if ((o.reason as NodeJS.ErrnoException).code !== 'ENOENT') {
            unexpected.push(isAppError(o.reason) ? `${o.reason.code}: ${o.reason.message}` : String(o.reason));
          }
        }
      }
    } finally {
      await root.close();
      t.diagnostic(`openDir: ${calls} calls, ${opened} opened, ${await loop.stop()} create/delete rounds, ${unexpected.length} unexpected`);
    }
    assert.deepEqual(unexpected.slice(0, 5), []);
    assert.ok(opened > 0, 'the directory was never opened');
    assert.ok(calls >= MIN_CALLS, `only ${calls} calls ran`);
  });

  it('openDir: 50 concurrent creators of one fresh chain all succeed, round after round', async () => {
    const root = await openRoot(r.cacheDir);
    try {
      for (let round = 0; round < 40; round++) {
        await rm(path.join(r.cacheDir, 'ds'), { recursive: true, force: true });
        const dirs = await Promise.all(Array.from({ length: 50 }, () => openDir(root, `${CHAIN}/d/e`, { create: true })));
        await Promise.all(dirs.map((d) => d.close()));
      }
    } finally {
      await root.close();
    }
  });
});
