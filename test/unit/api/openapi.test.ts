/**
 * The OpenAPI document at /docs/json lists every route the server has, with its path parameters,
 * a response for every operation, and the bearer requirement on every route that is not public.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { BEARER_SCHEME, DOCS_PREFIX, routeAuth } from '../../../api/openapi.ts';
import { createApi, servedRoutes } from './harness.ts';

interface Operation {
  parameters?: { name: string; in: string; required?: boolean }[];
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  tags?: string[];
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
}

/** Route as collected by onRoute. */
interface SeenRoute {
  method: string;
  url: string;
  auth: ReturnType<typeof routeAuth>;
  hidden: boolean;
}

/**
 * Collects every route added after this call (attach before the routes are registered). Read the
 * result after ready(): a plugin's own onRoute hooks (e.g. the docs' auth) run after this one.
 */
function collectRoutes(app: FastifyInstance): () => SeenRoute[] {
  const options: RouteOptions[] = [];
  app.addHook('onRoute', (route: RouteOptions) => void options.push(route));
  return () =>
    options.flatMap((route) =>
      (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({
        method,
        url: route.url,
        auth: routeAuth(route),
        hidden: (route.schema as { hide?: boolean } | undefined)?.hide === true,
      })),
    );
}

/** A path parameter: a `:name` segment (a colon inside a segment is literal: `/jobs:batch`, registered as `/jobs::batch`). */
const PARAM = /(?<=\/):([A-Za-z0-9_]+)/g;
/** `/jobs/:id/stop` → `/jobs/{id}/stop` (OpenAPI path templating). */
const toOpenApiPath = (url: string) => url.replace(PARAM, '{$1}').replaceAll('::', ':');
const pathParams = (url: string) => [...url.matchAll(PARAM)].map((m) => m[1]!);


/** The real server (buildServer over the fake service, with /metrics) and the routes it registered. */
async function buildApp(): Promise<{ app: FastifyInstance; routes: SeenRoute[] }> {
  const { app } = createApi({ metrics: async () => ({ contentType: 'text/plain; version=0.0.4', text: 'up 1\n' }) });
  // buildServer returns before its plugins load, so a root hook added now sees their routes;
  // routes it added directly on the root are not seen (their auth is checked by behaviour below).
  const routes = collectRoutes(app);
  await app.ready();
  return { app, routes: routes() };
}

describe('OpenAPI document', () => {
  let app: FastifyInstance;
  let routes: SeenRoute[];
  let doc: OpenApiDoc;
  before(async () => {
    ({ app, routes } = await buildApp());
    const res = await app.inject({ method: 'GET', url: `${DOCS_PREFIX}/json` });
    assert.equal(res.statusCode, 200, res.body);
    doc = res.json<OpenApiDoc>();
  });
  after(() => app.close());

  const isDocsAsset = (url: string) => url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`);
  /** Routes the document must list: every one the router serves but HEAD twins, the docs' own and these. */
  const documented = () =>
    servedRoutes(app).filter((r) => r.method !== 'HEAD' && !isDocsAsset(r.url));

  it('is OpenAPI 3 with a bearer scheme and a response on every operation', () => {
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(typeof doc.info.version, 'string');
    assert.equal(doc.components.securitySchemes[BEARER_SCHEME]?.type, 'http');
    assert.equal(doc.components.securitySchemes[BEARER_SCHEME]?.scheme, 'bearer');
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${path} has no responses`);
        assert.ok(op.tags && op.tags.length > 0, `${method} ${path} has no tag`);
      }
    }
  });

  it('documents every route with its path parameters', () => {
    const expected = documented();
    assert.ok(expected.length >= 5, `only ${expected.length} routes served`);
    for (const r of expected) {
      const op = doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.url} is missing from ${DOCS_PREFIX}/json`);
      for (const name of pathParams(r.url)) {
        const p: { required?: boolean } | undefined = op.parameters?.find((x) => x.in === 'path' && x.name === name);
        assert.ok(p, `${r.method} ${r.url}: path parameter ${name} undocumented`);
        assert.equal(p.required, true);
      }
    }
    // Nothing documented that the server does not serve.
    const served = new Set(expected.map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.url)}`));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) assert.ok(served.has(`${method} ${path}`), `${method} ${path} documented but not served`);
    }
  });

  it('requires the bearer token exactly where config.auth is not public', () => {
    const seen = routes.filter((r) => r.method !== 'HEAD' && !r.hidden && !isDocsAsset(r.url));
    assert.ok(seen.length >= 5, `only ${seen.length} routes collected`);
    for (const r of seen) {
      const op = doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.url} is missing`);
      if (r.auth === 'public') assert.deepEqual(op.security, [], `${r.method} ${r.url} is public`);
      else assert.deepEqual(op.security, [{ [BEARER_SCHEME]: [] }], `${r.method} ${r.url} needs a token`);
    }
  });

  it('says a token is needed exactly where the server answers 401 without one', async () => {
    // An empty Authorization header: no token (the harness adds the admin's only when the header is absent).
    const probe = (r: { method: string; url: string }) =>
      app.inject({ method: r.method as 'GET', url: r.url.replace(PARAM, '00000000-0000-4000-8000-0000000000ff'), headers: { authorization: '' } });
    for (const r of documented()) {
      const res = await probe(r);
      const unauthenticated = res.statusCode === 401 && res.json<{ code: string }>().code === 'UNAUTHENTICATED';
      const op = doc.paths[toOpenApiPath(r.url)]![r.method.toLowerCase()]!;
      assert.deepEqual(op.security, unauthenticated ? [{ [BEARER_SCHEME]: [] }] : [], `${r.method} ${r.url} answered ${res.statusCode} without a token`);
    }
  });

  it('documents /metrics as text and serves the exposition unchanged', async () => {
    const op = doc.paths['/metrics']?.get as { responses: Record<string, { content?: Record<string, unknown> }> } | undefined;
    assert.ok(op?.responses['200']?.content?.['text/plain'], JSON.stringify(op));
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'up 1\n');
    assert.match(String(res.headers['content-type']), /^text\/plain/);
  });

  it('serves Swagger UI at /docs without a token', async () => {
    const res = await app.inject({ method: 'GET', url: `${DOCS_PREFIX}/` });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /text\/html/);
    const json = await app.inject({ method: 'GET', url: `${DOCS_PREFIX}/json` });
    assert.equal(json.statusCode, 200);
  });
});
