/**
 * Users (plan §2, §5.1): the seed's `PUT|DELETE /api/v1/user` and
 * `PUT /api/v1/user/:username/virtualClusters`, and v2's `/api/v2/users[/me|/:username]` with the
 * partial group routes. Users, roles, passwords and grants are the engine's: `admin: true` is the
 * admin role, `admin: false` an operator (a viewer stays a viewer and shows `admin: false`);
 * `virtualCluster` is the grants with the implicit `default`; email, extension and grouplist live
 * in the profile (profiles.ts; groups have no effect on access). Every route needs a session token
 * (application tokens are refused); the password rule is ours (12-256 characters). A password
 * equal to the current one changes nothing and revokes nothing (the SDK's suite sets the same one,
 * then goes on with its token).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, USER_NAME_RE, type Caller, type Identity, type UserRole } from '../../../engine/index.ts';
import { adminCaller, isAdmin, sessionCaller } from './auth.ts';
import type { OpenPaiContext } from './context.ts';
import { badParameters, forbidden, nonAdmin, noUser, noVirtualCluster, PaiError } from './errors.ts';
import { checkEmail, checkExtension, checkGroupName, checkGrouplist, checkProfileSize, createProfiles, emptyProfile, type OpenPaiProfile, type Profiles } from './profiles.ts';
import { bodyObject, loginRateCheck } from './tokenRoutes.ts';

const DEFAULT_VC = 'default';
type UserView = ReturnType<Identity['getUser']>;
/** Longest user name echoed in a message. */
const ECHO_CHARS = 64;

/** What a refused v1 user write is called, per route (plan §1.4). */
interface V1Refusal {
  name: string;
  prefix: string;
  /** Whether an unknown user is 404 (else 400). */
  unknownUser404: boolean;
}
const V1_UPDATE: V1Refusal = { name: 'UpdateFailed', prefix: 'update failed', unknownUser404: false };
const V1_REMOVE: V1Refusal = { name: 'RemoveFailed', prefix: 'remove failed', unknownUser404: true };
const V1_UPDATE_VC: V1Refusal = { name: 'UpdateVcFailed', prefix: 'update user virtual cluster failed', unknownUser404: true };

const echo = (name: string) => name.slice(0, ECHO_CHARS);
const conflictUser = (user: string) => new PaiError({ status: 400, name: 'UpdateFailed', message: `update failed: user ${echo(user)} exists` }, { status: 409, name: 'ConflictUserError', message: `User name ${echo(user)} already exists.` });
const lastAdmin = (why: string) => new PaiError({ status: 400, name: 'RemoveFailed', message: `remove failed: ${why}` }, { status: 403, name: 'RemoveAdminError', message: why });
const incorrectPassword = () => PaiError.of(400, 'IncorrectPasswordError', 'IncorrectPasswordError', 'Password is incorrect.');

/** An engine refusal of a user write in OpenPAI's names; anything else unchanged. */
function engineRefusal(err: unknown, user: string): unknown {
  if (!(err instanceof AppError) || err instanceof PaiError) return err;
  switch (err.code) {
    case 'USER_EXISTS':
      return conflictUser(user);
    case 'USER_NOT_FOUND':
      return noUser(echo(user));
    case 'VALIDATION_FAILED':
      return badParameters(err.message);
    case 'INVALID_TRANSITION':
      return lastAdmin(err.message);
    default:
      return err;
  }
}

/** Runs a v1 user write: its refusals (not the 401/403s, not ours) become the route's seed name. */
async function v1Write<T>(refusal: V1Refusal, user: () => string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const e = engineRefusal(err, user());
    if (!(e instanceof PaiError) || e.v1.status === 401 || e.v1.status === 403 || e.v1.status >= 429) throw e;
    const status = refusal.unknownUser404 && e.v1.name === 'UserNotFound' ? 404 : 400;
    throw new PaiError({ status, name: refusal.name, message: `${refusal.prefix}: ${e.v1.message.replace(/^[a-z ]+ failed: /, '')}` }, e.v2);
  }
}

async function v2Write<T>(user: () => string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw engineRefusal(err, user());
  }
}

// Body fields: JSON, or strings from a form (v1).

function text(body: Record<string, unknown>, key: string, required: true): string;
function text(body: Record<string, unknown>, key: string, required?: false): string | undefined;
function text(body: Record<string, unknown>, key: string, required = false): string | undefined {
  const v = body[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || (required && v === '')) throw badParameters(`${key} must be a${required ? ' non-empty' : ''} string.`);
  return v;
}

/** A boolean, or `"true"` / `"false"` from a form. */
function flag(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw badParameters(`${key} must be true or false.`);
}

/** The `data` object of a v2 update (`{patch, data}`). */
function dataOf(body: Record<string, unknown>): Record<string, unknown> {
  const data = body['data'];
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw badParameters('data must be an object.');
  return data as Record<string, unknown>;
}

function checkUserName(name: string): string {
  if (!USER_NAME_RE.test(name)) throw badParameters(`username must match ${USER_NAME_RE.source}.`);
  return name;
}

export function registerUserRoutes(app: FastifyInstance, cx: OpenPaiContext): void {
  const { identity } = cx;
  const profiles: Profiles = createProfiles(cx.documents);

  /** The user, or 404 NoUserError (also for a name that cannot be one). */
  function mustGet(name: string) {
    if (!USER_NAME_RE.test(name)) throw noUser(echo(name));
    try {
      return identity.getUser(name);
    } catch (err) {
      throw engineRefusal(err, name);
    }
  }

  /** OpenPAI's UserInfo (swagger), plus the grouplist the SDK's getAllUser shows. */
  function userInfo(u: UserView) {
    const p = profiles.get(u);
    return {
      username: u.name,
      grouplist: p.grouplist,
      email: p.email,
      extension: p.extension,
      admin: u.role === 'admin',
      virtualCluster: [DEFAULT_VC, ...u.virtualClusters.filter((vc) => vc !== DEFAULT_VC)],
      storageConfig: [],
    };
  }

  /** Grants from OpenPAI's list: `default` dropped (it is implicit), each VC checked to exist (404 NoVirtualClusterError). */
  function grants(names: unknown): string[] {
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw badParameters('virtualCluster must be an array of virtual cluster names.');
    const defined = new Set(identity.listVirtualClusters().map((d) => d.name));
    const out = [...new Set(names as string[])].filter((vc) => vc !== DEFAULT_VC);
    const unknown = out.find((vc) => !defined.has(vc));
    if (unknown !== undefined) throw noVirtualCluster(echo(unknown));
    return out;
  }

  /** `admin: true|false` as a role: false keeps a viewer a viewer, and makes an admin an operator. */
  const roleFor = (admin: boolean, current?: UserRole): UserRole => (admin ? 'admin' : current === 'viewer' ? 'viewer' : 'operator');

  /** Refused before anything is written: taking the admin role from the last admin. */
  function checkNotLastAdmin(current: UserRole, next: UserRole | undefined): void {
    if (current !== 'admin' || next === undefined || next === 'admin') return;
    if (identity.listUsers().filter((u) => u.role === 'admin').length <= 1) throw lastAdmin('the last admin cannot lose the admin role');
  }

  /** Sets the password unless it is the current one (which writes nothing and revokes no token). */
  async function setPasswordUnlessSame(name: string, password: string): Promise<void> {
    if (await identity.checkPassword(name, password)) return;
    await identity.setPassword(name, password);
  }

  /** Only the caller itself or an admin. */
  function selfOrAdmin(caller: Caller, name: string): void {
    if (caller.user !== name && !isAdmin(caller)) throw nonAdmin();
  }

  // ---- v1 (the seed)

  app.put('/api/v1/user', async (request) => {
    const caller = sessionCaller(request);
    const body = bodyObject(request);
    let name = '';
    return v1Write(V1_UPDATE, () => name, async () => {
      name = checkUserName(text(body, 'username', true));
      const admin = flag(body, 'admin');
      if (flag(body, 'modify') !== true) {
        if (!isAdmin(caller)) throw nonAdmin();
        await identity.createUser({ name, password: text(body, 'password', true), role: roleFor(admin === true) });
        return { message: 'update successfully' };
      }
      const password = text(body, 'password');
      if (password === undefined && admin === undefined) throw badParameters('give a password or admin to change.');
      if (admin !== undefined && !isAdmin(caller)) throw nonAdmin();
      if (password !== undefined && caller.user !== name && !isAdmin(caller)) throw forbidden("only an admin may set another user's password.");
      const u = mustGet(name);
      const role = admin === undefined ? undefined : roleFor(admin, u.role);
      checkNotLastAdmin(u.role, role);
      if (password !== undefined) await setPasswordUnlessSame(name, password);
      if (role !== undefined && role !== u.role) await identity.updateUser(name, { role });
      return { message: 'update successfully' };
    });
  });

  app.delete('/api/v1/user', async (request) => {
    const caller = sessionCaller(request);
    // the seed's status for a non-admin here
    if (!isAdmin(caller)) throw new PaiError({ status: 401, name: 'NotAuthorized', message: 'not authorized' }, { status: 403, name: 'ForbiddenUserError', message: 'Non-admin is not allow to do this operation.' });
    const body = bodyObject(request);
    let name = '';
    return v1Write(V1_REMOVE, () => name, async () => {
      name = text(body, 'username', true);
      mustGet(name);
      await identity.deleteUser(name);
      await profiles.remove(name);
      return { message: 'remove successfully' };
    });
  });

  app.put<{ Params: { username: string } }>('/api/v1/user/:username/virtualClusters', async (request, reply) => {
    adminCaller(request);
    const body = bodyObject(request);
    const name = request.params.username;
    return v1Write(V1_UPDATE_VC, () => name, async () => {
      const raw = body['virtualClusters'];
      // required, as in the seed: a body without it must not wipe the grants ("" removes them all)
      if (raw === undefined || raw === null) throw new AppError('VALIDATION_FAILED', 'virtualClusters is required: a comma list of virtual clusters ("" removes every grant)');
      const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
      const vcs = grants(list);
      mustGet(name);
      await identity.updateUser(name, { virtualClusters: vcs });
      return reply.code(201).send({ message: 'update user virtual clusters successfully' });
    });
  });

  // ---- v2

  for (const path of ['/api/v2/users', '/api/v2/users/']) {
    app.get(path, async (request) => {
      adminCaller(request);
      return identity.listUsers().map(userInfo).sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
    });

    app.post(path, async (request, reply) => {
      adminCaller(request);
      const body = bodyObject(request);
      const name = text(body, 'username', true);
      await v2Write(() => name, async () => {
        const password = text(body, 'password', true);
        const admin = flag(body, 'admin') === true;
        const virtualClusters = body['virtualCluster'] === undefined ? [] : grants(body['virtualCluster']);
        const profile: OpenPaiProfile = {
          ...emptyProfile(),
          ...(body['email'] === undefined ? {} : { email: checkEmail(body['email']) }),
          ...(body['extension'] === undefined ? {} : { extension: checkExtension(body['extension']) }),
        };
        checkProfileSize(profile);
        const u = await identity.createUser({ name, password, role: roleFor(admin), virtualClusters });
        if (body['email'] !== undefined || body['extension'] !== undefined) await profiles.update(u, () => profile);
      });
      return reply.code(201).send({ message: 'User is created successfully' });
    });
  }

  app.put('/api/v2/users', async (request, reply) => {
    adminCaller(request);
    const body = bodyObject(request);
    const data = dataOf(body);
    const name = text(data, 'username', true);
    const u = mustGet(name);
    const patch = flag(body, 'patch') === true;
    if (!patch) {
      const missing = ['email', 'virtualCluster', 'admin', 'password', 'extension'].filter((k) => data[k] === undefined);
      if (missing.length > 0) throw badParameters(`With patch false, data needs ${missing.join(', ')}.`);
    }
    await v2Write(() => name, async () => {
      const admin = flag(data, 'admin');
      const role = admin === undefined ? undefined : roleFor(admin, u.role);
      const virtualClusters = data['virtualCluster'] === undefined ? undefined : grants(data['virtualCluster']);
      const password = text(data, 'password');
      const email = data['email'] === undefined ? undefined : checkEmail(data['email']);
      const extension = data['extension'] === undefined ? undefined : checkExtension(data['extension']);
      const current = profiles.get(u);
      checkProfileSize({ ...current, ...(email === undefined ? {} : { email }), ...(extension === undefined ? {} : { extension }) });
      checkNotLastAdmin(u.role, role);
      if (password !== undefined) await setPasswordUnlessSame(name, password);
      if ((role !== undefined && role !== u.role) || virtualClusters !== undefined) {
        await identity.updateUser(name, { ...(role === undefined ? {} : { role }), ...(virtualClusters === undefined ? {} : { virtualClusters }) });
      }
      if (email !== undefined || extension !== undefined) {
        await profiles.update(u, (p) => ({ ...p, ...(email === undefined ? {} : { email }), ...(extension === undefined ? {} : { extension }) }));
      }
    });
    return reply.code(201).send({ message: `update user ${name} successfully.` });
  });

  const passwordRate = loginRateCheck(app, cx);
  app.put('/api/v2/users/me', async (request, reply) => {
    const caller = sessionCaller(request);
    const body = bodyObject(request);
    const data = dataOf(body);
    const name = text(data, 'username', true);
    if (name !== caller.user) throw forbidden(`You may update only your own profile (${echo(caller.user)}).`);
    const u = mustGet(name);
    const patch = flag(body, 'patch') === true;
    await v2Write(() => name, async () => {
      const email = data['email'] === undefined ? (patch ? undefined : '') : checkEmail(data['email']);
      const extension = data['extension'] === undefined ? (patch ? undefined : {}) : checkExtension(data['extension']);
      const newPassword = text(data, 'newPassword');
      checkProfileSize({ ...profiles.get(u), ...(email === undefined ? {} : { email }), ...(extension === undefined ? {} : { extension }) });
      if (newPassword !== undefined) {
        const oldPassword = text(data, 'oldPassword');
        if (oldPassword === undefined) throw badParameters('oldPassword is required to set newPassword.');
        // a password check: under the login rate limit (keyed by data.username)
        await passwordRate(request, reply);
        if (!(await identity.checkPassword(name, oldPassword))) throw incorrectPassword();
        // the same password again: nothing to write, no token to revoke
        if (newPassword !== oldPassword) await identity.setPassword(name, newPassword);
      }
      if (email !== undefined || extension !== undefined) {
        await profiles.update(u, (p) => ({ ...p, ...(email === undefined ? {} : { email }), ...(extension === undefined ? {} : { extension }) }));
      }
    });
    return reply.code(201).send({ message: `update user ${name} successfully.` });
  });

  app.get<{ Params: { username: string } }>('/api/v2/users/:username', async (request) => {
    const caller = sessionCaller(request);
    selfOrAdmin(caller, request.params.username);
    return userInfo(mustGet(request.params.username));
  });

  app.delete<{ Params: { username: string } }>('/api/v2/users/:username', async (request) => {
    adminCaller(request);
    const name = request.params.username;
    mustGet(name);
    await v2Write(() => name, async () => {
      await identity.deleteUser(name);
      await profiles.remove(name);
    });
    return { message: 'user is removed successfully' };
  });

  // Groups, partially: the list is kept in the profile and shown; it grants nothing.

  /** Changes the grouplist of an existing user (admin, session token). */
  async function changeGroups(request: FastifyRequest<{ Params: { username: string } }>, change: (groups: string[], body: Record<string, unknown>) => string[]): Promise<void> {
    adminCaller(request);
    const u = mustGet(request.params.username);
    const body = bodyObject(request);
    const next = change(profiles.get(u).grouplist, body);
    await profiles.update(u, (p) => ({ ...p, grouplist: next }));
  }

  for (const suffix of ['', '/']) {
    app.put<{ Params: { username: string } }>(`/api/v2/users/:username/group${suffix}`, async (request, reply) => {
      let group = '';
      await changeGroups(request, (groups, body) => {
        group = checkGroupName(body['groupname']);
        return groups.includes(group) ? groups : [...groups, group];
      });
      return reply.code(201).send({ message: `User ${request.params.username} is added into group ${group}` });
    });

    app.delete<{ Params: { username: string } }>(`/api/v2/users/:username/group${suffix}`, async (request, reply) => {
      let group = '';
      await changeGroups(request, (groups, body) => {
        group = checkGroupName(body['groupname']);
        return groups.filter((g) => g !== group);
      });
      return reply.code(201).send({ message: `User ${request.params.username} is removed from group ${group}` });
    });

    app.put<{ Params: { username: string } }>(`/api/v2/users/:username/grouplist${suffix}`, async (request, reply) => {
      await changeGroups(request, (_groups, body) => checkGrouplist(body['grouplist']));
      return reply.code(201).send({ message: 'update user grouplist successfully.' });
    });
  }
}
