/** The identity's options, its face to the API, and the user records it keeps. */
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { ControlStore } from '../controlstore/controlStore.ts';
import type { Logger } from '../log.ts';
import type { VirtualClusterDef } from '../quota/shares.ts';
import type { Caller, UserRole } from '../serviceTypes.ts';
import type { ScryptParams } from './passwords.ts';
import type { VirtualClusterPatch } from './virtualClusters.ts';

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

/** One of a user's live tokens, as {@link Identity.listTokens} shows it (never the token itself). */
export interface TokenInfo {
  /** The token's SHA-256, hex: what {@link Identity.revokeToken} accepts besides the token. */
  id: string;
  application: boolean;
  createdAt: string;
  expiresAt: string;
}

/** Options of {@link Identity.issueToken}. */
export interface IssueTokenOptions {
  /** An application token: lasts `tokenMaxTtlMs` by default; refused on user and token administration. @defaultValue false */
  application?: boolean;
  /** Lifetime, capped at `tokenMaxTtlMs`. @defaultValue `tokenTtlMs` (`tokenMaxTtlMs` for an application token) */
  ttlMs?: number;
}

/** What {@link Identity.checkLogin} found: the password is right, the user is unknown, or the password is wrong. */
export type LoginCheck = 'ok' | 'noUser' | 'badPassword';

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
  /**
   * A new token for `name`, who is already authenticated (no password is checked). USER_NOT_FOUND for
   * an unknown user; VALIDATION_FAILED for a `ttlMs` that is not a number.
   */
  issueToken(name: string, opts?: IssueTokenOptions): Promise<LoginResult>;
  /** The user's live tokens (unexpired, not revoked), newest first; none for an unknown user. */
  listTokens(name: string): TokenInfo[];
  /**
   * Revokes a token given as itself (`jjt_…`) or as its id (64 hex digits, from {@link listTokens}).
   * It must be `by.user`'s unless `by` is an admin (FORBIDDEN otherwise); NOT_FOUND when no live
   * token has it.
   */
  revokeToken(by: Caller, tokenOrId: string): Promise<void>;
  /** True when `password` is the user's (false for unknown users, same work). */
  checkPassword(name: string, password: string): Promise<boolean>;
  /**
   * Like {@link checkPassword}, but tells an unknown user (`noUser`) from a wrong password
   * (`badPassword`), for facades whose original did (OpenPAI v2). Same work for every outcome; a
   * password longer than any accepted is `badPassword` for a known user. Issues no token.
   */
  checkLogin(name: string, password: string): Promise<LoginCheck>;
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
