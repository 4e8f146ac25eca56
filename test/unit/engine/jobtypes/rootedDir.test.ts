import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, readdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { createDirCache, lstatEntry, openDir, openForReading, openRoot, statFollowing, type RootedDir } from '../../../../engine/jobtypes/rootedDir.ts';
import { makeRoots, writeTree, type TempRoots } from './fileJobs.fixture.ts';

/** PATH_OUTSIDE_ROOT whose message does not say where the symlink leads. */
function escapes(r: TempRoots) {
  return (e: unknown) => isAppError(e, 'PATH_OUTSIDE_ROOT') && !e.message.includes(r.outside);
}

describe('rootedDir', () => {
  let r: TempRoots;
  let root: RootedDir;
  before(async () => {
    r = await makeRoots();
    await writeTree(r.dataDir, { 'a/b/file.txt': 'inside' });
    await writeTree(r.outside, { 'secret.txt': 'secret', 'sub/secret2.txt': 's2' });
    await symlink(r.outside, path.join(r.dataDir, 'out-link'));
    await symlink(path.join(r.outside, 'secret.txt'), path.join(r.dataDir, 'out-file-link'));
    await symlink(path.join(r.outside, 'nowhere'), path.join(r.dataDir, 'dangling-out'));
    await symlink('a/b', path.join(r.dataDir, 'in-link'));
    await symlink('b/file.txt', path.join(r.dataDir, 'a/file-link'));
    execFileSync('mkfifo', [path.join(r.dataDir, 'fifo')]);
    root = await openRoot(r.dataDir);
  });
  after(async () => {
    await root.close();
    await r.cleanup();
  });

  it('opens directories below the root, following symlinks that stay inside', async () => {
    for (const rel of ['', 'a', 'a/b', 'in-link']) {
      const dir = await openDir(root, rel);
      assert.ok((await dir.stat()).isDirectory(), rel);
      await dir.close();
    }
    const viaLink = await openDir(root, 'in-link');
    assert.deepEqual(await readdir(viaLink.self), ['file.txt']);
    await viaLink.close();
  });

  it('refuses a directory reached through a symlink out of the root, without naming the target', async () => {
    await assert.rejects(openDir(root, 'out-link'), escapes(r));
    await assert.rejects(openDir(root, 'out-link/sub'), escapes(r));
  });

  it('creates missing directories, but never through a symlink out (existing or dangling)', async () => {
    const made = await openDir(root, 'new/deep/dir', { create: true });
    await made.close();
    assert.ok((await lstatEntry(root, 'new/deep/dir')).isDirectory());
    await assert.rejects(openDir(root, 'out-link/created', { create: true }), escapes(r));
    await assert.rejects(openDir(root, 'dangling-out/created', { create: true }), escapes(r));
    assert.deepEqual((await readdir(r.outside)).sort(), ['secret.txt', 'sub'], 'nothing created outside');
  });

  it('reports a file in the way as ENOTDIR, and a missing directory as ENOENT without create', async () => {
    await assert.rejects(openDir(root, 'a/b/file.txt/x', { create: true }), { code: 'ENOTDIR' });
    await assert.rejects(openDir(root, 'missing'), { code: 'ENOENT' });
  });

  it('opens files for reading only when what was opened lies inside', async () => {
    for (const rel of ['a/b/file.txt', 'in-link/file.txt', 'a/file-link']) {
      const fh = await openForReading(root, rel);
      assert.equal(await fh.readFile('utf8'), 'inside', rel);
      await fh.close();
    }
    await assert.rejects(openForReading(root, 'out-file-link'), escapes(r));
    await assert.rejects(openForReading(root, 'out-link/secret.txt'), escapes(r));
    await assert.rejects(statFollowing(root, 'out-file-link'), escapes(r));
    await assert.rejects(openForReading(root, 'dangling-out'), { code: 'ENOENT' });
  });

  it('opens a FIFO without blocking (callers then see it is not a regular file)', async () => {
    const fh = await openForReading(root, 'fifo');
    assert.ok((await fh.stat()).isFIFO());
    await fh.close();
  });

  it('lstatEntry does not follow a symlink in the last component', async () => {
    assert.ok((await lstatEntry(root, 'out-file-link')).isSymbolicLink());
    await assert.rejects(lstatEntry(root, 'out-link/secret.txt'), escapes(r));
  });

  it('at() refuses names that could climb out of the directory', () => {
    for (const rel of ['..', '../x', 'a/../..', '/etc', 'a//b', './a', 'a/']) {
      assert.throws(() => root.at(rel), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'), rel);
    }
    assert.ok(root.at('a/..b').endsWith('/a/..b'), 'a name that merely starts with dots is fine');
  });
});

describe('rootedDir handles while the tree is renamed', () => {
  let r: TempRoots;
  let root: RootedDir;
  beforeEach(async () => {
    r = await makeRoots();
    await writeTree(r.dataDir, { 'moving/f.txt': 'f' });
    root = await openRoot(r.dataDir);
  });
  afterEach(async () => {
    await root.close();
    await r.cleanup();
  });

  it('keeps reaching the same directory after a rename inside the root', async () => {
    const dir = await openDir(root, 'moving');
    await rename(path.join(r.dataDir, 'moving'), path.join(r.dataDir, 'moved'));
    await dir.recheck();
    await writeFile(dir.at('g.txt'), 'g');
    assert.equal(await readFile(path.join(r.dataDir, 'moved/g.txt'), 'utf8'), 'g');
    await dir.close();
  });

  it('recheck() refuses a directory moved out of the root; the cache then opens the name afresh', async () => {
    const dirs = createDirCache(root, { create: true });
    const first = await dirs.get('moving');
    assert.equal(await dirs.get('moving'), first, 'kept while it checks out');
    await rename(path.join(r.dataDir, 'moving'), path.join(r.outside, 'moving'));
    await assert.rejects(first.recheck(), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
    const again = await dirs.get('moving');
    assert.notEqual(again, first);
    assert.deepEqual(await readdir(again.self), [], 'a new, empty directory inside the root');
    await dirs.close();
  });
});
