/**
 * Managing users: create, change role or grants, set a password (which revokes the user's tokens),
 * delete (with its tokens), read. The last admin can neither lose the role nor be deleted.
 */
import { USER_NAME_RE } from '../controlstore/controlStore.ts';
import { AppError, isAppError } from '../errors.ts';
import { ROLES } from '../serviceTypes.ts';
import type { IdentityContext } from './context.ts';
import { checkGrants } from './grants.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import { dropTokens } from './sessions.ts';
import type { Identity, UserRecord } from './types.ts';
import { toView, userKey, type UserRecords } from './userRecords.ts';

/** Names no user may take (in any case: `System` would pass for `system` in a listing). */
export const RESERVED_USER_NAMES: ReadonlySet<string> = new Set(['system']);

export type UserAdmin = Pick<Identity, 'createUser' | 'updateUser' | 'setPassword' | 'deleteUser' | 'getUser' | 'listUsers'>;

export function createUserAdmin(cx: IdentityContext, users: UserRecords): UserAdmin {
  const { store, logger, params } = cx;
  const { record, mustGet, admins, mutateUser, newUserRecord } = users;

  return {
    async createUser(u) {
      if (!USER_NAME_RE.test(u.name)) throw new AppError('VALIDATION_FAILED', `name must match ${USER_NAME_RE.source}`);
      // `system` owns the jobs the engine itself submits (SYSTEM_CALLER): no person may log in as it.
      if (RESERVED_USER_NAMES.has(u.name.toLowerCase())) throw new AppError('VALIDATION_FAILED', `the user name ${u.name} is reserved`);
      if (!(ROLES as readonly string[]).includes(u.role)) throw new AppError('VALIDATION_FAILED', `role must be one of ${ROLES.join(', ')}`);
      checkPasswordPolicy(u.password);
      if (record(u.name) !== undefined) throw new AppError('USER_EXISTS', `user ${u.name} exists`);
      const rec = await newUserRecord(u);
      try {
        await store.create(userKey(u.name), rec);
      } catch (err) {
        if (isAppError(err, 'CONFLICT')) throw new AppError('USER_EXISTS', `user ${u.name} exists`);
        throw err;
      }
      logger.info({ user: u.name, role: u.role }, 'user created');
      return toView(rec);
    },

    async updateUser(name, patch) {
      if (patch.role !== undefined && !(ROLES as readonly string[]).includes(patch.role)) {
        throw new AppError('VALIDATION_FAILED', `role must be one of ${ROLES.join(', ')}`);
      }
      const grants = patch.virtualClusters === undefined ? undefined : checkGrants(store, patch.virtualClusters);
      const next = await mutateUser(name, (u) => {
        if (u.role === 'admin' && patch.role !== undefined && patch.role !== 'admin' && admins() <= 1) {
          throw new AppError('INVALID_TRANSITION', 'the last admin cannot lose the admin role');
        }
        return { ...u, ...(patch.role === undefined ? {} : { role: patch.role }), ...(grants === undefined ? {} : { virtualClusters: grants }) };
      });
      return toView(next);
    },

    async setPassword(name, newPassword) {
      checkPasswordPolicy(newPassword);
      mustGet(name);
      const hash = await hashPassword(newPassword, params);
      const next = await mutateUser(name, (u) => ({ ...u, passwordHash: hash, generation: u.generation + 1 }));
      logger.info({ user: name }, 'password changed; tokens revoked');
      await dropTokens(cx, (t) => t.user === name && t.generation !== next.generation);
    },

    async deleteUser(name) {
      const cur = mustGet(name);
      if (cur.value.role === 'admin' && admins() <= 1) throw new AppError('INVALID_TRANSITION', 'the last admin cannot be deleted');
      await store.delete(userKey(name));
      logger.info({ user: name }, 'user deleted');
      await dropTokens(cx, (t) => t.user === name);
    },

    getUser(name) {
      return toView(mustGet(name).value);
    },

    listUsers() {
      return store.list<UserRecord>('user.').map((e) => toView(e.value));
    },
  };
}
