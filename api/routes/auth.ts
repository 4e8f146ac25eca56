/**
 * Login, logout and "who am I". Login is public and limited per client address and user name
 * (api/auth.ts); the token is shown once, the server keeps only its hash.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Identity, JobService } from '../../engine/index.ts';
import { presentedToken } from '../auth.ts';
import { authRouteSchemas as schemas } from '../schemas/auth.ts';

/** Options of the identity route plugins (auth, users, virtual clusters). */
export interface IdentityRoutesOptions {
  identity: Identity;
  service: Pick<JobService, 'virtualClusters'>;
}

interface LoginBody {
  username: string;
  password: string;
  ttlMs?: number;
}

/** Registers `/auth/login`, `/auth/logout`, `/auth/me`; mount with the API prefix. */
export const authRoutes: FastifyPluginAsync<IdentityRoutesOptions> = async (app, { identity }) => {
  app.post<{ Body: LoginBody }>(
    '/auth/login',
    { schema: schemas.login, config: { auth: 'public', loginRateLimit: true } },
    async (request) => {
      const { username, password, ttlMs } = request.body;
      const { token, expiresAt, user } = await identity.login(username, password, ttlMs);
      return { token, tokenType: 'Bearer' as const, expiresAt, user };
    },
  );

  app.post('/auth/logout', { schema: schemas.logout, config: { auth: 'viewer', bodyOptional: true } }, async (request, reply) => {
    // the hook has authenticated this header already (the static admin token is not revocable)
    const token = presentedToken(request);
    if (token !== undefined) await identity.logout(token);
    return reply.code(204).send();
  });

  app.get('/auth/me', { schema: schemas.me }, async (request) => {
    const { caller } = request;
    let createdAt: string | null = null;
    let updatedAt: string | null = null;
    try {
      ({ createdAt, updatedAt } = identity.getUser(caller.user));
    } catch {
      // the static admin token acts as `admin` even when no such user exists
    }
    return { name: caller.user, role: caller.role, virtualClusters: [...caller.virtualClusters], createdAt, updatedAt };
  });
};
