/**
 * Logging in and tokens (plan §2, §5.3): the seed's `POST /api/v1/token`, PAIV1's
 * `/api/v1/token[/application|/:token]`, and v2's `/api/v2/authn/basic/{login,logout}` and
 * `/api/v2/tokens[/application|/:token]`. Tokens are the engine's (`jjt_…`); a listing shows their
 * ids (SHA-256 hex), since only those are kept, and a revoke takes a token or an id. v1's login keeps
 * the seed's one answer for both failures; v2's tells an unknown user from a wrong password, as the
 * original and the SDK's suite do, at the same cost (identity.checkLogin) and under the login rate
 * limit. Application tokens work on job routes and reads only: token administration refuses them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/rate-limit';
import { isAppError, type Caller } from '../../../engine/index.ts';
import { presentedToken } from '../../auth.ts';
import { sessionCaller, tokenCaller } from './auth.ts';
import type { OpenPaiContext } from './context.ts';
import { badParameters, PaiError } from './errors.ts';

const LOGIN_WINDOW_MS = 60_000;
/** Longest user name a rate-limit key keeps (longer ones are no user anyway). */
const KEY_NAME_CHARS = 64;
/** The most seconds an `expiration` may say before the cap applies (keeps the arithmetic exact). */
const MAX_EXPIRATION_SECONDS = 10 ** 9;

const loginFailed = (): PaiError => PaiError.of(401, 'AuthenticationFailed', 'UnauthorizedUserError', 'authentication failed');
const noUserLogin = (user: string): PaiError => PaiError.of(400, 'NoUserError', 'NoUserError', `User ${user} is not found.`);
const incorrectPassword = (): PaiError => PaiError.of(400, 'IncorrectPasswordError', 'IncorrectPasswordError', 'Password is incorrect.');
const noToken = (): PaiError => PaiError.of(400, 'InvalidParametersError', 'InvalidParametersError', 'The token is unknown, expired or revoked.');

/** A JSON or form body as an object ({} when there is none). */
export function bodyObject(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badParameters('The body must be a JSON object or a form.');
  return body as Record<string, unknown>;
}

/** The user name a password check is about: `username`, else `data.username` (users/me). */
function attemptedUser(request: FastifyRequest): string {
  const body = request.body as { username?: unknown; data?: { username?: unknown } } | undefined | null;
  const name = typeof body?.username === 'string' ? body.username : typeof body?.data?.username === 'string' ? body.data.username : '';
  return name.slice(0, KEY_NAME_CHARS);
}

type LoginCheck = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
/** One counter per facade mount (shared by both prefixes and every password-checking route of it). */
const limiters = new WeakMap<OpenPaiContext, LoginCheck>();

/**
 * The preHandler of routes that check a password: `loginRateLimitPerAddressPerMinute` tries per
 * client address whatever the user names, and `loginRateLimitPerMinute` per address and user name, counted across the login routes of both generations and both prefixes
 * (per-route `config.rateLimit` would count each of the eight routes apart). A 429 carries
 * retry-after and the generation's error shape. On the API port the routes also carry
 * `config.loginRateLimit`, which adds the native per-address limit shared with `/auth/login`.
 */
export function loginRateCheck(app: FastifyInstance, cx: OpenPaiContext): LoginCheck {
  const known = limiters.get(cx);
  if (known !== undefined) return known;
  if (typeof app.createRateLimit !== 'function') throw new Error('the OpenPAI login routes need @fastify/rate-limit registered above the facade');
  const limit = app.createRateLimit({
    max: cx.loginRateLimitPerMinute,
    timeWindow: LOGIN_WINDOW_MS,
    keyGenerator: (request) => `openpai-login:${request.ip}:${attemptedUser(request)}`,
  });
  // one address trying many user names (v2 logins tell an unknown user from a wrong password) is held back too
  const perAddress = app.createRateLimit({
    max: cx.loginRateLimitPerAddressPerMinute,
    timeWindow: LOGIN_WINDOW_MS,
    keyGenerator: (request) => `openpai-login-address:${request.ip}`,
  });
  const check: LoginCheck = async (request, reply) => {
    for (const r of [await perAddress(request), await limit(request)]) {
      if (r.isAllowed || !r.isExceeded) continue;
      const after = Math.max(1, r.ttlInSeconds);
      reply.header('retry-after', String(after));
      throw PaiError.of(429, 'TooManyRequests', 'UnknownError', `Too many password attempts; retry in ${after} s.`);
    }
  };
  limiters.set(cx, check);
  return check;
}

/** `username` and `password` of a login body (form strings or JSON). */
function credentials(request: FastifyRequest): { username: string; password: string } {
  const body = bodyObject(request);
  const { username, password } = body;
  if (typeof username !== 'string' || username === '') throw badParameters('username is required.');
  if (typeof password !== 'string' || password === '') throw badParameters('password is required.');
  return { username, password };
}

/** `expiration` (seconds; a form sends a string) as a token lifetime in ms, capped by `tokenMaxTtlMs`; undefined when absent. */
export function expirationMs(request: FastifyRequest, cx: Pick<OpenPaiContext, 'tokenMaxTtlMs'>): number | undefined {
  const raw = bodyObject(request)['expiration'];
  if (raw === undefined || raw === '') return undefined;
  const seconds = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,12}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw badParameters('expiration must be a positive whole number of seconds.');
  return Math.min(Math.min(seconds, MAX_EXPIRATION_SECONDS) * 1000, cx.tokenMaxTtlMs);
}

/** Revokes `tokenOrId` as `caller` (own tokens; an admin any): 200 `{message}`. */
async function revoke(cx: OpenPaiContext, caller: Caller, tokenOrId: string): Promise<{ message: string }> {
  try {
    await cx.identity.revokeToken(caller, tokenOrId);
  } catch (err) {
    if (isAppError(err, 'NOT_FOUND')) throw noToken();
    throw err;
  }
  return { message: 'revoke successfully' };
}

export function registerTokenRoutes(app: FastifyInstance, cx: OpenPaiContext): void {
  const { identity } = cx;
  // credentialsIgnored: a stale token sent along with a login does not make it a 401
  const login = { preHandler: loginRateCheck(app, cx), config: { loginRateLimit: true, credentialsIgnored: true } };

  // the seed's login: one answer for an unknown user and a wrong password
  app.post('/api/v1/token', login, async (request) => {
    const { username, password } = credentials(request);
    const ttlMs = expirationMs(request, cx);
    try {
      const r = await identity.login(username, password, ttlMs);
      return { token: r.token, user: r.user.name };
    } catch (err) {
      if (isAppError(err, 'INVALID_CREDENTIALS')) throw loginFailed();
      throw err;
    }
  });

  app.post('/api/v2/authn/basic/login', login, async (request) => {
    const { username, password } = credentials(request);
    const ttlMs = expirationMs(request, cx);
    const outcome = await identity.checkLogin(username, password);
    if (outcome === 'noUser') throw noUserLogin(username.slice(0, KEY_NAME_CHARS));
    if (outcome === 'badPassword') throw incorrectPassword();
    const r = await identity.issueToken(username, ttlMs === undefined ? {} : { ttlMs });
    return { token: r.token, user: r.user.name, admin: r.user.role === 'admin' };
  });

  // revokes the token presented (any kind: giving up one's own token is always allowed)
  app.delete('/api/v2/authn/basic/logout', async (request) => {
    tokenCaller(request);
    const token = presentedToken(request);
    if (token !== undefined) await identity.logout(token);
    return { message: 'Logout successfully' };
  });

  for (const base of ['/api/v1/token', '/api/v2/tokens']) {
    app.get(base, async (request) => ({ tokens: identity.listTokens(sessionCaller(request).user).map((t) => t.id) }));

    app.post(`${base}/application`, async (request) => {
      const caller = sessionCaller(request);
      const r = await identity.issueToken(caller.user, { application: true });
      return { token: r.token, application: true };
    });

    app.delete<{ Params: { token: string } }>(`${base}/:token`, async (request) => revoke(cx, sessionCaller(request), request.params.token));
  }
}
