/**
 * Authentication, authorization and rate limiting of every route (registered by the server before
 * any route). Each route declares `config.auth`: 'public' | 'viewer' | 'operator' | 'admin'
 * (missing = 'viewer', i.e. any logged-in user). An onRequest hook resolves `Authorization:
 * Bearer <token>` into `request.caller` and answers 401 UNAUTHENTICATED (no, bad, expired or
 * revoked token) or 403 FORBIDDEN (role too low, or an application token on a route marked
 * `config.sessionOnly`: user and virtual-cluster administration). Requests are then rate limited
 * per user (per address when unauthenticated); routes marked `config.loginRateLimit` (password
 * checks) instead get a much lower limit per address and user name. Tokens are never logged (the server redacts the
 * header; nothing here logs one).
 */
import fp from 'fastify-plugin';
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type Caller, type Identity, type UserRole } from '../engine/index.ts';
import { DEFAULTS } from '../engine/index.ts';

/** Who may call a route. */
export type RouteAuth = 'public' | UserRole;

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; on 'public' routes only set when a valid token was sent. */
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** Who may call the route. @defaultValue 'viewer' (any logged-in user) */
    auth?: RouteAuth;
    /** The route checks a password: limited to `loginRateLimitPerMinute` per client address and user name. */
    loginRateLimit?: boolean;
    /** Administration an application token may not do (403): users, passwords, virtual clusters. @defaultValue false */
    sessionOnly?: boolean;
    /** On a facade with optional auth: a public route that reads no caller; credentials sent to it are not checked. */
    credentialsIgnored?: boolean;
  }
}

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  identity: Identity;
  /** `GET /metrics` without a token; otherwise admin only. */
  metricsPublic: boolean;
  /** Requests per minute per user (per address when unauthenticated). */
  rateLimitPerMinute: number;
  /** Password checks (login, password change) per minute per address and user name. */
  loginRateLimitPerMinute: number;
  /** Password checks per minute per address, whatever the user names. @defaultValue {@link DEFAULTS}.loginRateLimitPerAddressPerMinute */
  loginRateLimitPerAddressPerMinute?: number;
}

const RANK: Readonly<Record<UserRole, number>> = { viewer: 0, operator: 1, admin: 2 };
const WINDOW_MS = 60_000;
/** Probes: never rate limited (a limit would turn an overload into a restart loop). */
const PROBES = new Set(['/healthz', '/readyz']);

/** The access a request needs, from its route (paths outside the API are fixed here). */
function requiredAuth(request: FastifyRequest, metricsPublic: boolean): RouteAuth {
  const url = request.routeOptions.url;
  // no route: let the not-found handler answer 404 whoever asks
  if (url === undefined) return 'public';
  if (PROBES.has(url) || url === '/docs' || url.startsWith('/docs/')) return 'public';
  if (url === '/metrics') return metricsPublic ? 'public' : 'admin';
  return request.routeOptions.config.auth ?? 'viewer';
}

/** The credentials of the request's `Authorization: Bearer <token>` header, if it has that shape. */
export function presentedToken(request: FastifyRequest): string | undefined {
  return /^Bearer +([\x21-\x7e]{1,512})$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** The user name a password check is about: `username` in the body or `:name` in the path. */
function attemptedUser(request: FastifyRequest): string {
  const body = request.body as { username?: unknown } | undefined;
  const params = request.params as { name?: unknown } | undefined;
  const name = typeof body?.username === 'string' ? body.username : typeof params?.name === 'string' ? params.name : '';
  return name.slice(0, 64);
}

const plugin: FastifyPluginAsync<AuthPluginOptions> = async (app, opts) => {
  const { identity } = opts;
  app.decorateRequest('caller', null as unknown as Caller);

  app.addHook('onRequest', async (request, reply) => {
    const need = requiredAuth(request, opts.metricsPublic);
    const header = request.headers.authorization;
    if (need === 'public') {
      // a public route works with a bad token too; a good one still identifies the caller
      if (header !== undefined) {
        try {
          request.caller = identity.authenticate(header);
        } catch {
          // ignored on purpose
        }
      }
      return;
    }
    try {
      request.caller = identity.authenticate(header);
    } catch (err) {
      reply.header('www-authenticate', 'Bearer realm="jetjobs"');
      throw err;
    }
    if (RANK[request.caller.role] < RANK[need]) {
      throw new AppError('FORBIDDEN', `This needs the ${need} role; you are ${request.caller.role}.`);
    }
    if (request.caller.tokenKind === 'application' && request.routeOptions.config.sessionOnly === true) {
      throw new AppError('FORBIDDEN', 'Application tokens cannot do this.');
    }
  });

  // Before @fastify/rate-limit's own onRoute hook: swap the limit of password-checking routes.
  const loginLimit: RateLimitOptions = {
    max: opts.loginRateLimitPerMinute,
    timeWindow: WINDOW_MS,
    // after validation, so the body's user name is known (and well-formed)
    hook: 'preHandler',
    keyGenerator: (request) => `login:${request.ip}:${attemptedUser(request)}`,
    errorResponseBuilder: (_request, ctx) => new AppError('RATE_LIMITED', `Too many password attempts; retry in ${ctx.after}.`),
  };
  // A second, wider limit on the same routes, per address alone: one address trying many user names
  // (password spraying) is held back too. Created once the rate-limit plugin is in; counted first.
  const checkAddress = async (request: FastifyRequest, reply: FastifyReply) => {
    const r = await perAddress(request); // declared below; requests come after the plugin loaded
    if (r.isAllowed || !r.isExceeded) return; // isAllowed: on an allow list only
    reply.header('retry-after', String(Math.max(1, r.ttlInSeconds)));
    throw new AppError('RATE_LIMITED', `Too many password attempts from this address; retry in ${Math.max(1, r.ttlInSeconds)} s.`);
  };
  app.addHook('onRoute', (route) => {
    if (route.config?.loginRateLimit !== true) return;
    route.config = { ...route.config, rateLimit: loginLimit };
    const own = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [checkAddress, ...own];
  });

  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimitPerMinute,
    timeWindow: WINDOW_MS,
    // runs after the auth hook above (route hooks follow instance hooks), so the caller is known
    keyGenerator: (request) => (request.caller ? `user:${request.caller.user}` : `ip:${request.ip}`),
    allowList: (request) => PROBES.has(request.routeOptions.url ?? ''),
    errorResponseBuilder: (_request, ctx) => new AppError('RATE_LIMITED', `More than ${ctx.max} requests per minute; retry in ${ctx.after}.`),
  });
  const perAddress = app.createRateLimit({
    max: opts.loginRateLimitPerAddressPerMinute ?? DEFAULTS.loginRateLimitPerAddressPerMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `login-address:${request.ip}`,
  });
};

/** Authentication, roles and rate limits for every route registered after it. */
export const authPlugin = fp(plugin, { name: 'jetjobs-auth', fastify: '5.x' });
