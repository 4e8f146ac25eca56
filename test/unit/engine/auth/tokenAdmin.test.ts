/** Tokens beyond login (engine/auth/tokenAdmin.ts): issued without a password, application tokens, listing, scoped revocation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { isAppError, type ErrorCode } from '../../../../engine/errors.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createIdentity, type Identity } from '../../../../engine/auth/identity.ts';
import { tokenId } from '../../../../engine/auth/tokens.ts';
import { verifyPassword } from '../../../../engine/auth/passwords.ts';
import type { Caller } from '../../../../engine/serviceTypes.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';

const PW = 'correct horse battery';
const ADMIN_TOKEN = 'static-admin-token-0123456789abcdef';
const T2030 = Date.parse('2030-01-01T00:00:00Z');
const TTL_MS = 60_000;
const MAX_TTL_MS = 600_000;

function setup() {
  const store = createMemoryControlStore();
  const clock = createFakeClock({ wallMs: T2030, monotonicMs: T2030 });
  const verified: string[] = [];
  const identity = createIdentity({
    store,
    clock,
    logger: silentLogger,
    scryptParams: { N: 2 ** 10, r: 8, p: 1 },
    config: { tokenTtlMs: TTL_MS, tokenMaxTtlMs: MAX_TTL_MS, adminToken: ADMIN_TOKEN, adminPassword: null },
    verifyPassword: (password, stored) => (verified.push(stored), verifyPassword(password, stored)),
  });
  return { store, clock, identity, verified };
}

const bearer = (t: string) => `Bearer ${t}`;
const rejectsWith = (p: Promise<unknown>, code: ErrorCode) => assert.rejects(p, (err) => isAppError(err, code));
const throwsWith = (fn: () => unknown, code: ErrorCode) => assert.throws(fn, (err) => isAppError(err, code));
const callerOf = (identity: Identity, token: string): Caller => identity.authenticate(bearer(token));

describe('identity: issueToken', () => {
  it('issues a session token without checking a password; ttl defaults to tokenTtlMs, capped at tokenMaxTtlMs', async () => {
    const { identity, clock, verified } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'operator' });
    const t = await identity.issueToken('alice');
    assert.equal(verified.length, 0, 'no password verification');
    assert.match(t.token, /^jjt_[A-Za-z0-9_-]{43}$/);
    assert.equal(t.user.name, 'alice');
    assert.equal(Date.parse(t.expiresAt) - clock.now(), TTL_MS);
    assert.deepEqual(callerOf(identity, t.token), { user: 'alice', role: 'operator', virtualClusters: ['default'], tokenKind: 'session' });
    assert.equal(Date.parse((await identity.issueToken('alice', { ttlMs: 10 * MAX_TTL_MS })).expiresAt) - clock.now(), MAX_TTL_MS);
    assert.equal(Date.parse((await identity.issueToken('alice', { ttlMs: 5_000 })).expiresAt) - clock.now(), 5_000);
    await clock.advance(TTL_MS);
    throwsWith(() => callerOf(identity, t.token), 'UNAUTHENTICATED');
  });

  it('issues application tokens: tokenKind application, ttl defaults to and is capped at tokenMaxTtlMs', async () => {
    const { identity, clock, store } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'admin' });
    const app = await identity.issueToken('alice', { application: true });
    assert.equal(Date.parse(app.expiresAt) - clock.now(), MAX_TTL_MS);
    assert.equal(callerOf(identity, app.token).tokenKind, 'application');
    assert.equal(callerOf(identity, app.token).role, 'admin');
    assert.equal(store.get<{ application?: true }>(`token.${tokenId(app.token)}`)!.value.application, true);
    const short = await identity.issueToken('alice', { application: true, ttlMs: 1_000 });
    assert.equal(Date.parse(short.expiresAt) - clock.now(), 1_000);
    const capped = await identity.issueToken('alice', { application: true, ttlMs: 10 * MAX_TTL_MS });
    assert.equal(Date.parse(capped.expiresAt) - clock.now(), MAX_TTL_MS);
    // the login and the static admin token are sessions
    assert.equal(callerOf(identity, (await identity.login('alice', PW)).token).tokenKind, 'session');
    assert.equal(callerOf(identity, ADMIN_TOKEN).tokenKind, 'session');
  });

  it('an unknown user is USER_NOT_FOUND; a ttl that is not a number is VALIDATION_FAILED; nothing is stored', async () => {
    const { identity, store } = setup();
    await rejectsWith(identity.issueToken('ghost'), 'USER_NOT_FOUND');
    await rejectsWith(identity.issueToken('not a name'), 'USER_NOT_FOUND');
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    await rejectsWith(identity.issueToken('alice', { ttlMs: Number.NaN }), 'VALIDATION_FAILED');
    await rejectsWith(identity.issueToken('alice', { ttlMs: '60000' as unknown as number }), 'VALIDATION_FAILED');
    assert.equal(store.list('token.').length, 0);
  });

  it('a password change and a deletion revoke issued tokens too', async () => {
    const { identity } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    const app = await identity.issueToken('alice', { application: true });
    await identity.setPassword('alice', 'a brand new password');
    throwsWith(() => callerOf(identity, app.token), 'UNAUTHENTICATED');
    assert.deepEqual(identity.listTokens('alice'), []);
  });
});

describe('identity: listTokens', () => {
  it("lists the user's live tokens by id, newest first, never the token; not expired, revoked or other users' ones", async () => {
    const { identity, clock } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    await identity.createUser({ name: 'bob', password: PW, role: 'viewer' });
    const first = await identity.issueToken('alice');
    await clock.advance(1_000);
    const app = await identity.issueToken('alice', { application: true });
    await clock.advance(1_000);
    const soon = await identity.issueToken('alice', { ttlMs: 1_000 });
    const gone = await identity.issueToken('alice');
    await identity.issueToken('bob');
    await identity.logout(gone.token);
    const list = identity.listTokens('alice');
    assert.deepEqual(list, [
      { id: tokenId(soon.token), application: false, createdAt: '2030-01-01T00:00:02.000Z', expiresAt: soon.expiresAt },
      { id: tokenId(app.token), application: true, createdAt: '2030-01-01T00:00:01.000Z', expiresAt: app.expiresAt },
      { id: tokenId(first.token), application: false, createdAt: '2030-01-01T00:00:00.000Z', expiresAt: first.expiresAt },
    ]);
    for (const t of [first, app, soon]) assert.ok(!JSON.stringify(list).includes(t.token));
    await clock.advance(1_000);
    assert.deepEqual(identity.listTokens('alice').map((t) => t.id), [tokenId(app.token), tokenId(first.token)]);
    assert.equal(identity.listTokens('bob').length, 1);
    assert.deepEqual(identity.listTokens('ghost'), []);
    assert.deepEqual(identity.listTokens('not a name'), []);
  });
});

describe('identity: revokeToken', () => {
  it('revokes by token or by id; only your own unless admin (FORBIDDEN); unknown is NOT_FOUND', async () => {
    const { identity } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'operator' });
    await identity.createUser({ name: 'bob', password: PW, role: 'operator' });
    await identity.createUser({ name: 'root', password: PW, role: 'admin' });
    const alice = callerOf(identity, (await identity.issueToken('alice')).token);
    const bob = callerOf(identity, (await identity.issueToken('bob')).token);
    const root = callerOf(identity, (await identity.issueToken('root')).token);

    const byToken = await identity.issueToken('alice', { application: true });
    await identity.revokeToken(alice, byToken.token);
    throwsWith(() => callerOf(identity, byToken.token), 'UNAUTHENTICATED');

    const byId = await identity.issueToken('alice');
    await identity.revokeToken(alice, tokenId(byId.token));
    throwsWith(() => callerOf(identity, byId.token), 'UNAUTHENTICATED');

    const foreign = await identity.issueToken('alice');
    await rejectsWith(identity.revokeToken(bob, foreign.token), 'FORBIDDEN');
    await rejectsWith(identity.revokeToken(bob, tokenId(foreign.token)), 'FORBIDDEN');
    callerOf(identity, foreign.token); // still works
    await identity.revokeToken(root, tokenId(foreign.token));
    throwsWith(() => callerOf(identity, foreign.token), 'UNAUTHENTICATED');
    // the static admin token is an admin too
    const another = await identity.issueToken('bob');
    await identity.revokeToken(callerOf(identity, ADMIN_TOKEN), another.token);
    throwsWith(() => callerOf(identity, another.token), 'UNAUTHENTICATED');

    // unknown, already revoked, malformed, upper-case hex, and the static admin token itself
    for (const t of [byToken.token, tokenId(byId.token), `jjt_${'A'.repeat(43)}`, 'f'.repeat(64), 'F'.repeat(64), 'nope', '', ADMIN_TOKEN]) {
      await rejectsWith(identity.revokeToken(root, t), 'NOT_FOUND');
    }
    assert.equal(identity.listTokens('alice').length, 1, "alice's first session token remains");
    assert.equal(callerOf(identity, ADMIN_TOKEN).user, 'admin');
  });

  it('an expired token is NOT_FOUND (the sweep removes it)', async () => {
    const { identity, clock } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    const t = await identity.issueToken('alice', { ttlMs: 1_000 });
    const alice = callerOf(identity, t.token);
    await clock.advance(1_000);
    await rejectsWith(identity.revokeToken(alice, t.token), 'NOT_FOUND');
    assert.equal(await identity.sweepExpiredTokens(), 1);
  });
});
