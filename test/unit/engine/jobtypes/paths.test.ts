import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '../../../../engine/errors.ts';
import { canonicalPath, isInside, lexicalInside, relativeInside, resolveInside, rootRelative } from '../../../../engine/jobtypes/paths.ts';
import { makeRoots, type TempRoots } from './fileJobs.fixture.ts';

describe('resolveInside', () => {
  let r: TempRoots;
  let root: string;
  before(async () => {
    r = await makeRoots();
    root = r.dataDir;
    await mkdir(path.join(root, 'a'));
    await writeFile(path.join(r.outside, 'secret'), 'x');
    await symlink(r.outside, path.join(root, 'out-link'));
    await symlink(path.join(r.outside, 'secret'), path.join(root, 'out-file-link'));
    await symlink(path.join(root, 'a'), path.join(root, 'in-link'));
    await symlink(path.join(root, 'nowhere'), path.join(root, 'dangling'));
  });
  after(() => r.cleanup());

  const rejects = (userPath: string) =>
    assert.throws(() => resolveInside(root, userPath), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'), `expected ${JSON.stringify(userPath)} to be rejected`);

  it('resolves relative paths under the root', () => {
    assert.equal(resolveInside(root, 'a/b.txt'), path.join(root, 'a/b.txt'));
    assert.equal(resolveInside(root, 'a/../b'), path.join(root, 'b'));
    assert.equal(resolveInside(root, './a/'), path.join(root, 'a'));
  });

  it('treats the empty string as the root itself', () => {
    assert.equal(resolveInside(root, ''), root);
  });

  it('rejects ../../etc/passwd', () => rejects('../../etc/passwd'));
  it('rejects /etc/passwd', () => rejects('/etc/passwd'));
  it('rejects a/../../b', () => rejects('a/../../b'));
  it('rejects a backslash path (..\\x)', () => rejects('..\\x'));
  it('rejects a NUL byte (a\\u0000b)', () => rejects('a\u0000b'));
  it('rejects other control characters', () => rejects('a\nb'));
  it('rejects a sibling that shares the root name as a prefix', () => rejects(`../${path.basename(root)}-evil/x`));

  it('accepts an absolute path only when it is inside the root', () => {
    assert.equal(resolveInside(root, path.join(root, 'a')), path.join(root, 'a'));
    rejects(r.outside);
  });

  it('keeps %2e%2e%2f as a literal directory name inside the root', () => {
    assert.equal(resolveInside(root, '%2e%2e%2f'), path.join(root, '%2e%2e%2f'));
    assert.equal(resolveInside(root, '%2e%2e%2f/etc'), path.join(root, '%2e%2e%2f/etc'));
  });

  it('rejects a symlink inside the root that points outside, and anything below it', () => {
    rejects('out-link');
    rejects('out-link/secret');
    rejects('out-link/not-yet/created');
    rejects('out-file-link');
  });

  it('accepts a symlink that stays inside the root', () => {
    assert.equal(resolveInside(root, 'in-link/new'), path.join(root, 'in-link/new'));
  });

  it('rejects a dangling symlink (a write through it could land anywhere)', () => rejects('dangling'));

  it('works when the root itself is reached through a symlink', async () => {
    const linkedRoot = path.join(r.base, 'data-link');
    await symlink(root, linkedRoot);
    assert.equal(resolveInside(linkedRoot, 'a/x'), path.join(linkedRoot, 'a/x'));
    assert.throws(() => resolveInside(linkedRoot, 'out-link/secret'), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
  });

  it('rejects a symlink loop, on the way or at the end', async () => {
    await symlink('loop-b', path.join(root, 'loop-a'));
    await symlink('loop-a', path.join(root, 'loop-b'));
    for (const p of ['loop-a', 'loop-a/x/y']) {
      assert.throws(() => resolveInside(root, p), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT') && /symlink loop/.test(e.message), p);
    }
  });

  it('resolves a path below a file by name (the write would fail, not escape)', async () => {
    await writeFile(path.join(root, 'a', 'file.txt'), 'x');
    assert.equal(resolveInside(root, 'a/file.txt/x/y'), path.join(root, 'a/file.txt/x/y'));
  });

  it('resolves a deep path that partly exists at once: the event loop is not held for seconds', async () => {
    // a fuzzed Persist path of 2,000 components, the first 150 made by an earlier job: the walk up
    // with a realpath per component took ~4 s here (~35 s with 500 existing), the process deaf meanwhile
    await mkdir(path.join(root, 'deep', 'd/'.repeat(150)), { recursive: true });
    const userPath = `deep/${'d/'.repeat(1999)}d`;
    const started = performance.now();
    assert.equal(resolveInside(root, userPath), path.join(root, userPath));
    assert.equal(canonicalPath(path.join(root, userPath)), path.join(await realpath(root), userPath));
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
  });
});

describe('relativeInside and isInside', () => {
  it('gives /-separated paths relative to the root', () => {
    assert.equal(relativeInside('/r', '/r/a/b'), 'a/b');
    assert.equal(relativeInside('/r', '/r'), '');
  });

  it('rejects a path outside the root', () => {
    assert.throws(() => relativeInside('/r', '/rr/a'), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
    assert.throws(() => relativeInside('/r', '/'), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'));
  });

  it('isInside is true for the dir itself and below, false for prefixes and parents', () => {
    assert.equal(isInside('/r', '/r'), true);
    assert.equal(isInside('/r', '/r/..x'), true);
    assert.equal(isInside('/r', '/rx'), false);
    assert.equal(isInside('/r/a', '/r'), false);
  });
});

describe('lexicalInside and rootRelative (by name only, for opening beneath a root handle)', () => {
  it('resolve and normalise without touching the file system', () => {
    assert.equal(lexicalInside('/r', 'a/./b/../c'), '/r/a/c');
    assert.equal(rootRelative('/r', 'a/./b/../c'), 'a/c');
    assert.equal(rootRelative('/r', '/r/a/'), 'a');
    assert.equal(rootRelative('/r', ''), '');
  });

  it('reject what resolveInside rejects by name', () => {
    for (const p of ['../x', '/etc/passwd', 'a/../../b', 'a\\b', 'a\u0000b']) {
      assert.throws(() => rootRelative('/r', p), (e) => isAppError(e, 'PATH_OUTSIDE_ROOT'), JSON.stringify(p));
    }
  });
});
