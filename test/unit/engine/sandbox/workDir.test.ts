import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../../../engine/errors.ts';
import { createWorkDir, removeWorkDir } from '../../../../engine/sandbox/index.ts';

describe('work dirs', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'jetjobs-workdir-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates <root>/<name> with mode 0700, once', async () => {
    const dir = await createWorkDir(root, 'task-1.a_b');
    assert.equal(dir, path.join(root, 'task-1.a_b'));
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    await assert.rejects(createWorkDir(root, 'task-1.a_b'), { code: 'EEXIST' });
  });

  it('refuses names that are not one plain segment', async () => {
    for (const name of ['', '.', '..', '...', 'a/b', '../x', 'a b', 'x'.repeat(129), 'é']) {
      await assert.rejects(createWorkDir(root, name), (e: unknown) => e instanceof AppError && e.code === 'INVALID_SPEC', name);
      await assert.rejects(removeWorkDir(root, name), AppError, name);
    }
    await assert.rejects(createWorkDir('relative/root', 'x'), AppError);
  });

  it('removes it with its contents, unlinking symlinks without following them', async () => {
    const outside = path.join(root, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'keep.txt'), 'keep');
    const dir = await createWorkDir(root, 'task-2');
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'sub', 'f'), 'x');
    await symlink(outside, path.join(dir, 'link'));
    await removeWorkDir(root, 'task-2');
    await assert.rejects(stat(dir), { code: 'ENOENT' });
    assert.equal(await readFile(path.join(outside, 'keep.txt'), 'utf8'), 'keep');
    await removeWorkDir(root, 'task-2'); // already gone: fine
  });

  it('unlinks a work dir that was replaced by a symlink, not its target', async () => {
    const target = path.join(root, 'target');
    await mkdir(target);
    await writeFile(path.join(target, 'keep.txt'), 'keep');
    const dir = await createWorkDir(root, 'task-3');
    await rm(dir, { recursive: true });
    await symlink(target, dir);
    await removeWorkDir(root, 'task-3');
    await assert.rejects(stat(dir), { code: 'ENOENT' });
    assert.equal(await readFile(path.join(target, 'keep.txt'), 'utf8'), 'keep');
  });
});
