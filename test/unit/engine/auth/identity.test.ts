import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { controlKey, createMemoryControlStore, type ControlStore } from '../../../../engine/controlstore/controlStore.ts';
import { isAppError, type ErrorCode } from '../../../../engine/errors.ts';
import { silentLogger } from '../../../../engine/log.ts';
import { createIdentity, type Identity, type IdentityOptions } from '../../../../engine/auth/identity.ts';
import { tokenId } from '../../../../engine/auth/tokens.ts';
import { verifyPassword } from '../../../../engine/auth/passwords.ts';
import { createFakeClock } from '../../../helpers/fakeClock.ts';

/** Cheap scrypt for tests; production uses DEFAULT_SCRYPT_PARAMS. */
const FAST = { N: 2 ** 10, r: 8, p: 1 };
const PW = 'correct horse battery';
const ADMIN_TOKEN = 'static-admin-token-0123456789abcdef';
const T2030 = Date.parse('2030-01-01T00:00:00Z');

function setup(overrides: Partial<IdentityOptions> = {}, config: Partial<IdentityOptions['config']> = {}) {
  const store = overrides.store ?? createMemoryControlStore();
  const clock = createFakeClock({ wallMs: T2030, monotonicMs: T2030 });
  const identity = createIdentity({
    store,
    clock,
    logger: silentLogger,
    scryptParams: FAST,
    config: { tokenTtlMs: 60_000, tokenMaxTtlMs: 600_000, adminToken: ADMIN_TOKEN, adminPassword: null, ...config },
    ...overrides,
  });
  return { store, clock, identity };
}

const bearer = (t: string) => `Bearer ${t}`;
const rejectsWith = (p: Promise<unknown>, code: ErrorCode) => assert.rejects(p, (err) => isAppError(err, code));
const throwsWith = (fn: () => unknown, code: ErrorCode) => assert.throws(fn, (err) => isAppError(err, code));

async function withUser(identity: Identity, name = 'alice', role: 'admin' | 'operator' | 'viewer' = 'operator') {
  await identity.createUser({ name, password: PW, role });
  return (await identity.login(name, PW)).token;
}

describe('identity: bootstrap', () => {
  it('creates admin once with a generated 24-char password that logs in', async () => {
    const { identity } = setup();
    const first = await identity.bootstrap();
    assert.equal(first.adminCreated, true);
    assert.match(first.generatedPassword ?? '', /^[A-Za-z0-9]{24}$/);
    const { user } = await identity.login('admin', first.generatedPassword!);
    assert.equal(user.role, 'admin');
    assert.deepEqual(await identity.bootstrap(), { adminCreated: false });
  });

  it('uses the configured admin password and returns none', async () => {
    const { identity } = setup({}, { adminPassword: 'configured-admin-pw' });
    assert.deepEqual(await identity.bootstrap(), { adminCreated: true });
    await identity.login('admin', 'configured-admin-pw');
  });

  it('two processes racing on one store create exactly one admin', async () => {
    const store = createMemoryControlStore();
    const a = setup({ store }).identity;
    const b = setup({ store }).identity;
    const results = await Promise.all([a.bootstrap(), b.bootstrap()]);
    assert.equal(results.filter((r) => r.adminCreated).length, 1);
    assert.equal(a.listUsers().length, 1);
  });

  it('does nothing when users exist', async () => {
    const { identity } = setup();
    await identity.createUser({ name: 'ops', password: PW, role: 'admin' });
    assert.deepEqual(await identity.bootstrap(), { adminCreated: false });
  });
});

describe('identity: login and tokens', () => {
  it('a login token authenticates as the user, with default added to the grants', async () => {
    const { identity, store } = setup();
    const token = await withUser(identity);
    assert.match(token, /^jjt_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(identity.authenticate(bearer(token)), { user: 'alice', role: 'operator', virtualClusters: ['default'], tokenKind: 'session' });
    // only the hash is stored, and no record holds the token itself
    assert.ok(store.get(`token.${tokenId(token)}`));
    assert.ok(!JSON.stringify(store.list('')).includes(token));
  });

  it('unknown user and wrong password are the same INVALID_CREDENTIALS', async () => {
    const { identity } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    const errs: unknown[] = [];
    for (const [u, p] of [['alice', 'wrong password!!'], ['nobody', PW], ['Bad Name', PW]] as const) {
      await identity.login(u, p).catch((e: unknown) => errs.push(e));
    }
    assert.equal(errs.length, 3);
    for (const e of errs) assert.ok(isAppError(e, 'INVALID_CREDENTIALS'));
    assert.equal(new Set(errs.map((e) => (e as Error).message)).size, 1);
  });

  it('an unknown user costs a password verification too (no timing shortcut)', async () => {
    // Counted, not timed: each login runs one scrypt verification at the same cost parameters.
    const checked: string[] = [];
    const { identity, store } = setup({
      verifyPassword: (password, stored) => {
        checked.push(stored);
        return verifyPassword(password, stored);
      },
    });
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    const cost = (hash: string) => hash.split('$').slice(0, 4).join('$'); // scrypt$N$r$p
    const aliceHash = store.get<{ passwordHash: string }>(controlKey('user', 'alice'))!.value;
    await rejectsWith(identity.login('alice', 'wrong password!!'), 'INVALID_CREDENTIALS');
    await rejectsWith(identity.login('nobody', 'wrong password!!'), 'INVALID_CREDENTIALS');
    await rejectsWith(identity.login('alice', 'x'.repeat(10_000)), 'INVALID_CREDENTIALS');
    assert.equal(checked.length, 3);
    assert.equal(checked[0], aliceHash.passwordHash);
    assert.notEqual(checked[1], aliceHash.passwordHash);
    assert.deepEqual(checked.map(cost), Array(3).fill(cost(aliceHash.passwordHash)));
  });

  it('checkLogin tells ok, noUser and badPassword apart, issues no token, and does the same work for each', async () => {
    const checked: string[] = [];
    const { identity, store } = setup({
      verifyPassword: (password, stored) => {
        checked.push(stored);
        return verifyPassword(password, stored);
      },
    });
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    const aliceHash = store.get<{ passwordHash: string }>(controlKey('user', 'alice'))!.value.passwordHash;
    assert.equal(await identity.checkLogin('alice', PW), 'ok');
    assert.equal(await identity.checkLogin('alice', 'wrong password!!'), 'badPassword');
    assert.equal(await identity.checkLogin('nobody', PW), 'noUser');
    assert.equal(await identity.checkLogin('not a name', PW), 'noUser');
    // over-long: wrong for a known user, unknown for an unknown one; the dummy hash either way
    assert.equal(await identity.checkLogin('alice', 'x'.repeat(10_000)), 'badPassword');
    assert.equal(await identity.checkLogin('nobody', 'x'.repeat(10_000)), 'noUser');
    assert.equal(checked.length, 6, 'one verification per check');
    assert.deepEqual(checked.slice(0, 2), [aliceHash, aliceHash]);
    const dummy = checked[2]!;
    assert.notEqual(dummy, aliceHash);
    assert.deepEqual(checked.slice(2), [dummy, dummy, dummy, dummy]);
    const cost = (hash: string) => hash.split('$').slice(0, 4).join('$'); // scrypt$N$r$p
    assert.equal(cost(dummy), cost(aliceHash));
    assert.equal(store.list('token.').length, 0);
    // the native login keeps one answer for both failures
    await rejectsWith(identity.login('nobody', PW), 'INVALID_CREDENTIALS');
    await rejectsWith(identity.login('alice', 'wrong password!!'), 'INVALID_CREDENTIALS');
  });

  it('tokens expire; ttl is bounded by tokenMaxTtlMs', async () => {
    const { identity, clock } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    const short = await identity.login('alice', PW);
    assert.equal(Date.parse(short.expiresAt) - clock.now(), 60_000);
    const long = await identity.login('alice', PW, 10 * 600_000);
    assert.equal(Date.parse(long.expiresAt) - clock.now(), 600_000);
    await clock.advance(60_000);
    throwsWith(() => identity.authenticate(bearer(short.token)), 'UNAUTHENTICATED');
    identity.authenticate(bearer(long.token));
    await clock.advance(540_000);
    throwsWith(() => identity.authenticate(bearer(long.token)), 'UNAUTHENTICATED');
  });

  it('missing, malformed and forged tokens are UNAUTHENTICATED', async () => {
    const { identity } = setup();
    const token = await withUser(identity);
    for (const h of [undefined, '', 'Basic abc', 'Bearer', 'Bearer ', `Bearer ${token}x`, `Bearer jjt_${'A'.repeat(43)}`, token, `Bearer ${token} extra`]) {
      throwsWith(() => identity.authenticate(h), 'UNAUTHENTICATED');
    }
  });

  it('the static admin token acts as admin; a near miss does not', async () => {
    const { identity } = setup();
    assert.deepEqual(identity.authenticate(bearer(ADMIN_TOKEN)), { user: 'admin', role: 'admin', virtualClusters: ['default'], tokenKind: 'session' });
    throwsWith(() => identity.authenticate(bearer(ADMIN_TOKEN.slice(0, -1) + 'X')), 'UNAUTHENTICATED');
    const none = setup({}, { adminToken: null }).identity;
    throwsWith(() => none.authenticate(bearer(ADMIN_TOKEN)), 'UNAUTHENTICATED');
  });

  it('logout revokes only that token', async () => {
    const { identity } = setup();
    const a = await withUser(identity);
    const b = (await identity.login('alice', PW)).token;
    await identity.logout(a);
    throwsWith(() => identity.authenticate(bearer(a)), 'UNAUTHENTICATED');
    identity.authenticate(bearer(b));
    await identity.logout('not-a-token');
  });

  it('a password change revokes every token of the user and the new password works', async () => {
    const { identity, store } = setup();
    const a = await withUser(identity);
    const b = (await identity.login('alice', PW)).token;
    const bob = await withUser(identity, 'bob');
    await identity.setPassword('alice', 'a brand new password');
    throwsWith(() => identity.authenticate(bearer(a)), 'UNAUTHENTICATED');
    throwsWith(() => identity.authenticate(bearer(b)), 'UNAUTHENTICATED');
    identity.authenticate(bearer(bob));
    await rejectsWith(identity.login('alice', PW), 'INVALID_CREDENTIALS');
    const fresh = (await identity.login('alice', 'a brand new password')).token;
    identity.authenticate(bearer(fresh));
    // the revoked records are gone too
    assert.equal(store.list('token.').length, 2);
  });

  it('deleting a user revokes its tokens, also if the name is created again', async () => {
    const { identity, store } = setup();
    await identity.createUser({ name: 'root', password: PW, role: 'admin' });
    const old = await withUser(identity);
    // keep a copy of the token record, as if the best-effort cleanup had failed
    const rec = store.get(`token.${tokenId(old)}`)!.value;
    await identity.deleteUser('alice');
    throwsWith(() => identity.authenticate(bearer(old)), 'UNAUTHENTICATED');
    await identity.createUser({ name: 'alice', password: PW, role: 'operator' });
    await store.create(`token.${tokenId(old)}`, rec);
    throwsWith(() => identity.authenticate(bearer(old)), 'UNAUTHENTICATED');
  });

  it('sweepExpiredTokens removes expired and revoked records only', async () => {
    const { identity, clock, store } = setup();
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    await identity.login('alice', PW, 1_000);
    const live = (await identity.login('alice', PW)).token;
    await clock.advance(1_000);
    assert.equal(await identity.sweepExpiredTokens(), 1);
    assert.deepEqual(store.list('token.').map((e) => e.key), [`token.${tokenId(live)}`]);
    assert.equal(await identity.sweepExpiredTokens(), 0);
  });
});

describe('identity: users', () => {
  it('creates, lists, updates and reads users without exposing the hash', async () => {
    const { identity } = setup();
    await identity.createVirtualCluster({ name: 'gpu', capacity: 30, maxCapacity: 50 });
    const created = await identity.createUser({ name: 'alice', password: PW, role: 'viewer', virtualClusters: ['gpu'] });
    assert.deepEqual(Object.keys(created).sort(), ['createdAt', 'name', 'role', 'updatedAt', 'virtualClusters']);
    await rejectsWith(identity.createUser({ name: 'alice', password: PW, role: 'viewer' }), 'USER_EXISTS');
    const updated = await identity.updateUser('alice', { role: 'operator', virtualClusters: [] });
    assert.equal(updated.role, 'operator');
    assert.deepEqual(identity.getUser('alice').virtualClusters, []);
    assert.deepEqual(identity.listUsers().map((u) => u.name), ['alice']);
    assert.ok(!JSON.stringify(identity.listUsers()).includes('scrypt'));
  });

  it('refuses bad names, short passwords, unknown VCs and unknown users', async () => {
    const { identity } = setup();
    for (const name of ['a.b', 'a*', 'a>', '1abc', '_Abc', 'x'.repeat(33), 'ali ce', 'al\u202eice', 'Ä', '']) {
      await rejectsWith(identity.createUser({ name, password: PW, role: 'viewer' }), 'VALIDATION_FAILED');
    }
    await rejectsWith(identity.createUser({ name: 'bob', password: 'short', role: 'viewer' }), 'VALIDATION_FAILED');
    await rejectsWith(identity.createUser({ name: 'bob', password: PW, role: 'viewer', virtualClusters: ['nope'] }), 'VIRTUAL_CLUSTER_NOT_FOUND');
    await rejectsWith(identity.updateUser('ghost', { role: 'viewer' }), 'USER_NOT_FOUND');
    await rejectsWith(identity.setPassword('ghost', PW), 'USER_NOT_FOUND');
    await rejectsWith(identity.deleteUser('ghost'), 'USER_NOT_FOUND');
    throwsWith(() => identity.getUser('ghost'), 'USER_NOT_FOUND');
  });

  it('the last admin can be neither deleted nor demoted', async () => {
    const { identity } = setup();
    await identity.createUser({ name: 'root', password: PW, role: 'admin' });
    await rejectsWith(identity.deleteUser('root'), 'INVALID_TRANSITION');
    await rejectsWith(identity.updateUser('root', { role: 'viewer' }), 'INVALID_TRANSITION');
    await identity.createUser({ name: 'root2', password: PW, role: 'admin' });
    await identity.deleteUser('root');
    assert.deepEqual(identity.listUsers().map((u) => u.name), ['root2']);
  });

  it('concurrent updates of one user both land (CAS retried)', async () => {
    const { identity } = setup();
    await identity.createVirtualCluster({ name: 'a', capacity: 10, maxCapacity: 20 });
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer' });
    await Promise.all([identity.updateUser('alice', { role: 'operator' }), identity.setPassword('alice', 'another good password')]);
    assert.equal(identity.getUser('alice').role, 'operator');
    await identity.login('alice', 'another good password');
  });
});

describe('identity: user names', () => {
  it('may have upper-case letters (OpenPAI SDK tests create nonadminTestUser); case-sensitive', async () => {
    const { identity } = setup();
    await identity.createUser({ name: 'nonadminTestUser', password: PW, role: 'operator' });
    const { token, user } = await identity.login('nonadminTestUser', PW);
    assert.equal(user.name, 'nonadminTestUser');
    assert.equal(identity.authenticate(bearer(token)).user, 'nonadminTestUser');
    assert.equal(identity.getUser('nonadminTestUser').role, 'operator');
    await identity.createUser({ name: 'X'.repeat(32), password: PW, role: 'viewer' });
    // another case is another user
    throwsWith(() => identity.getUser('nonadmintestuser'), 'USER_NOT_FOUND');
    await rejectsWith(identity.login('NonadminTestUser', PW), 'INVALID_CREDENTIALS');
    await identity.createUser({ name: 'nonadmintestuser', password: PW, role: 'viewer' });
    assert.deepEqual(identity.listUsers().map((u) => u.name).sort(), ['X'.repeat(32), 'nonadminTestUser', 'nonadmintestuser'].sort());
    await identity.setPassword('nonadminTestUser', 'a brand new password');
    await identity.deleteUser('nonadminTestUser');
    throwsWith(() => identity.getUser('nonadminTestUser'), 'USER_NOT_FOUND');
  });

  it('the error quotes the user-name rule; virtual-cluster names stay lower-case', async () => {
    const { identity } = setup();
    await assert.rejects(identity.createUser({ name: '1abc', password: PW, role: 'viewer' }), (e: unknown) => isAppError(e, 'VALIDATION_FAILED') && e.message.includes('^[A-Za-z][A-Za-z0-9_-]{0,31}$'));
    await assert.rejects(identity.createVirtualCluster({ name: 'Gpu', capacity: 1, maxCapacity: 1 }), (e: unknown) => isAppError(e, 'VALIDATION_FAILED') && e.message.includes('^[a-z][a-z0-9_-]{0,31}$'));
    assert.equal(controlKey('user', 'Alice'), 'user.Alice');
    throwsWith(() => controlKey('vc', 'Alice'), 'VALIDATION_FAILED');
  });
});

describe('identity: virtual clusters', () => {
  it('create, update, list and delete with the share rules', async () => {
    const { identity } = setup();
    await identity.createVirtualCluster({ name: 'gpu', capacity: 60, maxCapacity: 100, description: 'GPU nodes' });
    await rejectsWith(identity.createVirtualCluster({ name: 'gpu', capacity: 1, maxCapacity: 1 }), 'VIRTUAL_CLUSTER_EXISTS');
    await rejectsWith(identity.createVirtualCluster({ name: 'cpu', capacity: 50, maxCapacity: 60 }), 'VALIDATION_FAILED');
    await rejectsWith(identity.createVirtualCluster({ name: 'cpu', capacity: 30, maxCapacity: 20 }), 'VALIDATION_FAILED');
    await rejectsWith(identity.createVirtualCluster({ name: 'cpu', capacity: 10, maxCapacity: 101 }), 'VALIDATION_FAILED');
    await rejectsWith(identity.createVirtualCluster({ name: 'cpu', capacity: 10, maxCapacity: 20, description: 'bad\u0000' }), 'VALIDATION_FAILED');
    await identity.createVirtualCluster({ name: 'cpu', capacity: 40, maxCapacity: 60 });
    await rejectsWith(identity.updateVirtualCluster('cpu', { capacity: 41, maxCapacity: 60 }), 'VALIDATION_FAILED');
    const gpu = await identity.updateVirtualCluster('gpu', { capacity: 50 });
    assert.deepEqual(gpu, { name: 'gpu', capacity: 50, maxCapacity: 100, description: 'GPU nodes' });
    await rejectsWith(identity.updateVirtualCluster('ghost', { capacity: 1 }), 'VIRTUAL_CLUSTER_NOT_FOUND');
    assert.deepEqual(identity.listVirtualClusters().map((d) => d.name), ['cpu', 'gpu']);
    await rejectsWith(identity.deleteVirtualCluster('default'), 'VIRTUAL_CLUSTER_IN_USE');
    await rejectsWith(identity.deleteVirtualCluster('ghost'), 'VIRTUAL_CLUSTER_NOT_FOUND');
  });

  it('deleting a VC removes it from grants; one with unfinished jobs is refused', async () => {
    const busy = new Set(['busy']);
    const { identity } = setup({ hasUnfinishedJobs: (vc) => busy.has(vc) });
    await identity.createVirtualCluster({ name: 'gpu', capacity: 10, maxCapacity: 20 });
    await identity.createVirtualCluster({ name: 'busy', capacity: 10, maxCapacity: 20 });
    await identity.createUser({ name: 'alice', password: PW, role: 'viewer', virtualClusters: ['gpu', 'busy'] });
    const token = (await identity.login('alice', PW)).token;
    assert.deepEqual([...identity.authenticate(bearer(token)).virtualClusters].sort(), ['busy', 'default', 'gpu']);
    await identity.deleteVirtualCluster('gpu');
    await rejectsWith(identity.deleteVirtualCluster('busy'), 'VIRTUAL_CLUSTER_IN_USE');
    assert.deepEqual(identity.getUser('alice').virtualClusters, ['busy']);
    assert.deepEqual(identity.listVirtualClusters().map((d) => d.name), ['busy']);
  });
});

/** The store must be the only state: a second Identity on it sees the same users and tokens. */
describe('identity: shared store', () => {
  it('a token issued by one instance authenticates on another', async () => {
    const store: ControlStore = createMemoryControlStore();
    const a = setup({ store }).identity;
    const b = setup({ store }).identity;
    const token = await withUser(a);
    assert.equal(b.authenticate(bearer(token)).user, 'alice');
  });
});

describe('identity: reserved names', () => {
  it('refuses a user named system, the owner of jobs the engine submits itself', async () => {
    const { identity } = setup();
    await assert.rejects(identity.createUser({ name: 'system', password: PW, role: 'admin' }), { code: 'VALIDATION_FAILED' });
    for (const name of ['System', 'SYSTEM']) await assert.rejects(identity.createUser({ name, password: PW, role: 'admin' }), { code: 'VALIDATION_FAILED' });
    assert.throws(() => identity.getUser('system'));
  });
});
