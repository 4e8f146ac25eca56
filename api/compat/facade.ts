/**
 * What every seed facade shares (docs/compat.md): who the caller is (auth mode `none`, `basic` or
 * `bearer`), errors in the original's shape, and serving one set of routes twice: on the
 * original's own ports at its root paths (facadeListeners.ts) and under `/compat/<name>/` on the
 * API port (server.ts). A facade translates paths, ids, states and shapes to the engine's
 * services and back; it holds no engine logic and no state of its own.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type BinaryStore, type Caller, type DocumentStore, type RuntimeCommands, type TaskLogs, type FacadeAuthMode, type Identity, type JobService, type LevelControl, type UserRole } from '../../engine/index.ts';
import { toAppError, type RawErrorShape } from '../errorResponses.ts';

/** The engine's services a facade may call. */
export interface FacadeDeps {
  service: JobService;
  identity: Identity;
  /** This process's log level, for routes that change it live (Alluxio's `logLevel`). */
  levels?: LevelControl;
  /** Durable documents a facade keeps beside the jobs (Teraslice's job definitions). */
  documents?: DocumentStore;
  /** Uploaded binaries (Spark's `/binaries`). */
  binaries?: BinaryStore;
  /** The runtimes `script` jobs can use (Spark refuses a job whose runtime is missing). */
  scriptRuntimes?: RuntimeCommands;
  /** Task output (OpenPAI's instance logs). */
  taskLogs?: TaskLogs;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The facade's caller, or null for an anonymous request to a facade with `auth.optional`. On
     * such a request `caller` is null too (despite its type): routes of an optional facade read this.
     */
    callerOrNull: Caller | null;
  }
}

/** Who a facade's requests are (docs/compat.md, "Who the caller is"). */
export interface FacadeAuth {
  mode: FacadeAuthMode;
  /** With `none`: the user every request acts as. */
  user: string;
  /** With `none`: that user's role. */
  role: UserRole;
  /**
   * With `bearer` or `basic`: a request without an `Authorization` header is anonymous
   * (`request.callerOrNull` null) instead of 401, and each route decides what an anonymous caller
   * may do. A header that is present but wrong is still 401. @defaultValue false
   */
  optional?: boolean;
}

/** One listener of a facade: the original served these routes on their own port. */
export interface FacadeListener {
  /** e.g. `job master`. */
  name: string;
  /** The port it binds (0: any free one). */
  port: number;
  routes: FastifyPluginAsync<FacadeDeps>;
  /**
   * This listener's own error shape, where it differs from the facade's (Alluxio's EE coordinator
   * answers `{status: <message>}` with real HTTP statuses, its OSS job master 500 for everything):
   * used for its routes, on its port and under `/compat/<name>/`. @defaultValue the facade's
   */
  sendError?: Facade['sendError'];
  /** The answer to an unknown path on this listener's own port. @defaultValue the facade's */
  notFound?: Facade['notFound'];
}

export interface Facade {
  /** The path segment under `/compat/` and the name in logs and the banner. */
  name: string;
  auth: FacadeAuth;
  listeners: readonly FacadeListener[];
  /** Sends any error the way the original does (status, body); `err` is already an AppError. */
  sendError(request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply;
  /** The body and status of an unknown path, as the original answers it. */
  notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply;
  /**
   * The body of an error written straight to the socket on the facade's own ports (a 408 for a
   * request that took too long, 431 headers too large, 429 too many connections), where no route
   * ran. @defaultValue our native body
   */
  rawErrorShape?: RawErrorShape;
}

/**
 * How long a checked `basic` credential is trusted before its password is checked again. Every use
 * still reads the user from the local mirror of the control store: a deleted user, or one changed
 * since (password, role, virtual clusters: `updatedAt` moves), is checked again at once.
 */
const BASIC_CACHE_MS = 300_000;
/** Credentials kept checked at most (oldest dropped first). */
const BASIC_CACHE_MAX = 1024;

/**
 * Resolves the request's Caller by the facade's auth mode; UNAUTHENTICATED (401, with the
 * `www-authenticate` challenge of the mode) when credentials are missing or wrong. Null (anonymous)
 * only with `auth.optional` and no `Authorization` header.
 */
export function facadeAuthenticator(auth: FacadeAuth, identity: Identity): (request: FastifyRequest, reply: FastifyReply) => Promise<Caller | null> {
  const fixed: Caller = Object.freeze({ user: auth.user, role: auth.role, virtualClusters: Object.freeze([]) as readonly string[] });
  /** sha256(header) → caller and when it was checked: scrypt on every poll would cost ~0.1 s of CPU each. */
  const checked = new Map<string, { caller: Caller; updatedAt: string; at: number }>();

  /** The cached caller while its user is unchanged since the check; undefined otherwise. */
  function stillValid(hit: { caller: Caller; updatedAt: string; at: number } | undefined): Caller | undefined {
    if (hit === undefined || performance.now() - hit.at >= BASIC_CACHE_MS) return undefined;
    try {
      return identity.getUser(hit.caller.user).updatedAt === hit.updatedAt ? hit.caller : undefined;
    } catch {
      return undefined; // deleted
    }
  }

  async function basic(header: string | undefined): Promise<Caller> {
    const m = /^Basic +([A-Za-z0-9+/=]{1,1024})$/i.exec(header ?? '');
    if (!m) throw new AppError('UNAUTHENTICATED', 'This facade needs HTTP basic authentication (a jetjobs user and password).');
    const key = createHash('sha256').update(m[1]!).digest('hex');
    const valid = stillValid(checked.get(key));
    if (valid !== undefined) return valid;
    checked.delete(key);
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = colon === -1 ? '' : decoded.slice(0, colon);
    const password = colon === -1 ? '' : decoded.slice(colon + 1);
    if (!(await identity.checkPassword(name, password))) throw new AppError('UNAUTHENTICATED', 'Wrong user name or password.');
    const u = identity.getUser(name);
    const caller: Caller = Object.freeze({ user: u.name, role: u.role, virtualClusters: Object.freeze([...u.virtualClusters]) });
    if (checked.size >= BASIC_CACHE_MAX) checked.delete(checked.keys().next().value!);
    checked.set(key, { caller, updatedAt: u.updatedAt, at: performance.now() });
    return caller;
  }

  return async (request, reply) => {
    if (auth.mode === 'none') return fixed;
    if (auth.optional === true && request.headers.authorization === undefined) return null;
    try {
      return auth.mode === 'basic' ? await basic(request.headers.authorization) : identity.authenticate(request.headers.authorization);
    } catch (err) {
      reply.header('www-authenticate', auth.mode === 'basic' ? 'Basic realm="jetjobs", charset="UTF-8"' : 'Bearer realm="jetjobs"');
      throw err;
    }
  };
}

/**
 * The facade's routes of `listeners` in one encapsulated scope: its caller, error and not-found
 * handling apply to these routes only. Registered at the root of a listener of its own, or under
 * `/compat/<name>` on the API port (where the API's own authentication lets these routes through:
 * `config.auth: 'public'` is set on each).
 */
export function facadeScope(facade: Facade, facadeDeps: FacadeDeps, listeners: readonly FacadeListener[]): FastifyPluginAsync {
  const deps = { ...facadeDeps, service: withOrigin(facadeDeps.service, facade.name) };
  return async (app: FastifyInstance) => {
    const authenticate = facadeAuthenticator(facade.auth, deps.identity);
    if (!app.hasRequestDecorator('caller')) app.decorateRequest('caller', null as unknown as Caller);
    if (!app.hasRequestDecorator('callerOrNull')) app.decorateRequest('callerOrNull', null);
    app.addHook('onRoute', (route) => {
      // auth: the facade decides (below); bodyOptional: the originals accept an empty body with a
      // JSON content type where the route reads none (e.g. Alluxio's cancel)
      route.config = { ...route.config, auth: 'public', bodyOptional: true };
      // the native OpenAPI document describes the native API; docs/compat/<name>.md these routes
      route.schema = { ...route.schema, hide: true };
    });
    app.addHook('onRequest', async (request, reply) => {
      // a public route of an optional facade (a login, an info page) ignores any credentials sent along
      const caller = facade.auth.optional === true && request.routeOptions.config.credentialsIgnored === true ? null : await authenticate(request, reply);
      request.callerOrNull = caller;
      // null only on an optional facade, whose routes read callerOrNull (the others keep a Caller-typed `caller`)
      request.caller = caller ?? (null as unknown as Caller);
    });
    // an unknown path or an error before any route (a body the parser refuses): the listener's own
    // answer on its own port; under /compat/<name>/, where several listeners share one prefix, the facade's
    const only = listeners.length === 1 ? listeners[0]! : undefined;
    const scopeShape = only?.sendError !== undefined ? { sendError: only.sendError } : facade;
    app.setErrorHandler((err, request, reply) => sendFacadeError(scopeShape, request, reply, err));
    const notFound = only?.notFound ?? facade.notFound;
    app.setNotFoundHandler((request, reply) => notFound(request, reply));
    for (const l of listeners) {
      const { sendError } = l;
      if (sendError === undefined) {
        await app.register(l.routes, deps);
        continue;
      }
      // a child scope: its error handler applies to this listener's routes only
      await app.register(async (child) => {
        child.setErrorHandler((err, request, reply) => sendFacadeError({ sendError }, request, reply, err));
        await child.register(l.routes, deps);
      });
    }
  };
}

/**
 * The job service as a facade's routes use it: every job they submit or re-run records the facade's
 * name as its `origin` (JobView.origin: "submitted through Teraslice"), whichever route made it.
 */
export function withOrigin(service: JobService, origin: string): JobService {
  return {
    ...service,
    submit: (req, opts) => service.submit(req, { ...opts, origin }),
    submitMany: (items, by) => service.submitMany(items, { ...by, origin }),
    rerun: (id, by) => service.rerun(id, { ...by, origin }),
  };
}

/** Logs and sends anything thrown the facade's (or listener's) way (also for router errors: see frameworkErrors). */
export function sendFacadeError(facade: Pick<Facade, 'sendError'>, request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = toAppError(err);
  if (e.status >= 500) request.log.error({ err: e.cause ?? e }, 'request failed');
  else request.log.info({ code: e.code }, e.message);
  return facade.sendError(request, reply, e);
}

const RANK: Readonly<Record<UserRole, number>> = { viewer: 0, operator: 1, admin: 2 };

/** FORBIDDEN unless the caller has at least role `need` (facade routes check it in their handler). */
export function requireRole(caller: Caller, need: UserRole): void {
  if (RANK[caller.role] < RANK[need]) throw new AppError('FORBIDDEN', `This needs the ${need} role; you are ${caller.role}.`);
}
