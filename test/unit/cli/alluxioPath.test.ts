/** Alluxio paths ↔ native spec paths, and the one spelling (type, path) identity compares. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeNative, toAlluxioPath, toNativePath } from '../../../cli/alluxioPath.ts';
import { CliError, EXIT } from '../../../cli/exitCodes.ts';

describe('alluxio paths', () => {
  it('maps absolute paths under the files root', () => {
    assert.equal(toNativePath('/'), '.');
    assert.equal(toNativePath('/dir'), 'dir');
    assert.equal(toNativePath('/a//b/'), 'a/b');
    assert.equal(toNativePath('alluxio://master:19998/a/b'), 'a/b');
    assert.equal(toAlluxioPath('a/b'), '/a/b');
    assert.equal(toAlluxioPath('.'), '/');
  });

  it('compares spellings of one path equal', () => {
    for (const s of ['dir/x', './dir/x', 'dir/x/', 'dir//x', '/dir/./x']) assert.equal(normalizeNative(s), 'dir/x');
  });

  it('refuses a relative path as invalid input', () => {
    assert.throws(() => toNativePath('dir'), (e: unknown) => e instanceof CliError && e.exitCode === EXIT.INVALID_INPUT);
  });
});
