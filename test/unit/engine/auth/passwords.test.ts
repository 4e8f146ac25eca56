import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../../../engine/auth/passwords.ts';
import { isAppError } from '../../../../engine/errors.ts';

const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe('passwords', () => {
  it('hashes to scrypt$N$r$p$salt$hash with a fresh salt, and verifies', async () => {
    const a = await hashPassword('correct horse battery', FAST);
    const b = await hashPassword('correct horse battery', FAST);
    assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('correct horse battery', a), true);
    assert.equal(await verifyPassword('correct horse batterx', a), false);
    assert.equal(await verifyPassword('', a), false);
  });

  it('the default cost is what production stores', async () => {
    assert.match(await hashPassword('correct horse battery'), /^scrypt\$32768\$8\$1\$/);
  });

  it('unicode passwords are normalized (NFC) before hashing', async () => {
    const h = await hashPassword('pa\u0073\u0301word-long-enough', FAST);
    assert.equal(await verifyPassword('pa\u015bword-long-enough', h), true);
  });

  it('a malformed or absurdly expensive stored hash never verifies (and does not throw)', async () => {
    for (const bad of ['', 'plain', 'scrypt$1024$8$1$$', 'bcrypt$1$2$3$4$5', `scrypt$${2 ** 30}$8$1$AAAA$${'A'.repeat(43)}`, 'scrypt$x$8$1$AAAA$AAAA']) {
      assert.equal(await verifyPassword('anything at all', bad), false, bad);
    }
  });

  it('policy: 12 to 256 characters', () => {
    assert.throws(() => checkPasswordPolicy('x'.repeat(11)), (e) => isAppError(e, 'VALIDATION_FAILED'));
    assert.throws(() => checkPasswordPolicy('x'.repeat(257)), (e) => isAppError(e, 'VALIDATION_FAILED'));
    checkPasswordPolicy('x'.repeat(12));
    checkPasswordPolicy('x'.repeat(256));
  });
});
