/**
 * The OpenPAI facade's users, tokens and virtual clusters (plan §2, §5) against the real engine and
 * a real nats-server, at the wire, on the facade's own port and under `/compat/openpai/`, each with
 * and without `/rest-server`: logins per generation (form and JSON, the exact answers the SDK's
 * suite compares, the shared login rate limit), tokens (ids listed, application tokens refused on
 * administration, revocation scoped to the owner), users and profiles (roles, grants, the
 * same-password no-op, the last admin, groups kept in the profile), and virtual clusters with the
 * resources of a running exec job. Every refusal is asserted, with nothing written: the SDK's own
 * customizedTests assert only inside their catch.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { profileId, uuidV5 } from '../../../api/compat/openpai/profiles.ts';
import { execRoleOf, taskResources } from '../../../api/compat/openpai/vcRoutes.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';
import { readAnswer, type Answer, type Wire } from '../../helpers/wire.ts';

const PASSWORD = 'correct-horse-battery';
const ADMIN_PASSWORD = 'admin-password-for-tests';
const LOGIN_LIMIT = 10;

const own = (svc: TestService) => svc.facadeUrls['openpai rest server']!;
/** Where the facade answers: its own port and the API port, each with and without `/rest-server`. */
const places = (svc: TestService) => [
  { name: 'own port', url: own(svc) },
  { name: 'own port /rest-server', url: `${own(svc)}/rest-server` },
  { name: 'API port', url: `${svc.baseUrl}/compat/openpai` },
  { name: 'API port /rest-server', url: `${svc.baseUrl}/compat/openpai/rest-server` },
];

interface CallOptions { token?: string; json?: unknown; form?: string; headers?: Record<string, string> }

async function pai(url: string, method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = opts.form;
  }
  const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return readAnswer(res);
}

function expect(r: Answer, status: number, body?: unknown): void {
  assert.equal(r.status, status, r.text);
  if (body !== undefined) assert.deepEqual(r.json, body);
}

const tokenIdOf = (token: string) => createHash('sha256').update(token).digest('hex');

const V2_GUEST = { code: 'UnauthorizedUserError', message: 'Guest is not allowed to do this operation.' };
const V2_BAD_TOKEN = { code: 'UnauthorizedUserError', message: 'Your token is invalid.' };
const V2_APP = { code: 'ForbiddenUserError', message: 'Applications are not allowed to do this operation.' };
const V2_NON_ADMIN = { code: 'ForbiddenUserError', message: 'Non-admin is not allow to do this operation.' };
const V1_GUEST = { error: 'NotAuthorized', message: 'not authorized' };
const V1_APP = { error: 'NotAuthorized', message: 'not authorized: applications are not allowed to do this operation' };
const V1_NON_ADMIN = { error: 'NotAuthorized', message: 'not authorized: only an admin may do this' };

describe('OpenPAI facade: users, tokens, virtual clusters', { timeout: 240_000 }, () => {
  const ctx = useTestService({ adminPassword: ADMIN_PASSWORD, loginRateLimitPerMinute: LOGIN_LIMIT });
  const url = () => own(ctx.svc);
  const identity = () => ctx.svc.engine.identity;

  /** A session token through the v2 login (counts toward the user's login limit on the own port). */
  async function login(name: string, password = PASSWORD, at = url()): Promise<string> {
    const r = await pai(at, 'POST', '/api/v2/authn/basic/login', { form: `expiration=4000&password=${encodeURIComponent(password)}&username=${name}` });
    expect(r, 200);
    return r.json.token;
  }

  /** The admin's session token (one login for the whole suite: logins are rate limited per user). */
  let admin = '';
  before(async () => {
    admin = await login('admin', ADMIN_PASSWORD);
  });

  /** A user made through the facade by the admin (a session token). */
  async function makeUser(adminToken: string, name: string, extra: Record<string, unknown> = {}): Promise<void> {
    expect(await pai(url(), 'POST', '/api/v2/users', { token: adminToken, json: { username: name, password: PASSWORD, ...extra } }), 201, { message: 'User is created successfully' });
  }

  it('logs in per generation, urlencoded and JSON, at every prefix; failures answer what the SDK suite compares', async () => {
    await makeUser(admin, 'alice');
    for (const p of places(ctx.svc)) {
      const v2 = await pai(p.url, 'POST', '/api/v2/authn/basic/login', { form: `expiration=4000&password=${PASSWORD}&username=alice` });
      expect(v2, 200);
      assert.deepEqual(Object.keys(v2.json).sort(), ['admin', 'token', 'user'], p.name);
      assert.deepEqual([v2.json.user, v2.json.admin], ['alice', false]);
      assert.match(v2.json.token, /^jjt_/);
      const v1 = await pai(p.url, 'POST', '/api/v1/token', { json: { username: 'alice', password: PASSWORD } });
      expect(v1, 200);
      assert.deepEqual(Object.keys(v1.json).sort(), ['token', 'user'], p.name);
      // both tokens work on a token route
      const listed = await pai(p.url, 'GET', '/api/v2/tokens', { token: v1.json.token });
      expect(listed, 200);
      assert.ok(listed.json.tokens.includes(tokenIdOf(v2.json.token)), p.name);
      assert.ok(listed.json.tokens.includes(tokenIdOf(v1.json.token)), p.name);

      expect(await pai(p.url, 'POST', '/api/v2/authn/basic/login', { form: 'expiration=4000&password=password&username=nonexistentuser' }), 400, { code: 'NoUserError', message: 'User nonexistentuser is not found.' });
      expect(await pai(p.url, 'POST', '/api/v2/authn/basic/login', { json: { username: 'alice', password: 'incorrectpassword' } }), 400, { code: 'IncorrectPasswordError', message: 'Password is incorrect.' });
      expect(await pai(p.url, 'POST', '/api/v1/token', { form: 'username=alice&password=incorrectpassword' }), 401, { error: 'AuthenticationFailed', message: 'authentication failed' });
      expect(await pai(p.url, 'POST', '/api/v1/token', { form: `username=nobody&password=${PASSWORD}` }), 401, { error: 'AuthenticationFailed', message: 'authentication failed' });
    }
    // the admin flag; a login as admin says so
    const a = await pai(url(), 'POST', '/api/v2/authn/basic/login', { json: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(a, 200);
    assert.equal(a.json.admin, true);
    // bad bodies: 400 in the generation's shape, no token issued
    await makeUser(admin, 'alice2');
    const before = identity().listTokens('alice2').length;
    expect(await pai(url(), 'POST', '/api/v2/authn/basic/login', { form: 'username=alice2' }), 400, { code: 'InvalidParametersError', message: 'password is required.' });
    expect(await pai(url(), 'POST', '/api/v1/token', { json: { password: PASSWORD } }), 400, { error: 'InvalidParametersError', message: 'username is required.' });
    expect(await pai(url(), 'POST', '/api/v2/authn/basic/login', { form: `expiration=abc&password=${PASSWORD}&username=alice2` }), 400, { code: 'InvalidParametersError', message: 'expiration must be a positive whole number of seconds.' });
    expect(await pai(url(), 'POST', '/api/v1/token', { json: { username: 'alice2', password: PASSWORD, expiration: -5 } }), 400);
    expect(await pai(url(), 'POST', '/api/v2/authn/basic/login', { json: ['alice2'] }), 400);
    assert.equal(identity().listTokens('alice2').length, before);
  });

  it('expiration is seconds, capped by tokenMaxTtlMs', async () => {
    await makeUser(admin, 'ttluser');
    const short = await pai(url(), 'POST', '/api/v2/authn/basic/login', { form: `expiration=60&password=${PASSWORD}&username=ttluser` });
    expect(short, 200);
    const long = await pai(url(), 'POST', '/api/v1/token', { form: `expiration=999999999999&password=${PASSWORD}&username=ttluser` });
    expect(long, 200);
    const plain = await pai(url(), 'POST', '/api/v1/token', { json: { username: 'ttluser', password: PASSWORD } });
    const life = (token: string) => {
      const t = identity().listTokens('ttluser').find((x) => x.id === tokenIdOf(token))!;
      return Date.parse(t.expiresAt) - Date.parse(t.createdAt);
    };
    assert.equal(life(short.json.token), 60_000);
    assert.equal(life(long.json.token), ctx.svc.config.tokenMaxTtlMs);
    assert.equal(life(plain.json.token), ctx.svc.config.tokenTtlMs);
  });

  it('rate limits logins per address and user name across generations and prefixes: 429 in the generation\'s shape with retry-after', async () => {
    // an unknown user counts too: the limit holds back guessing, not only a known user's logins
    const paths = ['/api/v2/authn/basic/login', '/rest-server/api/v2/authn/basic/login', '/api/v1/token', '/rest-server/api/v1/token'];
    for (let i = 0; i < LOGIN_LIMIT; i++) {
      const r = await pai(url(), 'POST', paths[i % paths.length]!, { form: 'password=whatever-it-is&username=ratelimited' });
      assert.ok(r.status === 400 || r.status === 401, r.text);
    }
    const v2 = await pai(url(), 'POST', '/api/v2/authn/basic/login', { form: 'password=whatever-it-is&username=ratelimited' });
    expect(v2, 429);
    assert.equal(v2.json.code, 'UnknownError');
    assert.match(v2.json.message, /Too many password attempts/);
    assert.ok(Number(v2.headers.get('retry-after')) >= 1);
    const v1 = await pai(url(), 'POST', '/rest-server/api/v1/token', { json: { username: 'ratelimited', password: 'whatever-it-is' } });
    expect(v1, 429);
    assert.equal(v1.json.error, 'TooManyRequests');
    assert.ok(Number(v1.headers.get('retry-after')) >= 1);
    // another user name from the same address is not held back
    expect(await pai(url(), 'POST', '/api/v2/authn/basic/login', { form: 'password=whatever-it-is&username=someoneelse' }), 400);
    // under /compat/openpai/ on the API port too (its own count), also in the generation's shape
    const api = `${ctx.svc.baseUrl}/compat/openpai`;
    for (let i = 0; i < LOGIN_LIMIT; i++) expect(await pai(api, 'POST', paths[i % paths.length]!, { form: 'password=whatever-it-is&username=ratelimited' }), i % 4 < 2 ? 400 : 401);
    const onApi = await pai(api, 'POST', '/rest-server/api/v1/token', { form: 'password=whatever-it-is&username=ratelimited' });
    expect(onApi, 429);
    assert.equal(onApi.json.error, 'TooManyRequests');
    assert.ok(Number(onApi.headers.get('retry-after')) >= 1);
  });

  it('logout revokes the token presented; no token or a bad one is 401 with the SDK\'s messages', async () => {
    await makeUser(admin, 'leaver');
    for (const p of places(ctx.svc)) {
      const t = await login('leaver', PASSWORD, p.url);
      expect(await pai(p.url, 'DELETE', '/api/v2/authn/basic/logout', { token: t }), 200, { message: 'Logout successfully' });
      expect(await pai(p.url, 'GET', '/api/v2/tokens', { token: t }), 401, V2_BAD_TOKEN);
      expect(await pai(p.url, 'DELETE', '/api/v2/authn/basic/logout', { token: t }), 401, V2_BAD_TOKEN);
      expect(await pai(p.url, 'DELETE', '/api/v2/authn/basic/logout'), 401, V2_GUEST);
      expect(await pai(p.url, 'GET', '/api/v1/token'), 401, V1_GUEST);
      expect(await pai(p.url, 'GET', '/api/v1/token', { token: t }), 401, V1_GUEST);
    }
    assert.deepEqual(identity().listTokens('leaver'), []);
  });

  it('tokens: ids listed, application tokens made and refused on administration, revocation only of one\'s own (admins any)', async () => {
    await makeUser(admin, 'tom');
    await makeUser(admin, 'tina');
    const tom = await login('tom');
    const tina = await login('tina');
    for (const [gen, base] of [['v2', '/api/v2/tokens'], ['v1', '/api/v1/token']] as const) {
      const app = await pai(url(), 'POST', `${base}/application`, { token: tom, ...(gen === 'v1' ? { headers: { 'content-type': 'application/json' } } : { json: {} }) });
      expect(app, 200);
      assert.deepEqual(Object.keys(app.json).sort(), ['application', 'token']);
      assert.equal(app.json.application, true);
      const appToken: string = app.json.token;
      const info = identity().listTokens('tom').find((t) => t.id === tokenIdOf(appToken))!;
      assert.equal(info.application, true);
      assert.equal(Date.parse(info.expiresAt) - Date.parse(info.createdAt), ctx.svc.config.tokenMaxTtlMs);

      const listed = await pai(url(), 'GET', base, { token: tom });
      expect(listed, 200);
      assert.deepEqual(listed.json.tokens, identity().listTokens('tom').map((t) => t.id));
      assert.ok(listed.json.tokens.includes(tokenIdOf(appToken)));

      // an application token administers no tokens (and no users), but reads
      const refused = gen === 'v2' ? V2_APP : V1_APP;
      const count = identity().listTokens('tom').length;
      expect(await pai(url(), 'GET', base, { token: appToken }), 403, refused);
      expect(await pai(url(), 'POST', `${base}/application`, { token: appToken, json: {} }), 403, refused);
      expect(await pai(url(), 'DELETE', `${base}/${tokenIdOf(tom)}`, { token: appToken }), 403, refused);
      expect(await pai(url(), 'GET', '/api/v2/users/tom', { token: appToken }), 403, V2_APP);
      expect(await pai(url(), 'GET', '/api/v2/virtual-clusters', { token: appToken }), 200);
      assert.equal(identity().listTokens('tom').length, count, 'nothing issued or revoked');

      // another user's token: refused and kept; by id, by value
      const forbidden = gen === 'v2' ? { code: 'ForbiddenUserError', message: 'You may revoke only your own tokens.' } : { error: 'NotAuthorized', message: 'not authorized: You may revoke only your own tokens.' };
      expect(await pai(url(), 'DELETE', `${base}/${tokenIdOf(appToken)}`, { token: tina }), 403, forbidden);
      expect(await pai(url(), 'DELETE', `${base}/${appToken}`, { token: tina }), 403, forbidden);
      assert.ok(identity().listTokens('tom').some((t) => t.id === tokenIdOf(appToken)));
      // its owner revokes it by id; then it is gone, and a second revoke is a 400
      expect(await pai(url(), 'DELETE', `${base}/${tokenIdOf(appToken)}`, { token: tom }), 200, { message: 'revoke successfully' });
      expect(await pai(url(), 'GET', '/api/v2/virtual-clusters', { token: appToken }), 401, V2_BAD_TOKEN);
      const gone = await pai(url(), 'DELETE', `${base}/${tokenIdOf(appToken)}`, { token: tom });
      expect(gone, 400);
      assert.equal(gen === 'v2' ? gone.json.code : gone.json.error, 'InvalidParametersError');
      expect(await pai(url(), 'DELETE', `${base}/not-a-token`, { token: tom }), 400);
    }
    // an admin revokes anyone's token, by value
    const t2 = await login('tina');
    expect(await pai(url(), 'DELETE', `/api/v2/tokens/${t2}`, { token: admin }), 200, { message: 'revoke successfully' });
    expect(await pai(url(), 'GET', '/api/v2/tokens', { token: t2 }), 401, V2_BAD_TOKEN);
    expect(await pai(url(), 'GET', '/api/v2/tokens', { token: tina }), 200);
  });

  it('v2 users: create, conflict, read, list, refusals by application and non-admin tokens with nothing written', async () => {
    expect(await pai(ctx.svc.baseUrl, 'POST', '/native/v1/virtual-clusters', { token: admin, json: { name: 'vc1', capacity: 20, maxCapacity: 50 } }), 201);
    const appToken = (await pai(url(), 'POST', '/api/v2/tokens/application', { token: admin, json: {} })).json.token as string;
    // the SDK's own trailing slash
    expect(await pai(url(), 'POST', '/api/v2/users/', { token: admin, json: { username: 'sdk_test_user', password: 'test_password' } }), 201, { message: 'User is created successfully' });
    expect(await pai(url(), 'POST', '/api/v2/users/', { token: admin, json: { username: 'sdk_test_user', password: 'test_password' } }), 409, { code: 'ConflictUserError', message: 'User name sdk_test_user already exists.' });
    expect(await pai(url(), 'POST', '/api/v2/users', { token: admin, json: { admin: false, username: 'nonadminTestUser', password: 'nonadminTestUser' } }), 201);
    const nonadmin = await login('nonadminTestUser', 'nonadminTestUser');

    const users = () => identity().listUsers().map((u) => u.name).sort();
    const before = users();
    expect(await pai(url(), 'POST', '/api/v2/users', { token: appToken, json: { username: 'sneaky_user', password: PASSWORD } }), 403, V2_APP);
    expect(await pai(url(), 'POST', '/api/v2/users', { token: nonadmin, json: { username: 'sneaky_user', password: PASSWORD } }), 403, V2_NON_ADMIN);
    expect(await pai(url(), 'POST', '/api/v2/users', { json: { username: 'sneaky_user', password: PASSWORD } }), 401, V2_GUEST);
    expect(await pai(url(), 'POST', '/api/v2/users', { token: admin, json: { username: 'short_pw', password: 'six666' } }), 400, { code: 'InvalidParametersError', message: 'password must have 12 to 256 characters' });
    expect(await pai(url(), 'POST', '/api/v2/users', { token: admin, json: { username: 'bad.name', password: PASSWORD } }), 400);
    expect(await pai(url(), 'POST', '/api/v2/users', { token: admin, json: { username: 'vc_user', password: PASSWORD, virtualCluster: ['nope'] } }), 404, { code: 'NoVirtualClusterError', message: 'Virtual cluster nope is not found.' });
    expect(await pai(url(), 'POST', '/api/v2/users', { token: admin, json: { username: 'vc_user', password: PASSWORD, email: 'not an email' } }), 400);
    expect(await pai(url(), 'POST', '/api/v2/users', { token: admin, json: { username: 'vc_user', password: PASSWORD, extension: { big: 'x'.repeat(20_000) } } }), 400);
    expect(await pai(url(), 'POST', '/api/v2/users', { token: admin, json: { username: 'vc_user', password: PASSWORD, admin: 'yes' } }), 400);
    assert.deepEqual(users(), before, 'no refused create wrote a user');

    // a full create: grants (default implicit), email and extension in the profile, admin false → operator
    expect(await pai(url(), 'POST', '/api/v2/users', { token: admin, json: { username: 'carol', password: PASSWORD, admin: false, email: 'carol@example.com', virtualCluster: ['default', 'vc1'], extension: { team: 'x' } } }), 201);
    assert.deepEqual([identity().getUser('carol').role, identity().getUser('carol').virtualClusters], ['operator', ['vc1']]);
    const carolInfo = { username: 'carol', grouplist: [], email: 'carol@example.com', extension: { team: 'x' }, admin: false, virtualCluster: ['default', 'vc1'], storageConfig: [] };
    for (const p of places(ctx.svc)) expect(await pai(p.url, 'GET', '/api/v2/users/carol', { token: admin }), 200, carolInfo);
    const carol = await login('carol');
    expect(await pai(url(), 'GET', '/api/v2/users/carol', { token: carol }), 200, carolInfo);
    expect(await pai(url(), 'GET', '/api/v2/users/sdk_test_user', { token: carol }), 403, V2_NON_ADMIN);
    expect(await pai(url(), 'GET', '/api/v2/users/nobody', { token: admin }), 404, { code: 'NoUserError', message: 'User nobody is not found.' });
    expect(await pai(url(), 'GET', '/api/v2/users/carol', { token: appToken }), 403, V2_APP);
    // a viewer shows admin false; an admin true
    expect(await pai(ctx.svc.baseUrl, 'POST', '/native/v1/users', { token: admin, json: { name: 'vera', password: PASSWORD, role: 'viewer' } }), 201);
    for (const path of ['/api/v2/users', '/api/v2/users/']) {
      const list = await pai(url(), 'GET', path, { token: admin });
      expect(list, 200);
      const byName = new Map<string, Wire>(list.json.map((u: Wire) => [u.username, u]));
      assert.deepEqual(byName.get('carol'), carolInfo);
      assert.equal(byName.get('vera').admin, false);
      assert.equal(byName.get('admin').admin, true);
      for (const u of list.json) assert.deepEqual(Object.keys(u).sort(), ['admin', 'email', 'extension', 'grouplist', 'storageConfig', 'username', 'virtualCluster']);
      expect(await pai(url(), 'GET', path, { token: carol }), 403, V2_NON_ADMIN);
      expect(await pai(url(), 'GET', path, { token: appToken }), 403, V2_APP);
    }
  });

  it('v2 PUT /users: patch true and false, unknown user 404, refusals with nothing written; a password change revokes the user\'s tokens', async () => {
    const appToken = (await pai(url(), 'POST', '/api/v2/tokens/application', { token: admin, json: {} })).json.token as string;
    await makeUser(admin, 'dave', { email: 'dave@example.com' });
    await makeUser(admin, 'erin');
    const dave = await login('dave');
    const erin = await login('erin');
    const info = async () => (await pai(url(), 'GET', '/api/v2/users/dave', { token: admin })).json;
    const start = await info();

    expect(await pai(url(), 'PUT', '/api/v2/users', { token: appToken, json: { patch: true, data: { username: 'dave', email: 'new@example.com' } } }), 403, V2_APP);
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: erin, json: { patch: true, data: { username: 'dave', email: 'new@example.com' } } }), 403, V2_NON_ADMIN);
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: true, data: { username: 'non_exist_user', email: 'new@example.com' } } }), 404, { code: 'NoUserError', message: 'User non_exist_user is not found.' });
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: false, data: { username: 'dave', email: 'new@example.com' } } }), 400, { code: 'InvalidParametersError', message: 'With patch false, data needs virtualCluster, admin, password, extension.' });
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: true, data: { username: 'dave', virtualCluster: ['nope'], email: 'new@example.com' } } }), 404, { code: 'NoVirtualClusterError', message: 'Virtual cluster nope is not found.' });
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: true, data: { username: 'dave', password: 'short', email: 'new@example.com' } } }), 400);
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: true, data: { username: 'dave', extension: [] } } }), 400);
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: true } }), 400);
    assert.deepEqual(await info(), start, 'no refused update wrote anything');
    expect(await pai(url(), 'GET', '/api/v2/tokens', { token: dave }), 200, undefined);

    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: true, data: { username: 'dave', email: 'new_email@test1.com' } } }), 201, { message: 'update user dave successfully.' });
    assert.equal((await info()).email, 'new_email@test1.com');
    expect(await pai(url(), 'GET', '/api/v2/tokens', { token: dave }), 200, undefined);
    // patch false sets everything; the password changes, so dave's tokens die
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: false, data: { username: 'dave', email: 'new_email@test2.com', virtualCluster: ['default'], admin: true, password: 'new_test_password', extension: { k: 1 } } } }), 201);
    assert.deepEqual(await info(), { username: 'dave', grouplist: [], email: 'new_email@test2.com', extension: { k: 1 }, admin: true, virtualCluster: ['default'], storageConfig: [] });
    expect(await pai(url(), 'GET', '/api/v2/tokens', { token: dave }), 401, V2_BAD_TOKEN);
    const dave2 = await login('dave', 'new_test_password');
    // the same password again: nothing revoked
    expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: true, data: { username: 'dave', password: 'new_test_password', admin: false } } }), 201);
    expect(await pai(url(), 'GET', '/api/v2/tokens', { token: dave2 }), 200);
    assert.equal(identity().getUser('dave').role, 'operator');
  });

  it('v2 users/me: own profile only, the same password is a no-op, a wrong old password is IncorrectPasswordError, a real change revokes', async () => {
    await makeUser(admin, 'fay');
    const fay = await login('fay');
    const appToken = (await pai(url(), 'POST', '/api/v2/tokens/application', { token: fay, json: {} })).json.token as string;
    const tokens = () => identity().listTokens('fay').length;
    const count = tokens();
    const generation = identity().getUser('fay').updatedAt;

    expect(await pai(url(), 'PUT', '/api/v2/users/me', { token: fay, json: { patch: true, data: { username: 'fay', email: 'new_email@test1.com' } } }), 201, { message: 'update user fay successfully.' });
    expect(await pai(url(), 'PUT', '/api/v2/users/me', { token: fay, json: { patch: true, data: { username: 'incorrect_username', email: 'x@example.com' } } }), 403, { code: 'ForbiddenUserError', message: 'You may update only your own profile (fay).' });
    expect(await pai(url(), 'PUT', '/api/v2/users/me', { token: appToken, json: { patch: true, data: { username: 'fay', email: 'x@example.com' } } }), 403, V2_APP);
    expect(await pai(url(), 'PUT', '/api/v2/users/me', { json: { patch: true, data: { username: 'fay', email: 'x@example.com' } } }), 401, V2_GUEST);
    expect(await pai(url(), 'PUT', '/api/v2/users/me', { token: fay, json: { patch: true, data: { username: 'fay', newPassword: 'another-password' } } }), 400, { code: 'InvalidParametersError', message: 'oldPassword is required to set newPassword.' });
    expect(await pai(url(), 'PUT', '/api/v2/users/me', { token: fay, json: { patch: true, data: { username: 'fay', oldPassword: 'wrong-password-here', newPassword: 'another-password' } } }), 400, { code: 'IncorrectPasswordError', message: 'Password is incorrect.' });
    // the suite's "patch: false" with the same password: the email is set, nothing else changes
    expect(await pai(url(), 'PUT', '/api/v2/users/me', { token: fay, json: { patch: false, data: { username: 'fay', email: 'new_email@test2.com', oldPassword: PASSWORD, newPassword: PASSWORD } } }), 201);
    assert.equal(identity().getUser('fay').updatedAt, generation, 'the user record is not written');
    assert.equal(tokens(), count, 'no token revoked');
    const me = await pai(url(), 'GET', '/api/v2/users/fay', { token: fay });
    expect(me, 200);
    assert.equal(me.json.email, 'new_email@test2.com');
    // a real change revokes every token of the user, the one presented too
    expect(await pai(url(), 'PUT', '/api/v2/users/me', { token: fay, json: { patch: true, data: { username: 'fay', oldPassword: PASSWORD, newPassword: 'another-password' } } }), 201);
    expect(await pai(url(), 'GET', '/api/v2/users/fay', { token: fay }), 401, V2_BAD_TOKEN);
    assert.equal(tokens(), 0);
    await login('fay', 'another-password');
  });

  it('v2 DELETE users/:u and the last admin; a re-created user starts with an empty profile', async () => {
    const appToken = (await pai(url(), 'POST', '/api/v2/tokens/application', { token: admin, json: {} })).json.token as string;
    await makeUser(admin, 'gus', { email: 'gus@example.com' });
    await makeUser(admin, 'hal');
    const hal = await login('hal');
    expect(await pai(url(), 'DELETE', '/api/v2/users/gus', { token: appToken }), 403, V2_APP);
    expect(await pai(url(), 'DELETE', '/api/v2/users/gus', { token: hal }), 403, V2_NON_ADMIN);
    expect(await pai(url(), 'DELETE', '/api/v2/users/gus'), 401, V2_GUEST);
    assert.equal(identity().getUser('gus').name, 'gus');
    expect(await pai(url(), 'DELETE', '/api/v2/users/non_exist_user', { token: admin }), 404, { code: 'NoUserError', message: 'User non_exist_user is not found.' });
    const gus = await login('gus');
    expect(await pai(url(), 'DELETE', '/api/v2/users/gus', { token: admin }), 200, { message: 'user is removed successfully' });
    expect(await pai(url(), 'DELETE', '/api/v2/users/gus', { token: admin }), 404, { code: 'NoUserError', message: 'User gus is not found.' });
    expect(await pai(url(), 'GET', '/api/v2/tokens', { token: gus }), 401, V2_BAD_TOKEN);
    await makeUser(admin, 'gus');
    assert.equal((await pai(url(), 'GET', '/api/v2/users/gus', { token: admin })).json.email, '');
    // the last admin stays (this suite's other admin, dave, was made an operator again)
    const admins = identity().listUsers().filter((u) => u.role === 'admin').map((u) => u.name);
    if (admins.length === 1) {
      expect(await pai(url(), 'DELETE', `/api/v2/users/${admins[0]}`, { token: admin }), 403, { code: 'RemoveAdminError', message: 'the last admin cannot be deleted' });
      expect(await pai(url(), 'PUT', '/api/v2/users', { token: admin, json: { patch: true, data: { username: admins[0], admin: false } } }), 403, { code: 'RemoveAdminError', message: 'the last admin cannot lose the admin role' });
      assert.equal(identity().getUser(admins[0]!).role, 'admin');
    } else {
      assert.fail(`expected one admin, found ${admins.join(', ')}`);
    }
  });

  it('v2 groups: kept in the profile (with and without the trailing slash), 404 for an unknown user, refused to application and non-admin tokens', async () => {
    const appToken = (await pai(url(), 'POST', '/api/v2/tokens/application', { token: admin, json: {} })).json.token as string;
    await makeUser(admin, 'ivy');
    const ivy = await login('ivy');
    const groups = async () => (await pai(url(), 'GET', '/api/v2/users/ivy', { token: admin })).json.grouplist;
    expect(await pai(url(), 'PUT', '/api/v2/users/ivy/group', { token: admin, json: { groupname: 'sdktestgroup' } }), 201, { message: 'User ivy is added into group sdktestgroup' });
    expect(await pai(url(), 'PUT', '/api/v2/users/ivy/group/', { token: admin, json: { groupname: 'other' } }), 201);
    expect(await pai(url(), 'PUT', '/api/v2/users/ivy/group/', { token: admin, json: { groupname: 'other' } }), 201);
    assert.deepEqual(await groups(), ['sdktestgroup', 'other']);
    for (const [method, path, body] of [['PUT', '/group', { groupname: 'x' }], ['DELETE', '/group/', { groupname: 'other' }], ['PUT', '/grouplist/', { grouplist: ['default'] }]] as const) {
      expect(await pai(url(), method, `/api/v2/users/ivy${path}`, { token: appToken, json: body }), 403, V2_APP);
      expect(await pai(url(), method, `/api/v2/users/ivy${path}`, { token: ivy, json: body }), 403, V2_NON_ADMIN);
      expect(await pai(url(), method, `/api/v2/users/non_exist_user${path}`, { token: admin, json: body }), 404, { code: 'NoUserError', message: 'User non_exist_user is not found.' });
    }
    expect(await pai(url(), 'PUT', '/api/v2/users/ivy/group', { token: admin, json: { groupname: 'bad name' } }), 400);
    expect(await pai(url(), 'PUT', '/api/v2/users/ivy/grouplist', { token: admin, json: { grouplist: 'a' } }), 400);
    assert.deepEqual(await groups(), ['sdktestgroup', 'other'], 'no refused change wrote anything');
    // a body on DELETE (the SDK sends one)
    expect(await pai(url(), 'DELETE', '/api/v2/users/ivy/group', { token: admin, json: { groupname: 'other' } }), 201, { message: 'User ivy is removed from group other' });
    assert.deepEqual(await groups(), ['sdktestgroup']);
    expect(await pai(url(), 'PUT', '/api/v2/users/ivy/grouplist', { token: admin, json: { grouplist: ['default', 'b', 'default'] } }), 201, { message: 'update user grouplist successfully.' });
    assert.deepEqual(await groups(), ['default', 'b']);
    assert.equal(identity().getUser('ivy').role, 'operator', 'groups grant nothing');
  });

  it('v1 users: PUT creates and modifies (form or JSON), DELETE with a body, virtual clusters; refusals in the seed\'s names with nothing written', async () => {
    const appToken = (await pai(url(), 'POST', '/api/v2/tokens/application', { token: admin, json: {} })).json.token as string;
    if (!identity().listVirtualClusters().some((v) => v.name === 'vc1')) {
      expect(await pai(ctx.svc.baseUrl, 'POST', '/native/v1/virtual-clusters', { token: admin, json: { name: 'vc1', capacity: 20, maxCapacity: 50 } }), 201);
    }
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: admin, form: `username=v1user&password=${PASSWORD}&admin=false&modify=false` }), 200, { message: 'update successfully' });
    assert.equal(identity().getUser('v1user').role, 'operator');
    const dup = await pai(url(), 'PUT', '/api/v1/user', { token: admin, json: { username: 'v1user', password: PASSWORD, admin: false, modify: false } });
    expect(dup, 400, { error: 'UpdateFailed', message: 'update failed: user v1user exists' });
    const v1user = await login('v1user');
    const before = identity().listUsers().length;
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: v1user, json: { username: 'v1other', password: PASSWORD, modify: false } }), 403, V1_NON_ADMIN);
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: appToken, json: { username: 'v1other', password: PASSWORD, modify: false } }), 403, V1_APP);
    expect(await pai(url(), 'PUT', '/api/v1/user', { json: { username: 'v1other', password: PASSWORD, modify: false } }), 401, V1_GUEST);
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: admin, json: { username: 'v1other', password: 'short', modify: false } }), 400, { error: 'UpdateFailed', message: 'update failed: password must have 12 to 256 characters' });
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: admin, form: `username=v1other&password=${PASSWORD}&modify=maybe` }), 400);
    assert.equal(identity().listUsers().length, before);

    // modify: admin flag (admins only), password (self or admin)
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: v1user, form: 'username=v1user&admin=true&modify=true' }), 403, V1_NON_ADMIN);
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: v1user, form: 'username=alice&password=someone-elses-pw&modify=true' }), 403, { error: 'NotAuthorized', message: "not authorized: only an admin may set another user's password." });
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: admin, form: 'username=ghost&password=ghost-password-1&modify=true' }), 400, { error: 'UpdateFailed', message: 'update failed: could not find user ghost' });
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: admin, form: 'username=v1user&modify=true' }), 400, { error: 'UpdateFailed', message: 'update failed: give a password or admin to change.' });
    assert.equal(identity().getUser('v1user').role, 'operator');
    expect(await pai(url(), 'GET', '/api/v1/token', { token: v1user }), 200);
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: admin, form: 'username=v1user&admin=true&modify=true' }), 200, { message: 'update successfully' });
    assert.equal(identity().getUser('v1user').role, 'admin');
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: v1user, json: { username: 'v1user', password: 'v1-new-password', modify: true } }), 200);
    expect(await pai(url(), 'GET', '/api/v1/token', { token: v1user }), 401, V1_GUEST);
    const v1user2 = await login('v1user', 'v1-new-password');
    expect(await pai(url(), 'PUT', '/api/v1/user', { token: admin, json: { username: 'v1user', admin: 'false', modify: 'true' } }), 200);
    assert.equal(identity().getUser('v1user').role, 'operator');

    // virtual clusters: a comma list replaces the grants (default implicit)
    expect(await pai(url(), 'PUT', '/api/v1/user/v1user/virtualClusters', { token: admin, json: { virtualClusters: 'default,vc1' } }), 201, { message: 'update user virtual clusters successfully' });
    assert.deepEqual(identity().getUser('v1user').virtualClusters, ['vc1']);
    expect(await pai(url(), 'PUT', '/api/v1/user/v1user/virtualClusters', { token: admin, form: 'virtualClusters=nope' }), 400, { error: 'UpdateVcFailed', message: 'update user virtual cluster failed: could not find virtual cluster nope' });
    expect(await pai(url(), 'PUT', '/api/v1/user/ghost/virtualClusters', { token: admin, json: { virtualClusters: 'vc1' } }), 404, { error: 'UpdateVcFailed', message: 'update user virtual cluster failed: could not find user ghost' });
    expect(await pai(url(), 'PUT', '/api/v1/user/v1user/virtualClusters', { token: v1user2, json: { virtualClusters: '' } }), 403, V1_NON_ADMIN);
    expect(await pai(url(), 'PUT', '/api/v1/user/v1user/virtualClusters', { token: appToken, json: { virtualClusters: '' } }), 403, V1_APP);
    assert.deepEqual(identity().getUser('v1user').virtualClusters, ['vc1']);
    // the field is required: a body without it wipes nothing
    const missing = await pai(url(), 'PUT', '/api/v1/user/v1user/virtualClusters', { token: admin, json: {} });
    expect(missing, 400);
    assert.equal(missing.json.error, 'UpdateVcFailed');
    assert.deepEqual(identity().getUser('v1user').virtualClusters, ['vc1']);
    expect(await pai(url(), 'PUT', '/api/v1/user/v1user/virtualClusters', { token: admin, json: { virtualClusters: '' } }), 201);
    assert.deepEqual(identity().getUser('v1user').virtualClusters, []);

    // DELETE: admin only (the seed's 401 for others), the body names the user
    expect(await pai(url(), 'DELETE', '/api/v1/user', { token: v1user2, json: { username: 'v1user' } }), 401, V1_GUEST);
    expect(await pai(url(), 'DELETE', '/api/v1/user', { token: appToken, json: { username: 'v1user' } }), 403, V1_APP);
    expect(await pai(url(), 'DELETE', '/api/v1/user', { token: admin, json: { username: 'ghost' } }), 404, { error: 'RemoveFailed', message: 'remove failed: could not find user ghost' });
    expect(await pai(url(), 'DELETE', '/api/v1/user', { token: admin }), 400);
    assert.equal(identity().getUser('v1user').name, 'v1user');
    expect(await pai(url(), 'DELETE', '/api/v1/user', { token: admin, json: { username: 'v1user' } }), 200, { message: 'remove successfully' });
    expect(await pai(url(), 'DELETE', '/api/v1/user', { token: admin, form: 'username=v1user' }), 404, { error: 'RemoveFailed', message: 'remove failed: could not find user v1user' });
  });

  it('virtual clusters: v1 tokenless reads, v2 with a token; admins see all, others default and their grants; sku-types; unknown 404 per generation', async () => {
    if (!identity().listVirtualClusters().some((v) => v.name === 'vc1')) {
      expect(await pai(ctx.svc.baseUrl, 'POST', '/native/v1/virtual-clusters', { token: admin, json: { name: 'vc1', capacity: 20, maxCapacity: 50 } }), 201);
    }
    expect(await pai(ctx.svc.baseUrl, 'POST', '/native/v1/virtual-clusters', { token: admin, json: { name: 'vc2', capacity: 10, maxCapacity: 10 } }), 201);
    await makeUser(admin, 'jon', { virtualCluster: ['vc1'] });
    await makeUser(admin, 'kim');
    const jon = await login('jon');
    const kim = await login('kim');
    const V1_KEYS = ['capacity', 'maxCapacity', 'numActiveJobs', 'numJobs', 'numPendingJobs', 'resourcesUsed', 'usedCapacity'];
    const V2_KEYS = ['capacity', 'dedicated', 'maxCapacity', 'nodeList', 'numActiveJobs', 'numJobs', 'numPendingJobs', 'resourcesGuaranteed', 'resourcesTotal', 'resourcesUsed', 'status', 'usedCapacity'];
    for (const p of places(ctx.svc)) {
      const v1 = await pai(p.url, 'GET', '/api/v1/virtual-clusters');
      expect(v1, 200);
      assert.deepEqual(Object.keys(v1.json).sort(), ['default', 'vc1', 'vc2'], p.name);
      assert.deepEqual(Object.keys(v1.json.vc1).sort(), V1_KEYS);
      assert.deepEqual([v1.json.vc1.capacity, v1.json.vc1.maxCapacity], [20, 50]);
      assert.deepEqual(Object.keys(v1.json.vc1.resourcesUsed).sort(), ['GPUs', 'memory', 'vCores']);
      expect(await pai(p.url, 'GET', '/api/v1/virtual-clusters/vc2'), 200);
      expect(await pai(p.url, 'GET', '/api/v1/virtual-clusters/nope'), 404, { error: 'VirtualClusterNotFound', message: 'could not find virtual cluster nope' });
      // v1 reads are public while anonymous reads are on: a token sees no less than none
      assert.deepEqual(Object.keys((await pai(p.url, 'GET', '/api/v1/virtual-clusters', { token: kim })).json).sort(), ['default', 'vc1', 'vc2']);

      expect(await pai(p.url, 'GET', '/api/v2/virtual-clusters'), 401, V2_GUEST);
      const all = await pai(p.url, 'GET', '/api/v2/virtual-clusters', { token: admin });
      expect(all, 200);
      assert.deepEqual(Object.keys(all.json).sort(), ['default', 'vc1', 'vc2']);
      assert.deepEqual(Object.keys(all.json.vc1).sort(), V2_KEYS);
      assert.deepEqual(Object.keys((await pai(p.url, 'GET', '/api/v2/virtual-clusters', { token: jon })).json).sort(), ['default', 'vc1']);
      assert.deepEqual(Object.keys((await pai(p.url, 'GET', '/api/v2/virtual-clusters', { token: kim })).json), ['default']);
      expect(await pai(p.url, 'GET', '/api/v2/virtual-clusters/vc1', { token: jon }), 200);
      expect(await pai(p.url, 'GET', '/api/v2/virtual-clusters/vc1', { token: kim }), 404, { code: 'NoVirtualClusterError', message: 'Virtual cluster vc1 is not found.' });
      expect(await pai(p.url, 'GET', '/api/v2/virtual-clusters/nope', { token: admin }), 404, { code: 'NoVirtualClusterError', message: 'Virtual cluster nope is not found.' });
      expect(await pai(p.url, 'GET', '/api/v2/virtual-clusters/default/sku-types', { token: kim }), 200, {});
      expect(await pai(p.url, 'GET', '/api/v2/virtual-clusters/vc2/sku-types', { token: kim }), 404, { code: 'NoVirtualClusterError', message: 'Virtual cluster vc2 is not found.' });
    }
    // the totals: every live worker's slots, each with the memory limit; a VC's guaranteed share of them
    const vc1 = (await pai(url(), 'GET', '/api/v2/virtual-clusters/vc1', { token: admin })).json;
    const workers = (await http<{ workers: { concurrency: number; alive: boolean }[] }>(ctx.svc.baseUrl, 'GET', '/native/v1/workers')).body.workers.filter((w) => w.alive);
    const slots = workers.reduce((n, w) => n + w.concurrency, 0);
    assert.ok(slots > 0);
    const mem = ctx.svc.config.scriptMemoryLimitMb;
    assert.deepEqual(vc1.resourcesTotal, { cpu: slots, vCores: slots, memory: slots * mem, gpu: 0, GPUs: 0 });
    assert.deepEqual(vc1.resourcesGuaranteed, { cpu: Math.floor(slots * 0.2), vCores: Math.floor(slots * 0.2), memory: Math.floor(slots * mem * 0.2), gpu: 0, GPUs: 0 });
    assert.deepEqual([vc1.dedicated, vc1.nodeList, vc1.status], [false, [], 'RUNNING']);
  });

  it('resourcesUsed counts the running exec instances of a VC (role cpu, memory limit), and nothing once they end', async () => {
    const submitted = await http<{ id: string }>(ctx.svc.baseUrl, 'POST', '/native/v1/jobs', {
      type: 'exec', name: 'vc-resources',
      spec: { taskRoles: [{ name: 'ps', taskNumber: 1, commands: ['sleep 60'], resources: { cpu: 2 }, memoryLimitMb: 256 }, { name: 'worker', taskNumber: 2, commands: ['sleep 60'] }] },
    });
    assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
    const id = submitted.body.id;
    const used = async (gen: 'v1' | 'v2') => {
      const r = await pai(url(), 'GET', gen === 'v1' ? '/api/v1/virtual-clusters/default' : '/api/v2/virtual-clusters/default', { token: admin });
      expect(r, 200);
      return r.json.resourcesUsed;
    };
    const mem = ctx.svc.config.scriptMemoryLimitMb;
    // the ps (2 vCores, 256 MB) and two workers (1 vCore each, the default memory limit)
    const want = { vCores: 4, memory: 256 + 2 * mem, GPUs: 0 };
    await waitFor(async () => {
      const u = await used('v1');
      return u.vCores === want.vCores ? u : undefined;
    }, { what: 'three instances counted', timeoutMs: 30_000, intervalMs: 100 });
    assert.deepEqual(await used('v1'), want);
    assert.deepEqual(await used('v2'), { cpu: 4, vCores: 4, memory: want.memory, gpu: 0, GPUs: 0 });
    const all = await pai(url(), 'GET', '/api/v2/virtual-clusters', { token: admin });
    assert.ok(all.json.default.numActiveJobs >= 1);
    expect(await pai(ctx.svc.baseUrl, 'POST', `/native/v1/jobs/${id}/stop`, { token: admin, json: { force: true } }), 200);
    await waitFor(async () => {
      const u = await used('v2');
      return u.vCores === 0 ? u : undefined;
    }, { what: 'no instance counted', timeoutMs: 30_000, intervalMs: 100 });
    assert.deepEqual(await used('v1'), { vCores: 0, memory: 0, GPUs: 0 });
  });
});

describe('OpenPAI facade: virtual clusters with anonymous reads off', { timeout: 60_000 }, () => {
  const ctx = useTestService({ openpaiAnonymousReads: 'false' });
  it('a v1 read without a token is 401; with one it answers', async () => {
    for (const p of places(ctx.svc)) {
      expect(await pai(p.url, 'GET', '/api/v1/virtual-clusters'), 401, V1_GUEST);
      expect(await pai(p.url, 'GET', '/api/v1/virtual-clusters/default'), 401, V1_GUEST);
      const r = await pai(p.url, 'GET', '/api/v1/virtual-clusters/default', { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect(r, 200);
    }
  });
});

describe('OpenPAI facade: password checks per address', { timeout: 60_000 }, () => {
  const ctx = useTestService({ loginRateLimitPerAddressPerMinute: 5 });
  it('one address trying many user names is held back on the facade\'s own port (v2 logins tell unknown users apart)', async () => {
    const own = ctx.svc.facadeUrls['openpai rest server']!;
    for (let i = 0; i < 5; i++) expect(await pai(own, 'POST', '/api/v2/authn/basic/login', { form: `password=whatever-it-is&username=probe${i}` }), 400);
    const held = await pai(own, 'POST', '/api/v2/authn/basic/login', { form: 'password=whatever-it-is&username=probe-next' });
    expect(held, 429);
    assert.equal(held.json.code, 'UnknownError');
    assert.ok(Number(held.headers.get('retry-after')) >= 1);
  });
});

describe('OpenPAI facade: profile ids and task resources (pure parts)', () => {
  it('profile ids are RFC 4122 v5 UUIDs of the user name, case-sensitive', () => {
    // the RFC's example: www.example.com in the DNS namespace
    assert.equal(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
    assert.match(profileId('nonadminTestUser'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(profileId('Alice'), profileId('alice'));
    assert.equal(profileId('alice'), profileId('alice'));
  });

  it('an exec task id names its role by counting instances role after role', () => {
    const spec = { taskRoles: [{ taskNumber: 1, resources: { cpu: 4 }, memoryLimitMb: 100 }, { taskNumber: 3 }], memoryLimitMb: 500 };
    assert.equal(execRoleOf(spec, 't00000'), spec.taskRoles[0]);
    assert.equal(execRoleOf(spec, 't00003'), spec.taskRoles[1]);
    assert.equal(execRoleOf(spec, 't00004'), undefined);
    assert.equal(execRoleOf(spec, 'x1'), undefined);
    assert.deepEqual(taskResources({ type: 'exec', spec }, 't00000', 2048), { vCores: 4, memory: 100, GPUs: 0 });
    assert.deepEqual(taskResources({ type: 'exec', spec }, 't00002', 2048), { vCores: 1, memory: 500, GPUs: 0 });
    assert.deepEqual(taskResources({ type: 'exec', spec: { taskRoles: [{ taskNumber: 1, memoryLimitMb: 9999 }] } }, 't00000', 2048), { vCores: 1, memory: 2048, GPUs: 0 }, 'never above the setting');
    assert.deepEqual(taskResources({ type: 'script', spec: {} }, 't00000', 2048), { vCores: 1, memory: 0, GPUs: 0 });
  });
});
