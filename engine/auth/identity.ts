/**
 * Users, roles and bearer tokens over the control store. Reads (authenticating a request) are
 * synchronous from the local mirror; writes are CAS on the record's revision, retried on a
 * concurrent change. Passwords are scrypt hashes; tokens are stored only as SHA-256 ids; neither
 * a password nor a token is ever logged.
 *
 * The parts: userRecords.ts (the records and their CAS writes), bootstrap.ts (the first admin),
 * sessions.ts (login, authenticate, logout, sweep), tokenAdmin.ts (tokens without a password,
 * application tokens, listing and revoking by id), users.ts (managing users), grants.ts (virtual
 * clusters and the grants of them); passwords.ts and tokens.ts are the formats.
 */
import { createBootstrap } from './bootstrap.ts';
import { createIdentityContext } from './context.ts';
import { createVirtualClusterAdmin } from './grants.ts';
import { createSessions } from './sessions.ts';
import { createTokenAdmin } from './tokenAdmin.ts';
import type { Identity, IdentityOptions } from './types.ts';
import { createUserRecords } from './userRecords.ts';
import { createUserAdmin } from './users.ts';

export { ADMIN_USER, GENERATED_PASSWORD_LENGTH } from './bootstrap.ts';
export { RESERVED_USER_NAMES } from './users.ts';
export { USER_NAME_RE } from '../controlstore/controlStore.ts';
export type { Identity, IdentityOptions, IssueTokenOptions, LoginCheck, LoginResult, NewUser, TokenInfo, UserRecord, UserView } from './types.ts';

/** Users, tokens and virtual-cluster grants over `opts.store`, assembled from the parts above. */
export function createIdentity(opts: IdentityOptions): Identity {
  const cx = createIdentityContext(opts);
  const users = createUserRecords(cx);
  return {
    bootstrap: createBootstrap(cx, users),
    ...createSessions(cx, users),
    ...createTokenAdmin(cx, users),
    ...createUserAdmin(cx, users),
    ...createVirtualClusterAdmin(cx, users),
  };
}
