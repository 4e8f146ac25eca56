import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { copyJobType, type CopySpec } from '../../../../engine/jobtypes/copy.ts';
import { listTree, makeRoots, pattern, planAndRun, verifyCtx, writeTree, type TempRoots } from './fileJobs.fixture.ts';

describe('copy', () => {
  let r: TempRoots;
  const tree = { 'src/a.txt': 'alpha', 'src/sub/b.bin': pattern(70_000), 'src/sub/deeper/c.txt': 'c' };
  beforeEach(async () => {
    r = await makeRoots();
    await writeTree(r.dataDir, tree);
  });
  afterEach(() => r.cleanup());

  it('copies src/<rel> to dst/<rel> in batches, keeps the source, and verifies', async () => {
    const spec: CopySpec = { src: 'src', dst: 'out/copy', batchSize: 2 };
    const { tasks, results } = await planAndRun(copyJobType, spec, r);
    assert.deepEqual(tasks.map((t) => t.items), [2, 1]);
    assert.deepEqual(tasks[0]?.payload, { files: [{ rel: 'a.txt', offset: 0, length: 5, size: 5 }, { rel: 'sub/b.bin', offset: 0, length: 70_000, size: 70_000 }] });
    for (const [rel, content] of Object.entries(tree)) {
      assert.deepEqual(await readFile(path.join(r.dataDir, 'out/copy', rel.slice('src/'.length))), Buffer.from(content));
      assert.deepEqual(await readFile(path.join(r.dataDir, rel)), Buffer.from(content), 'source kept');
    }
    assert.deepEqual(await copyJobType.verify(spec, verifyCtx(r, tasks, results)), { ok: true, summary: { files: 3, bytes: 70_006 } });
  });

  it('copies a single file to the file dst', async () => {
    await planAndRun(copyJobType, { src: 'src/a.txt', dst: 'one/a-copy.txt' }, r);
    assert.equal(await readFile(path.join(r.dataDir, 'one/a-copy.txt'), 'utf8'), 'alpha');
  });

  it('with overwrite false, an existing destination file is an item failure and is left alone', async () => {
    await writeTree(r.dataDir, { 'dst/a.txt': 'mine' });
    const spec: CopySpec = { src: 'src', dst: 'dst', overwrite: false };
    const { tasks, results } = await planAndRun(copyJobType, spec, r);
    assert.deepEqual(results[0]?.failures, [{ item: 'src/a.txt', error: 'destination exists and overwrite is false' }]);
    assert.equal(results[0]?.itemsDone, 2);
    assert.equal(await readFile(path.join(r.dataDir, 'dst/a.txt'), 'utf8'), 'mine');
    assert.deepEqual(await copyJobType.verify(spec, verifyCtx(r, tasks, results)), { ok: true, summary: { files: 2, bytes: 70_001 } });
    // overwrite (the default) replaces it
    await planAndRun(copyJobType, { src: 'src', dst: 'dst' }, r);
    assert.equal(await readFile(path.join(r.dataDir, 'dst/a.txt'), 'utf8'), 'alpha');
  });

  it('verify detects a truncated copy', async () => {
    const spec: CopySpec = { src: 'src', dst: 'dst' };
    const { tasks, results } = await planAndRun(copyJobType, spec, r);
    await truncate(path.join(r.dataDir, 'dst/sub/b.bin'), 1);
    const outcome = await copyJobType.verify(spec, verifyCtx(r, tasks, results));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.message, /sub\/b\.bin: expected 70000 bytes, found 1/);
  });

  it('rejects dst inside src, src inside dst, the same dir, and paths leaving dataDir', () => {
    for (const [src, dst] of [['src', 'src/inner'], ['src/sub', 'src'], ['src', './src/'], ['src', 'x/../src/y'], ['', 'out']] as const) {
      assert.throws(() => copyJobType.checkSpec?.({ src, dst }, r), (e) => isAppError(e, 'INVALID_SPEC'), `${src} -> ${dst}`);
    }
    assert.throws(() => copyJobType.checkSpec?.({ src: 'src', dst: '../outside/x' }, r), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
    assert.throws(() => copyJobType.checkSpec?.({ src: '/etc', dst: 'x' }, r), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
  });

  it('leaves no temp files behind', async () => {
    await planAndRun(copyJobType, { src: 'src', dst: 'dst' }, r);
    assert.deepEqual(await listTree(path.join(r.dataDir, 'dst')), ['a.txt', 'sub', 'sub/b.bin', 'sub/deeper', 'sub/deeper/c.txt']);
  });
});
