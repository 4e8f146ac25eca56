import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, symlink, truncate } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { builtinJobTypes, createJobTypeRegistry } from '../../../../engine/jobtypes/registry.ts';
import { persistJobType, type PersistSpec } from '../../../../engine/jobtypes/persist.ts';
import { FIVE_FILES, MIB, listTree, makeRoots, pattern, planAndRun, planCtx, runCtx, verifyCtx, writeTree, type TempRoots } from './fileJobs.fixture.ts';


describe('persist', () => {
  let r: TempRoots;
  beforeEach(async () => {
    r = await makeRoots();
  });
  afterEach(() => r.cleanup());

  const five = FIVE_FILES;

  it('copies every cached file to the files root in batches of batchSize, with identical content, and verifies', async () => {
    await writeTree(r.cacheDir, five);
    const spec: PersistSpec = { path: 'ds', batchSize: 2 };
    const { tasks, results } = await planAndRun(persistJobType, spec, r);
    assert.deepEqual(tasks.map((t) => [t.taskId, t.items]), [['t00000', 2], ['t00001', 2], ['t00002', 1]]);
    for (const [rel, content] of Object.entries(five)) {
      assert.deepEqual(await readFile(path.join(r.dataDir, rel)), Buffer.from(content), rel);
    }
    assert.deepEqual(await listTree(r.dataDir), ['ds', 'ds/a.txt', 'ds/b.txt', 'ds/e.bin', 'ds/sub', 'ds/sub/c.txt', 'ds/sub/d.txt'], 'no temp files left');
    assert.deepEqual(await listTree(r.cacheDir), await listTree(r.dataDir), 'the cache is left as it was');
    const bytes = 5 + 6 + 1 + 0 + 5000;
    assert.equal(results.reduce((n, x) => n + x.itemsDone, 0), 5);
    assert.deepEqual(await persistJobType.verify(spec, verifyCtx(r, tasks, results)), { ok: true, summary: { files: 5, bytes } });
  });

  it('persists a single file, and never splits a large one (whole files only)', async () => {
    await writeTree(r.cacheDir, { 'big.bin': pattern(3 * MIB), 'ds/b.txt': 'bravo!' });
    const { tasks } = await planAndRun(persistJobType, { path: 'ds/b.txt' }, r);
    assert.deepEqual(tasks[0]?.payload, { files: [{ rel: 'ds/b.txt', offset: 0, length: 6, size: 6 }] });
    assert.equal(await readFile(path.join(r.dataDir, 'ds/b.txt'), 'utf8'), 'bravo!');
    const big = await persistJobType.plan({ path: 'big.bin' }, { ...planCtx(r), defaults: { batchSize: 200, partitionSizeBytes: MIB } });
    assert.deepEqual(big.map((t) => [t.items, t.bytes]), [[1, 3 * MIB]]);
  });

  it('leaves an existing file alone (a failed item) unless overwrite is true, as Alluxio does', async () => {
    await writeTree(r.cacheDir, { 'ds/a.txt': 'cached a', 'ds/b.txt': 'cached b' });
    await writeTree(r.dataDir, { 'ds/a.txt': 'old a' });
    const kept = await planAndRun(persistJobType, { path: 'ds' }, r);
    assert.deepEqual(kept.results[0]?.failures, [{ item: 'ds/a.txt', error: 'destination exists and overwrite is false' }]);
    assert.deepEqual([kept.results[0]?.itemsDone, kept.results[0]?.itemsFailed], [1, 1]);
    assert.equal(await readFile(path.join(r.dataDir, 'ds/a.txt'), 'utf8'), 'old a');
    assert.equal(await readFile(path.join(r.dataDir, 'ds/b.txt'), 'utf8'), 'cached b');
    assert.deepEqual(await persistJobType.verify({ path: 'ds' }, verifyCtx(r, kept.tasks, kept.results)), { ok: true, summary: { files: 1, bytes: 8 } });
    assert.deepEqual(await listTree(r.dataDir), ['ds', 'ds/a.txt', 'ds/b.txt'], 'no temp files left');

    const replaced = await planAndRun(persistJobType, { path: 'ds', overwrite: true }, r);
    assert.deepEqual(replaced.results[0]?.failures, []);
    assert.equal(await readFile(path.join(r.dataDir, 'ds/a.txt'), 'utf8'), 'cached a');
  });

  it('verify reports a file that did not land in the files root as VERIFY_MISMATCH', async () => {
    await writeTree(r.cacheDir, five);
    const { tasks, results } = await planAndRun(persistJobType, { path: 'ds' }, r);
    await truncate(path.join(r.dataDir, 'ds/e.bin'), 10);
    await rm(path.join(r.dataDir, 'ds/a.txt'));
    const outcome = await persistJobType.verify({ path: 'ds' }, verifyCtx(r, tasks, results));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.code, 'VERIFY_MISMATCH');
      assert.match(outcome.message, /^2 of 5 files/);
      assert.match(outcome.message, /ds\/a\.txt: missing/);
      assert.match(outcome.message, /ds\/e\.bin: expected 5000 bytes, found 10/);
    }
  });

  it('rejects a path missing from the cache, and paths leaving either root', async () => {
    await writeTree(r.dataDir, { 'only-in-files/a.txt': 'a' });
    await assert.rejects(persistJobType.plan({ path: 'only-in-files' }, planCtx(r)), (e) => isAppError(e, 'INVALID_SPEC'));
    await writeTree(r.outside, { 'secret.txt': 'secret' });
    await symlink(path.join(r.outside, 'secret.txt'), path.join(r.cacheDir, 'leak.txt'));
    assert.throws(() => persistJobType.checkSpec?.({ path: 'leak.txt' }, r), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
    assert.throws(() => persistJobType.checkSpec?.({ path: '../outside' }, r), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
    await writeTree(r.cacheDir, { 'out/x.txt': 'x' });
    await symlink(r.outside, path.join(r.dataDir, 'out'));
    assert.throws(() => persistJobType.checkSpec?.({ path: 'out' }, r), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'), 'the destination leaves the files root');
  });

  it('plans around symlinks that leave the cache, and never writes through a files-root directory that leads out', async () => {
    await writeTree(r.cacheDir, { 'ds/a.txt': 'a', 'ds/sub/b.txt': 'b' });
    await writeTree(r.outside, { 'secret.txt': 'secret' });
    await symlink(path.join(r.outside, 'secret.txt'), path.join(r.cacheDir, 'ds/leak.txt'));
    const tasks = await persistJobType.plan({ path: 'ds' }, planCtx(r));
    assert.deepEqual(tasks.map((t) => t.payload), [{ files: [{ rel: 'ds/a.txt', offset: 0, length: 1, size: 1 }, { rel: 'ds/sub/b.txt', offset: 0, length: 1, size: 1 }] }]);
    await rm(path.join(r.outside, 'secret.txt'));
    await symlink(r.outside, path.join(r.dataDir, 'ds')); // swapped in after planning
    const result = await persistJobType.run({ path: 'ds' }, tasks[0]?.payload, runCtx(r));
    assert.equal(result.itemsFailed, 2);
    for (const f of result.failures) assert.match(f.error, /^destination: path "ds(\/sub)?" leaves its root through a symlink$/);
    assert.deepEqual(await listTree(r.outside), [], 'nothing created outside');
  });

  it('its spec schema validates: overwrite a boolean, batchSize in range, no other fields', () => {
    const registry = createJobTypeRegistry(builtinJobTypes());
    assert.deepEqual(registry.validateSpec('persist', { path: 'ds', overwrite: true, batchSize: 10 }, r), { path: 'ds', overwrite: true, batchSize: 10 });
    for (const bad of [{}, { path: 'ds', overwrite: 'yes' }, { path: 'ds', batchSize: 0 }, { path: 'ds', ufsPath: '/u' }]) {
      assert.throws(() => registry.validateSpec('persist', bad, r), (e) => isAppError(e, 'INVALID_SPEC'), JSON.stringify(bad));
    }
  });
});
