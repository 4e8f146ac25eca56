/**
 * Builds the native REST API (no listen): strict JSON in, schema-shaped JSON out, one error shape.
 * The engine is reached only through the services passed in (JobService, Identity, WebhookService).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TaskLogs } from '../engine/index.ts';
import { DEFAULTS, REDACT_PATHS, VERSION, type BinaryStore, type Config, type DocumentStore, type RuntimeCommands, type Engine, type Identity, type JobService, type LevelControl, type WebhookService } from '../engine/index.ts';
import { authPlugin } from './auth.ts';
import { clientErrorHandler, installErrorHandlers, sendError } from './errorResponses.ts';
import { httpTimeoutOptions, installHttpLimits, validateHttpLimits, type HttpLimitSettings } from './httpLimits.ts';
import { POISONING_ACTION, registerJsonBodyParser } from './jsonBody.ts';
import { registerOpenApi } from './openapi.ts';
import { errorResponses } from './schemas/common.ts';
import { authRoutes } from './routes/auth.ts';
import { eventRoutes } from './routes/events.ts';
import { jobRoutes } from './routes/jobs.ts';
import { overviewRoutes } from './routes/overview.ts';
import { dashboardRoutes } from './dashboard.ts';
import { taskLogRoutes } from './routes/taskLogs.ts';
import { healthRoutes, systemRoutes } from './routes/system.ts';
import { userRoutes } from './routes/users.ts';
import { virtualClusterRoutes } from './routes/virtualClusters.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { facadeScope, sendFacadeError, type Facade } from './compat/facade.ts';

/** Largest request body accepted (decoded), in bytes. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Where the native API lives; chosen to collide with no seed facade's paths. */
export const DEFAULT_PREFIX = '/native/v1';

/** A client-chosen request id in this header becomes the request's log id. */
export const REQUEST_ID_HEADER = 'x-request-id';

// The given logger's own redaction is replaced, not extended, by a child's, so repeat it here.
const API_REDACT_PATHS = [
  ...new Set([...REDACT_PATHS, 'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]']),
];

/** The settings the API layer reads (defaults: engine/config.ts DEFAULTS). */
export type ApiSettings = HttpLimitSettings &
  Pick<Config, 'metricsPublic' | 'rateLimitPerMinute' | 'loginRateLimitPerMinute' | 'loginRateLimitPerAddressPerMinute' | 'sseMaxPerUser' | 'sseMaxTotal'>;

/** Options of {@link buildServer}. */
export interface ServerOptions {
  service: JobService;
  /** Users, tokens and roles: every route but the probes, `/docs` and login needs a bearer token. */
  identity: Identity;
  /** Global webhooks, the callback secret and the delivery log (`engine.webhooks`). */
  webhooks: WebhookService;
  /** @defaultValue the engine defaults */
  settings?: Partial<ApiSettings>;
  /** Request logs go here (with credentials redacted); `false` for none. */
  logger: Logger | false;
  /** @defaultValue {@link DEFAULT_BODY_LIMIT_BYTES} */
  bodyLimitBytes?: number;
  /** Path prefix of the job and system routes (`/healthz` and `/readyz` stay at the root). @defaultValue {@link DEFAULT_PREFIX} */
  prefix?: string;
  /** Prometheus exposition for `GET /metrics`; the route exists only when given. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /** Task output (`engine.taskLogs`): `GET /jobs/:id/tasks/:taskId/logs` exists only when given. */
  taskLogs?: TaskLogs;
  /** Seed facades mounted under `/compat/<name>/` (docs/compat.md). @defaultValue none */
  facades?: readonly Facade[];
  /** This process's log level, for facade routes that change it live. */
  levels?: LevelControl;
  /** The facades' durable documents (engine.documents). */
  documents?: DocumentStore;
  /** Uploaded binaries and the script runtimes, for the Spark Jobserver facade (engine.binaries, engine.scriptRuntimes). */
  binaries?: BinaryStore;
  scriptRuntimes?: RuntimeCommands;
  /** The web dashboard's build (api/dashboard.ts: `DEFAULT_DASHBOARD_DIR`), served under `/ui/`; absent: no dashboard routes. */
  dashboardDir?: string;
}

type OptionalKeys = 'metrics' | 'settings' | 'levels' | 'documents' | 'binaries' | 'scriptRuntimes' | 'taskLogs' | 'dashboardDir';
type ResolvedServerOptions = Readonly<Required<Omit<ServerOptions, OptionalKeys>> & Pick<ServerOptions, Exclude<OptionalKeys, 'settings'>> & { settings: ApiSettings }>;

/** The engine-provided options of a server in front of a started engine (the caller adds `logger`). */
export function engineServerOptions(engine: Pick<Engine, 'service' | 'identity' | 'webhooks' | 'metrics' | 'documents' | 'binaries' | 'scriptRuntimes'> & { taskLogs?: TaskLogs }, settings: ApiSettings): Omit<ServerOptions, 'logger'> {
  return {
    service: engine.service, identity: engine.identity, webhooks: engine.webhooks, documents: engine.documents,
    binaries: engine.binaries, scriptRuntimes: engine.scriptRuntimes, settings, metrics: () => engine.metrics.render(),
    ...(engine.taskLogs ? { taskLogs: engine.taskLogs } : {}),
  };
}

/** Applies defaults and rejects options that would build a broken server. */
export function parseServerOptions(opts: ServerOptions): ResolvedServerOptions {
  const resolved = {
    service: opts.service,
    identity: opts.identity,
    webhooks: opts.webhooks,
    settings: {
      metricsPublic: opts.settings?.metricsPublic ?? DEFAULTS.metricsPublic,
      rateLimitPerMinute: opts.settings?.rateLimitPerMinute ?? DEFAULTS.rateLimitPerMinute,
      loginRateLimitPerMinute: opts.settings?.loginRateLimitPerMinute ?? DEFAULTS.loginRateLimitPerMinute,
      loginRateLimitPerAddressPerMinute: opts.settings?.loginRateLimitPerAddressPerMinute ?? DEFAULTS.loginRateLimitPerAddressPerMinute,
      sseMaxPerUser: opts.settings?.sseMaxPerUser ?? DEFAULTS.sseMaxPerUser,
      sseMaxTotal: opts.settings?.sseMaxTotal ?? DEFAULTS.sseMaxTotal,
      httpRequestTimeoutMs: opts.settings?.httpRequestTimeoutMs ?? DEFAULTS.httpRequestTimeoutMs,
      httpHeadersTimeoutMs: opts.settings?.httpHeadersTimeoutMs ?? DEFAULTS.httpHeadersTimeoutMs,
      httpKeepAliveTimeoutMs: opts.settings?.httpKeepAliveTimeoutMs ?? DEFAULTS.httpKeepAliveTimeoutMs,
      httpMaxConnectionsPerAddress: opts.settings?.httpMaxConnectionsPerAddress ?? DEFAULTS.httpMaxConnectionsPerAddress,
    },
    logger: opts.logger,
    bodyLimitBytes: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    prefix: opts.prefix ?? DEFAULT_PREFIX,
    facades: opts.facades ?? [],
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.taskLogs ? { taskLogs: opts.taskLogs } : {}),
    ...(opts.levels ? { levels: opts.levels } : {}),
    ...(opts.documents ? { documents: opts.documents } : {}),
    ...(opts.binaries ? { binaries: opts.binaries } : {}),
    ...(opts.scriptRuntimes ? { scriptRuntimes: opts.scriptRuntimes } : {}),
    ...(opts.dashboardDir !== undefined ? { dashboardDir: opts.dashboardDir } : {}),
  };
  if (!Number.isSafeInteger(resolved.bodyLimitBytes) || resolved.bodyLimitBytes < 1) {
    throw new TypeError(`bodyLimitBytes must be a positive integer, got ${resolved.bodyLimitBytes}`);
  }
  if (!/^(?:\/[A-Za-z0-9._~-]+)+$/.test(resolved.prefix)) {
    throw new TypeError(`prefix must look like /a/b (no trailing slash), got ${JSON.stringify(resolved.prefix)}`);
  }
  validateHttpLimits(resolved.settings);
  return Object.freeze(resolved);
}

/** Builds the Fastify instance with every route registered; the caller listens (or injects). */
export function buildServer(options: ServerOptions): FastifyInstance {
  const opts = parseServerOptions(options);
  // Typed as Fastify's base logger so the instance is a plain FastifyInstance, not one per pino type.
  const loggerInstance: FastifyBaseLogger | undefined =
    opts.logger === false ? undefined : opts.logger.child({}, { redact: { paths: API_REDACT_PATHS, censor: '[redacted]' } });
  const app = Fastify({
    ...(loggerInstance === undefined ? { logger: false } : { loggerInstance }),
    // Fastify's defaults coerce types, fill defaults and strip unknown fields; we reject instead.
    // allErrors stays false: collecting every error is a known DoS vector.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    onProtoPoisoning: POISONING_ACTION,
    onConstructorPoisoning: POISONING_ACTION,
    bodyLimit: opts.bodyLimitBytes,
    return503OnClosing: true,
    requestIdHeader: REQUEST_ID_HEADER,
    // The router answers bad URLs itself, in its own shape, unless handed this; under /compat/<name>/
    // in that facade's shape.
    frameworkErrors: (err, request, reply) => {
      const facade = opts.facades.find((f) => request.url.startsWith(`/compat/${f.name}/`));
      return facade ? sendFacadeError(facade, request, reply, err) : sendError(request, reply, err);
    },
    clientErrorHandler,
    ...httpTimeoutOptions(opts.settings),
    // Request logging is on by default; `disableRequestLogging` is deprecated in Fastify 5.12.
  });

  installErrorHandlers(app);
  // First hook: a request without Host is refused before authentication.
  installHttpLimits(app, opts.settings);
  registerJsonBodyParser(app);
  // Before every route: the document is built from the routes registered after it.
  registerOpenApi(app, { version: VERSION });
  const { service, identity, webhooks, settings, prefix } = opts;
  // Authentication and rate limits apply to every route registered after this.
  void app.register(authPlugin, {
    identity,
    metricsPublic: settings.metricsPublic,
    rateLimitPerMinute: settings.rateLimitPerMinute,
    loginRateLimitPerMinute: settings.loginRateLimitPerMinute,
    loginRateLimitPerAddressPerMinute: settings.loginRateLimitPerAddressPerMinute,
  });
  void app.register(authRoutes, { prefix, identity, service });
  void app.register(userRoutes, { prefix, identity, service });
  void app.register(virtualClusterRoutes, { prefix, identity, service });
  void app.register(jobRoutes, { prefix, service });
  if (opts.taskLogs) {
    void app.register(taskLogRoutes, { prefix, service, taskLogs: opts.taskLogs, maxFollowsPerUser: settings.sseMaxPerUser, maxFollowsTotal: settings.sseMaxTotal });
  }
  void app.register(eventRoutes, { prefix, service, sseMaxPerUser: settings.sseMaxPerUser, sseMaxTotal: settings.sseMaxTotal });
  void app.register(webhookRoutes, { prefix, webhooks });
  void app.register(systemRoutes, { prefix, service });
  void app.register(overviewRoutes, { prefix, service });
  if (opts.dashboardDir !== undefined) void app.register(dashboardRoutes, { dir: opts.dashboardDir });
  void app.register(healthRoutes, { service });
  for (const facade of opts.facades) {
    const deps = {
      service, identity,
      ...(opts.levels ? { levels: opts.levels } : {}),
      ...(opts.documents ? { documents: opts.documents } : {}),
      ...(opts.binaries ? { binaries: opts.binaries } : {}),
      ...(opts.scriptRuntimes ? { scriptRuntimes: opts.scriptRuntimes } : {}),
      ...(opts.taskLogs ? { taskLogs: opts.taskLogs } : {}),
    };
    void app.register(facadeScope(facade, deps, facade.listeners), { prefix: `/compat/${facade.name}` });
  }
  const metrics = opts.metrics;
  if (metrics) {
    const schema = {
      tags: ['system'],
      description: 'Prometheus metrics (text exposition format 0.0.4); names in docs/operations.md.',
      response: { 200: { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses },
    };
    // In a plugin, like the other routes, so the OpenAPI generator sees it.
    void app.register(async (r) => {
      // Scraped often: keep it out of the request log unless it fails.
      r.get('/metrics', { logLevel: 'warn', schema, config: { auth: settings.metricsPublic ? 'public' : 'admin' } }, async (_req, reply) => {
        const m = await metrics();
        return reply.type(m.contentType).send(m.text);
      });
    });
  }
  return app;
}
