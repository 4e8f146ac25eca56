/**
 * User records in the control store (`user.<name>`): reads from the local mirror, and writes that
 * are CAS on the record's revision, retried on a concurrent change.
 */
import { controlKey, USER_NAME_RE } from '../controlstore/controlStore.ts';
import { AppError } from '../errors.ts';
import { handleCommand } from '../retry.ts';
import type { IdentityContext } from './context.ts';
import { checkGrants } from './grants.ts';
import { hashPassword } from './passwords.ts';
import type { NewUser, UserRecord, UserView } from './types.ts';

/** Tries of a user update in all, when other writers keep winning the CAS race. */
const MAX_CAS_ATTEMPTS = 5;

export const userKey = (name: string) => controlKey('user', name);

export function toView(u: UserRecord): UserView {
  return { name: u.name, role: u.role, virtualClusters: [...u.virtualClusters], createdAt: u.createdAt, updatedAt: u.updatedAt };
}

export interface UserRecords {
  /** The user's record and revision; undefined for an unknown user or a name that cannot be one. */
  record(name: string): { value: UserRecord; revision: number } | undefined;
  /** Like {@link record}; USER_NOT_FOUND for an unknown user. */
  mustGet(name: string): { value: UserRecord; revision: number };
  /** How many admins there are. */
  admins(): number;
  /** Read-modify-write of a user record with CAS, retried on a concurrent change. */
  mutateUser(name: string, change: (u: UserRecord) => UserRecord): Promise<UserRecord>;
  /** A new user's record (password hashed, grants checked); not yet stored. */
  newUserRecord(u: NewUser): Promise<UserRecord>;
}

export function createUserRecords(cx: IdentityContext): UserRecords {
  const { store, clock, random, params, iso } = cx;

  function record(name: string): { value: UserRecord; revision: number } | undefined {
    if (!USER_NAME_RE.test(name)) return undefined;
    return store.get<UserRecord>(userKey(name));
  }

  function mustGet(name: string): { value: UserRecord; revision: number } {
    const r = record(name);
    if (r === undefined) throw new AppError('USER_NOT_FOUND', `no user ${name}`);
    return r;
  }

  const admins = () => store.list<UserRecord>('user.').filter((e) => e.value.role === 'admin').length;

  /** Read-modify-write of a user record with CAS, retried on a concurrent change. */
  async function mutateUser(name: string, change: (u: UserRecord) => UserRecord): Promise<UserRecord> {
    return handleCommand(
      {
        read: () => mustGet(name),
        decide: (cur) => {
          const next = { ...change(cur.value), updatedAt: iso(clock.now()) };
          return { write: next };
        },
        append: async (cur, next) => {
          await store.update(userKey(name), next, cur.revision);
          return next;
        },
      },
      { attempts: MAX_CAS_ATTEMPTS },
    );
  }

  async function newUserRecord(u: NewUser): Promise<UserRecord> {
    const now = iso(clock.now());
    return {
      name: u.name,
      role: u.role,
      passwordHash: await hashPassword(u.password, params),
      virtualClusters: checkGrants(store, u.virtualClusters ?? []),
      // random start: a user deleted and created again must not revive the old user's tokens
      generation: random(6).readUIntBE(0, 6),
      createdAt: now,
      updatedAt: now,
    };
  }

  return { record, mustGet, admins, mutateUser, newUserRecord };
}
