/**
 * Users, roles and bearer tokens over the control store. Reads (authenticating a request) are
 * synchronous from the local mirror; writes are CAS on the record's revision, retried on a
 * concurrent change. Passwords are scrypt hashes; tokens are stored only as SHA-256 ids; neither
 * a password nor a token is ever logged.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { controlKey, NAME_RE, type ControlStore } from '../controlstore/controlStore.ts';
import { AppError, isAppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_VIRTUAL_CLUSTER, type VirtualClusterDef } from '../quota/shares.ts';
import { handleCommand } from '../retry.ts';
import { ROLES, type Caller, type UserRole } from '../serviceTypes.ts';
import { checkPasswordPolicy, DEFAULT_SCRYPT_PARAMS, PASSWORD_MAX_LENGTH, hashPassword, verifyPassword, type ScryptParams } from './passwords.ts';
import { bearerToken, looksLikeToken, newToken, secretEquals, tokenId, type TokenRecord } from './tokens.ts';
import {
  createVirtualCluster, deleteVirtualCluster, updateVirtualCluster, virtualClusterDefs, virtualClusterExists,
  type VirtualClusterPatch,
} from './virtualClusters.ts';

/** The name of the first admin, and of the caller behind `config.adminToken`. */
export const ADMIN_USER = 'admin';
/** Names no user may take. */
export const RESERVED_USER_NAMES: ReadonlySet<string> = new Set(['system']);
/** Length of a generated first-admin password. */
export const GENERATED_PASSWORD_LENGTH = 24;
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
/** Tries of a user update in all, when other writers keep winning the CAS race. */
const MAX_CAS_ATTEMPTS = 5;

/** What the control store keeps per user (`user.<name>`). */
export interface UserRecord {
  name: string;
  role: UserRole;
  passwordHash: string;
  /** Virtual clusters granted besides `default`. */
  virtualClusters: string[];
  /** Tokens carry the generation they were issued under; bumping it revokes them all. */
  generation: number;
  createdAt: string;
  updatedAt: string;
}

/** A user as the API shows it (never the hash). */
export interface UserView {
  name: string;
  role: UserRole;
  virtualClusters: string[];
  createdAt: string;
  updatedAt: string;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  user: UserView;
}

export interface NewUser {
  name: string;
  password: string;
  role: UserRole;
  virtualClusters?: string[];
}

/** Options of {@link createIdentity}. */
export interface IdentityOptions {
  store: ControlStore;
  config: Pick<Config, 'tokenTtlMs' | 'tokenMaxTtlMs' | 'adminToken' | 'adminPassword'>;
  clock: Clock;
  /** Random bytes (tokens, salts of nothing else, generated passwords). @defaultValue crypto.randomBytes */
  random?: (n: number) => Buffer;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** scrypt cost of new hashes (tests lower it). @defaultValue {@link DEFAULT_SCRYPT_PARAMS} */
  scryptParams?: ScryptParams;
  /** Checks a password against a stored hash (tests count the calls). @defaultValue {@link verifyPassword} */
  verifyPassword?: (password: string, stored: string) => Promise<boolean>;
  /** Whether a VC still has unfinished jobs (its deletion is refused then); from the job projection. */
  hasUnfinishedJobs?: (virtualCluster: string) => boolean;
}

export interface Identity {
  /** Creates `admin` when no user exists (race-safe across processes); a generated password is returned once. */
  bootstrap(): Promise<{ adminCreated: boolean; generatedPassword?: string }>;
  /** INVALID_CREDENTIALS for an unknown user or a wrong password (same work either way). */
  login(name: string, password: string, ttlMs?: number): Promise<LoginResult>;
  /** The caller behind an Authorization header; UNAUTHENTICATED if missing, malformed, unknown, expired or revoked. */
  authenticate(authorizationHeader: string | undefined): Caller;
  /** Revokes one token (unknown tokens are ignored). */
  logout(token: string): Promise<void>;
  /** True when `password` is the user's (false for unknown users, same work). */
  checkPassword(name: string, password: string): Promise<boolean>;
  createUser(user: NewUser): Promise<UserView>;
  updateUser(name: string, patch: { role?: UserRole; virtualClusters?: string[] }): Promise<UserView>;
  /** Sets a new password and revokes every token of the user. */
  setPassword(name: string, newPassword: string): Promise<void>;
  /** Removes the user and its tokens; the last admin cannot be removed (INVALID_TRANSITION). */
  deleteUser(name: string): Promise<void>;
  getUser(name: string): UserView;
  listUsers(): UserView[];
  /** Deletes expired and revoked token records; returns how many. */
  sweepExpiredTokens(): Promise<number>;
  /** Defined virtual clusters (the implicit `default` is added by effectiveClusters). */
  listVirtualClusters(): VirtualClusterDef[];
  createVirtualCluster(def: VirtualClusterDef): Promise<VirtualClusterDef>;
  updateVirtualCluster(name: string, patch: VirtualClusterPatch): Promise<VirtualClusterDef>;
  /** Removes a VC and (best effort) every grant of it. */
  deleteVirtualCluster(name: string): Promise<void>;
}

function toView(u: UserRecord): UserView {
  return { name: u.name, role: u.role, virtualClusters: [...u.virtualClusters], createdAt: u.createdAt, updatedAt: u.updatedAt };
}

const userKey = (name: string) => controlKey('user', name);

export function createIdentity(opts: IdentityOptions): Identity {
  const { store, config, clock, logger } = opts;
  const random = opts.random ?? randomBytes;
  const params = opts.scryptParams ?? DEFAULT_SCRYPT_PARAMS;
  const verify = opts.verifyPassword ?? verifyPassword;
  const iso = (ms: number) => new Date(ms).toISOString();
  // Verified against when the user is unknown, so that case costs what a wrong password costs.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hashPassword('not-a-password-of-anyone', params));
  // computed now, so that the first unknown-user login does not cost two hashes
  dummy().catch(() => (dummyHash = undefined));

  function record(name: string): { value: UserRecord; revision: number } | undefined {
    if (!NAME_RE.test(name)) return undefined;
    return store.get<UserRecord>(userKey(name));
  }

  function mustGet(name: string): { value: UserRecord; revision: number } {
    const r = record(name);
    if (r === undefined) throw new AppError('USER_NOT_FOUND', `no user ${name}`);
    return r;
  }

  function checkGrants(names: readonly string[]): string[] {
    const unique = [...new Set(names)];
    for (const vc of unique) {
      if (!virtualClusterExists(store, vc)) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `no virtual cluster ${vc}`);
    }
    return unique.sort();
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

  /** Deletes the token records of `name` (all, or those failing `keep`). Best effort per record. */
  async function dropTokens(shouldDrop: (t: TokenRecord, key: string) => boolean): Promise<number> {
    let n = 0;
    for (const { key, value } of store.list<TokenRecord>('token.')) {
      if (!shouldDrop(value, key)) continue;
      try {
        await store.delete(key);
        n++;
      } catch (err) {
        logger.warn({ err, user: value.user }, 'could not delete a token record');
      }
    }
    return n;
  }

  function generatePassword(): string {
    // rejection sampling: uniform over the alphabet
    const limit = 256 - (256 % PASSWORD_ALPHABET.length);
    let out = '';
    while (out.length < GENERATED_PASSWORD_LENGTH) {
      for (const b of random(GENERATED_PASSWORD_LENGTH * 2)) {
        if (b < limit && out.length < GENERATED_PASSWORD_LENGTH) out += PASSWORD_ALPHABET[b % PASSWORD_ALPHABET.length];
      }
    }
    return out;
  }

  function callerOf(user: string, role: UserRole, grants: readonly string[]): Caller {
    return { user, role, virtualClusters: [...new Set([...grants, DEFAULT_VIRTUAL_CLUSTER])] };
  }

  async function newUserRecord(u: NewUser): Promise<UserRecord> {
    const now = iso(clock.now());
    return {
      name: u.name,
      role: u.role,
      passwordHash: await hashPassword(u.password, params),
      virtualClusters: checkGrants(u.virtualClusters ?? []),
      // random start: a user deleted and created again must not revive the old user's tokens
      generation: random(6).readUIntBE(0, 6),
      createdAt: now,
      updatedAt: now,
    };
  }

  const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'Unknown user or wrong password.');

  const identity: Identity = {
    async bootstrap() {
      await store.ready;
      if (store.list('user.').length > 0) return { adminCreated: false };
      const generated = config.adminPassword === null ? generatePassword() : undefined;
      const password = config.adminPassword ?? generated!;
      try {
        await store.create(userKey(ADMIN_USER), await newUserRecord({ name: ADMIN_USER, password, role: 'admin' }));
      } catch (err) {
        if (isAppError(err, 'CONFLICT')) return { adminCreated: false }; // another process did it first
        throw err;
      }
      logger.info({ user: ADMIN_USER, passwordFrom: generated === undefined ? 'config' : 'generated' }, 'first admin user created');
      return generated === undefined ? { adminCreated: true } : { adminCreated: true, generatedPassword: generated };
    },

    async login(name, password, ttlMs) {
      const user = record(name);
      if (user === undefined || password.length > PASSWORD_MAX_LENGTH) {
        await verify(password, await dummy());
        throw invalidCredentials();
      }
      if (!(await verify(password, user.value.passwordHash))) throw invalidCredentials();
      const ttl = Math.max(1, Math.min(ttlMs ?? config.tokenTtlMs, config.tokenMaxTtlMs));
      const now = clock.now();
      const token = newToken(random);
      const rec: TokenRecord = { user: name, generation: user.value.generation, createdAt: iso(now), expiresAt: iso(now + ttl) };
      await store.create(controlKey('token', tokenId(token)), rec);
      return { token, expiresAt: rec.expiresAt, user: toView(user.value) };
    },

    authenticate(header) {
      const token = bearerToken(header);
      if (config.adminToken !== null && secretEquals(token, config.adminToken)) {
        return callerOf(ADMIN_USER, 'admin', record(ADMIN_USER)?.value.virtualClusters ?? []);
      }
      const rejected = () => new AppError('UNAUTHENTICATED', 'The token is unknown, expired or revoked; log in again.');
      if (!looksLikeToken(token)) throw rejected();
      const rec = store.get<TokenRecord>(`token.${tokenId(token)}`)?.value;
      if (rec === undefined || !(Date.parse(rec.expiresAt) > clock.now())) throw rejected();
      const user = record(rec.user)?.value;
      if (user === undefined || user.generation !== rec.generation) throw rejected();
      return callerOf(user.name, user.role, user.virtualClusters);
    },

    async logout(token) {
      if (!looksLikeToken(token)) return;
      await store.delete(controlKey('token', tokenId(token)));
    },

    async checkPassword(name, password) {
      const user = record(name);
      if (user === undefined || password.length > PASSWORD_MAX_LENGTH) {
        await verify(password, await dummy());
        return false;
      }
      return verify(password, user.value.passwordHash);
    },

    async createUser(u) {
      if (!NAME_RE.test(u.name)) throw new AppError('VALIDATION_FAILED', 'name must match ^[a-z][a-z0-9_-]{0,31}$');
      // `system` owns the jobs the engine itself submits (SYSTEM_CALLER): no person may log in as it.
      if (RESERVED_USER_NAMES.has(u.name)) throw new AppError('VALIDATION_FAILED', `the user name ${u.name} is reserved`);
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
      const grants = patch.virtualClusters === undefined ? undefined : checkGrants(patch.virtualClusters);
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
      await dropTokens((t) => t.user === name && t.generation !== next.generation);
    },

    async deleteUser(name) {
      const cur = mustGet(name);
      if (cur.value.role === 'admin' && admins() <= 1) throw new AppError('INVALID_TRANSITION', 'the last admin cannot be deleted');
      await store.delete(userKey(name));
      logger.info({ user: name }, 'user deleted');
      await dropTokens((t) => t.user === name);
    },

    getUser(name) {
      return toView(mustGet(name).value);
    },

    listUsers() {
      return store.list<UserRecord>('user.').map((e) => toView(e.value));
    },

    async sweepExpiredTokens() {
      const now = clock.now();
      return dropTokens((t) => {
        const user = record(t.user)?.value;
        return !(Date.parse(t.expiresAt) > now) || user === undefined || user.generation !== t.generation;
      });
    },

    listVirtualClusters() {
      return virtualClusterDefs(store);
    },

    createVirtualCluster(def) {
      return createVirtualCluster(store, def);
    },

    updateVirtualCluster(name, patch) {
      return updateVirtualCluster(store, name, patch);
    },

    async deleteVirtualCluster(name) {
      await deleteVirtualCluster(store, name, opts.hasUnfinishedJobs);
      for (const { value } of store.list<UserRecord>('user.')) {
        if (!value.virtualClusters.includes(name)) continue;
        try {
          await mutateUser(value.name, (u) => ({ ...u, virtualClusters: u.virtualClusters.filter((vc) => vc !== name) }));
        } catch (err) {
          logger.warn({ err, user: value.name, virtualCluster: name }, 'could not remove a grant of a deleted virtual cluster');
        }
      }
    },
  };
  return identity;
}
