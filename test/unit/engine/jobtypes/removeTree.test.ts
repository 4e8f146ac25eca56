import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { removeEmptyDirs, removeFile, removeTree } from '../../../../engine/jobtypes/removeTree.ts';
import { openRoot, type RootedDir } from '../../../../engine/jobtypes/rootedDir.ts';
import { listEntries, makeRoots, writeTree, type TempRoots } from './fileJobs.fixture.ts';

describe('removeTree', () => {
  let r: TempRoots;
  let root: RootedDir;
  let outsideBefore: string[];
  beforeEach(async () => {
    r = await makeRoots();
    await writeTree(r.dataDir, { 'd/a.txt': 'a', 'd/sub/b.txt': 'b', 'keep/c.txt': 'c' });
    await writeTree(r.outside, { 'o.txt': 'o', 'odir/p.txt': 'p' });
    await symlink(r.outside, path.join(r.dataDir, 'd/sub/out-link'));
    await symlink(path.join(r.outside, 'o.txt'), path.join(r.dataDir, 'd/out-file'));
    await symlink(r.outside, path.join(r.dataDir, 'out'));
    outsideBefore = await listEntries(r.outside);
    root = await openRoot(r.dataDir);
  });
  afterEach(async () => {
    await root.close();
    assert.deepEqual(await listEntries(r.outside), outsideBefore, 'nothing outside was touched');
    await r.cleanup();
  });

  it('removes a tree recursively, removing symlinks themselves and never their targets', async () => {
    await removeTree(root, 'd');
    assert.deepEqual(await listEntries(r.dataDir), ['keep', 'keep/c.txt', 'out']);
  });

  it('removes a single file or symlink; a missing path is fine; the root itself is refused', async () => {
    await removeTree(root, 'keep/c.txt');
    await removeTree(root, 'out');
    await removeTree(root, 'never/there');
    await assert.rejects(removeTree(root, ''));
    assert.deepEqual(await listEntries(r.dataDir), ['d', 'd/a.txt', 'd/out-file', 'd/sub', 'd/sub/b.txt', 'd/sub/out-link', 'keep']);
  });

  it('refuses to remove anything through a symlink out of the root', async () => {
    await assert.rejects(removeTree(root, 'out/odir'), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
    await assert.rejects(removeFile(root, 'out/o.txt'), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
    await assert.rejects(removeEmptyDirs(root, 'out/odir'), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
  });

  it('removeFile removes a file or a link (not its target), and refuses a directory', async () => {
    await removeFile(root, 'd/a.txt');
    await removeFile(root, 'd/out-file');
    await removeFile(root, 'd/a.txt'); // again: already gone
    await assert.rejects(removeFile(root, 'd/sub'), { code: 'EISDIR' });
    assert.deepEqual(await listEntries(path.join(r.dataDir, 'd')), ['sub', 'sub/b.txt', 'sub/out-link']);
  });

  it('removeEmptyDirs removes emptied directories only, and never enters a symlinked one', async () => {
    await mkdir(path.join(r.dataDir, 'd/empty/deeper'), { recursive: true });
    await removeEmptyDirs(root, 'd');
    assert.deepEqual(await listEntries(path.join(r.dataDir, 'd')), ['a.txt', 'out-file', 'sub', 'sub/b.txt', 'sub/out-link']);
    await removeEmptyDirs(root, 'd/out-file'); // not a directory: nothing to do
    await removeEmptyDirs(root, 'out'); // a symlink: not entered
  });
});
