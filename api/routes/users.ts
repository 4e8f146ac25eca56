/**
 * User administration (admin), and a password change any user may make for themselves with their
 * current password. A password change or deletion revokes the user's tokens.
 */
import type { FastifyPluginAsync } from 'fastify';
import { AppError, USER_NAME_RE, type UserRole } from '../../engine/index.ts';
import type {} from '../auth.ts';
import { NAME_PATTERN, USER_NAME_PATTERN, userRouteSchemas as schemas } from '../schemas/auth.ts';
import type { IdentityRoutesOptions } from './auth.ts';

interface NameParams {
  name: string;
}

const NAME_RE = new RegExp(NAME_PATTERN);

/** The `:name` parameter of a virtual cluster, or VALIDATION_FAILED (the schema leaves the pattern to us for a clearer error). */
export function checkedName(params: NameParams): string {
  if (!NAME_RE.test(params.name)) throw new AppError('VALIDATION_FAILED', `params/name must match pattern "${NAME_PATTERN}"`);
  return params.name;
}

/** The `:name` parameter of a user, or VALIDATION_FAILED. */
function checkedUserName(params: NameParams): string {
  if (!USER_NAME_RE.test(params.name)) throw new AppError('VALIDATION_FAILED', `params/name must match pattern "${USER_NAME_PATTERN}"`);
  return params.name;
}

/** Administration: admins with a session token (application tokens are refused: api/auth.ts). */
const ADMIN = { auth: 'admin', sessionOnly: true } as const;

/** Registers `/users` and `/users/:name[...]`; mount with the API prefix. */
export const userRoutes: FastifyPluginAsync<IdentityRoutesOptions> = async (app, { identity }) => {
  const userUrl = (name: string) => `${app.prefix}/users/${name}`;

  app.get('/users', { schema: schemas.list, config: ADMIN }, async () => ({ users: identity.listUsers() }));

  app.post<{ Body: { name: string; password: string; role: UserRole; virtualClusters?: string[] } }>(
    '/users',
    { schema: schemas.create, config: ADMIN },
    async (request, reply) => {
      const user = await identity.createUser(request.body);
      return reply.code(201).header('location', userUrl(user.name)).send(user);
    },
  );

  app.get<{ Params: NameParams }>('/users/:name', { schema: schemas.get, config: ADMIN }, async (request) =>
    identity.getUser(checkedUserName(request.params)),
  );

  app.patch<{ Params: NameParams; Body: { role?: UserRole; virtualClusters?: string[] } }>(
    '/users/:name',
    { schema: schemas.update, config: ADMIN },
    async (request) => identity.updateUser(checkedUserName(request.params), request.body),
  );

  app.delete<{ Params: NameParams }>('/users/:name', { schema: schemas.remove, config: { ...ADMIN, bodyOptional: true } }, async (request, reply) => {
    await identity.deleteUser(checkedUserName(request.params));
    return reply.code(204).send();
  });

  app.put<{ Params: NameParams; Body: { password: string; currentPassword?: string } }>(
    '/users/:name/password',
    { schema: schemas.password, config: { auth: 'viewer', loginRateLimit: true, sessionOnly: true } },
    async (request, reply) => {
      const name = checkedUserName(request.params);
      const { caller } = request;
      if (caller.role !== 'admin') {
        if (caller.user !== name) throw new AppError('FORBIDDEN', "Only an admin may set another user's password.");
        const current = request.body.currentPassword;
        if (current === undefined) throw new AppError('VALIDATION_FAILED', 'body/currentPassword is required to change your own password');
        if (!(await identity.checkPassword(name, current))) throw new AppError('INVALID_CREDENTIALS', 'The current password is wrong.');
      }
      await identity.setPassword(name, request.body.password);
      return reply.code(204).send();
    },
  );

  app.put<{ Params: NameParams; Body: { virtualClusters: string[] } }>(
    '/users/:name/virtual-clusters',
    { schema: schemas.grants, config: ADMIN },
    async (request) => identity.updateUser(checkedUserName(request.params), { virtualClusters: request.body.virtualClusters }),
  );
};
