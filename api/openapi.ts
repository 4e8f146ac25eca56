/**
 * OpenAPI 3 document generated from the route schemas (@fastify/swagger) and Swagger UI at
 * `/docs` (the JSON at `/docs/json`). Register before any route: the generator learns routes as
 * they are added.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';

/** Where Swagger UI is served; the document is at `${DOCS_PREFIX}/json` and `/yaml`. */
export const DOCS_PREFIX = '/docs';

/** Name of the bearer security scheme in `components.securitySchemes`. */
export const BEARER_SCHEME = 'bearerAuth';

/** Options of {@link registerOpenApi}. */
export interface OpenApiOptions {
  /** `info.version` of the document (the package version). */
  version: string;
}

type RouteAuth = 'public' | 'viewer' | 'operator' | 'admin';

/** The route's `config.auth`; a route that declares none needs any logged-in user. */
export function routeAuth(route: Pick<RouteOptions, 'config'>): RouteAuth {
  const auth = (route.config as { auth?: unknown } | undefined)?.auth;
  return auth === 'public' || auth === 'operator' || auth === 'admin' ? auth : 'viewer';
}

/** First path segment below the route's plugin prefix: `/native/v1/jobs/:id` → `jobs`. */
function defaultTag(url: string, prefix: string | undefined): string {
  const rest = prefix && url.startsWith(prefix) ? url.slice(prefix.length) : url;
  return rest.split('/').find((s) => s !== '' && !s.startsWith(':')) ?? 'system';
}

/**
 * Adds to each operation what the route schema cannot say: the bearer requirement (unless
 * `config.auth` is 'public'), the role it needs, and a tag. Never mutates the route's schema,
 * which Fastify also validates with.
 */
function documentRoute({ schema, url, route }: { schema: FastifySchema | undefined; url: string; route: RouteOptions }): {
  schema: FastifySchema;
  url: string;
} {
  const base = (schema ?? {}) as FastifySchema & { tags?: string[]; description?: string };
  const auth = routeAuth(route);
  const roleNote = auth === 'public' ? 'No token needed.' : auth === 'viewer' ? 'Needs a bearer token (any role).' : `Needs a bearer token of role ${auth} or above.`;
  return {
    schema: {
      ...base,
      tags: base.tags ?? [defaultTag(url, (route as { prefix?: string }).prefix)],
      description: base.description ? `${base.description}\n\n${roleNote}` : roleNote,
      security: auth === 'public' ? [] : [{ [BEARER_SCHEME]: [] }],
    } as FastifySchema,
    url,
  };
}

/**
 * Registers the OpenAPI generator and Swagger UI on `app`. Call before registering routes. The
 * docs routes themselves are public (`config.auth: 'public'`) and hidden from the document.
 */
export function registerOpenApi(app: FastifyInstance, opts: OpenApiOptions): void {
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'jetjobs native API',
        version: opts.version,
        description: 'Errors are `{ statusCode, code, error, message }` with a stable SCREAMING_SNAKE `code`.',
      },
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', description: 'A token from the login route, sent as `Authorization: Bearer <token>`.' },
        },
      },
    },
    transform: documentRoute,
  });
  void app.register(async (docs) => {
    // Reading the docs needs no token; the auth plugin reads config.auth on each route.
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), auth: 'public' } as typeof route.config;
    });
    await docs.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX, logLevel: 'warn' });
  });
}
