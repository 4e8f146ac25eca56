/**
 * Generated requests across every route the server has (discovered from the app, never a fixed
 * list): bodies built from each route's own schema and then broken (wrong types, unknown fields,
 * out-of-range numbers, prototype-poisoning keys, control/bidi/NATS characters, malformed JSON,
 * wrong content types, oversize bodies), path parameters with traversal and subject characters,
 * random methods and paths, and missing/forged/malformed tokens or too low a role.
 * No request may produce a 5xx; every error has the one shape with a code from the table; a
 * request without a valid token on a non-public route is a 401, a too-low role a 403; the server
 * still answers afterwards. Seeded: FUZZ_SEED=<n> replays a run (the seed is printed).
 *
 * One suite, run against two servers: over the fake job service (test/unit/api/fuzz.test.ts, fast,
 * 10,000 requests) and over the real engine on a real nats-server (test/integration/api). The value
 * generators exported here also feed the facades' fuzzes (test/integration/compat/*Fuzz.test.ts), with
 * raw HTTP, the grouping of requests that share a resource and the native API's job list (at the end).
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest, STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, RouteOptions } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../../engine/errors.ts';
import type { Identity } from '../../engine/index.ts';
import type { JobView } from '../../engine/serviceTypes.ts';
import { JSON_HEADERS, PREFIX, VALID_SUBMIT, servedRoutes } from '../unit/api/harness.ts';
import { http, type TestService } from './service.ts';

/** The run's seed: FUZZ_SEED=<n> replays a run (every fuzz prints its seed). */
export const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);

export type Role = 'viewer' | 'operator' | 'admin';
type RouteAuth = 'public' | Role;
const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** A JSON Schema node, as far as the generator reads it. */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  maxItems?: number;
  oneOf?: Schema[];
  anyOf?: Schema[];
}

interface FuzzRoute {
  method: string;
  url: string;
  auth: RouteAuth | undefined;
  schema: { body?: Schema; querystring?: Schema; params?: Schema } | undefined;
}

// ---- values that break things -------------------------------------------------------------

const EVIL_STRINGS = [
  '', ' ', '..', '../..', '../../etc/passwd', '%2e%2e', '..%2f..%2f', '/etc/passwd', 'C:\\Windows',
  'a.b', '*', '>', 'a b', 'job.*.ev', 'job.>', '$JS.API.STREAM.DELETE.JOBS', '_INBOX.x',
  '\u0000', 'a\u0007b', 'line\r\nInjected: 1', '\t', '\u202eevil', 'x\u2066y\u2069', 'zero\u200bwidth', '\ufeffbom',
  'é', '😀', 'ｆｕｌｌ', '__proto__', 'constructor', 'prototype', 'null', 'true', '-1', '1e309', 'NaN',
  'file:///etc/passwd', 'http://user:pass@example.com/x', 'javascript:alert(1)', 'http://example.com/#frag',
  'x'.repeat(300), 'y'.repeat(5000),
];
const EVIL_NUMBERS = [-1, 0, 0.5, -0.5, 1.5, 1e308, -1e308, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e21, -2147483649, 4294967296];
const WRONG_TYPES: unknown[] = [null, true, false, [], {}, [1, 2], { a: 1 }, 'str', 1, 1.5];
/** Stands for a body above the default 1 MiB limit (expanded when sent, so a counterexample prints short). */
const OVERSIZE = '<oversize body>';
export const OVERSIZE_BODY = JSON.stringify({ name: 'z'.repeat(1024 * 1024 + 10) });

/** A string that breaks things: traversal, subject wildcards, control/bidi characters, poisoning names, long ones. */
export const evilString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EVIL_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);
/** A value of a type (or range) a field does not expect. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(evilString, fc.constantFrom(...EVIL_NUMBERS), fc.constantFrom(...WRONG_TYPES), fc.jsonValue({ maxDepth: 2 }));

/** Values the fake accepts for fields of these names, so commands get past the engine's checks too. */
const HINTS: Readonly<Record<string, readonly unknown[]>> = {
  type: ['sleep', 'noop'],
  virtualCluster: ['default'],
  callbackUrl: ['https://example.com/hook'],
  url: ['https://example.com/hook'],
  role: ['viewer', 'operator', 'admin'],
  password: ['correct horse battery staple'],
};

/** Values a schema node accepts (mostly), so requests get past validation often enough. */
function fromSchema(s: Schema | undefined, depth = 0, name?: string): fc.Arbitrary<unknown> {
  const hint = name === undefined ? undefined : HINTS[name];
  if (hint && s?.type !== 'object') return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...hint) }, { weight: 1, arbitrary: fromSchema(s, depth) });
  if (!s || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alts = s.oneOf ?? s.anyOf;
  if (alts && alts.length > 0) return fc.oneof(...alts.map((a) => fromSchema(a, depth + 1)));
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'string': {
      if (s.pattern) {
        try {
          const max = s.maxLength;
          const re = fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length >= (s.minLength ?? 0) && (max === undefined || x.length <= max));
          return fc.oneof({ weight: 4, arbitrary: re }, { weight: 1, arbitrary: evilString });
        } catch {
          return evilString;
        }
      }
      return fc.oneof(fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 30, 30) }), fc.constantFrom('alice', 'default', 'daily copy', 'https://example.com/hook'));
    }
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1000, -1e6), max: Math.min(s.maximum ?? 1000, 1e6) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(s.items, depth + 1), { maxLength: Math.min(s.maxItems ?? 3, 3) });
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      if (props.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      const required = new Set(s.required ?? []);
      return fc.record(Object.fromEntries(props.map(([k, v]) => [k, fromSchema(v, depth + 1, k)])), {
        requiredKeys: props.map(([k]) => k).filter((k) => required.has(k) || k === 'type' || k === 'spec'),
      });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A valid-looking object with one thing broken (or nothing, now and then). */
function brokenObject(schema: Schema | undefined): fc.Arbitrary<Record<string, unknown>> {
  const base = fromSchema(schema ?? { type: 'object' }).map((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}));
  const keys = Object.keys(schema?.properties ?? {});
  const key = keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 10 })) : fc.string({ maxLength: 10 });
  return fc.oneof(
    { weight: 3, arbitrary: base },
    { weight: 3, arbitrary: fc.tuple(base, key, wrongValue).map(([o, k, v]) => ({ ...o, [k]: v })) },
    { weight: 1, arbitrary: fc.tuple(base, fc.constantFrom(...keys, 'x')).map(([o, k]) => Object.fromEntries(Object.entries(o).filter(([x]) => x !== k))) },
    { weight: 1, arbitrary: fc.tuple(base, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })).map(([o, k, v]) => ({ ...o, [`unknown_${k}`]: v })) },
  );
}

/** Raw JSON text with a poisoning key spliced in (JSON.stringify would drop `__proto__`). */
const poisoned = (json: string, kind: number): string => {
  const inject = ['"__proto__":{"isAdmin":true}', '"constructor":{"prototype":{"isAdmin":true}}', '"spec":{"__proto__":{"x":1}}'][kind]!;
  return json.startsWith('{') && json !== '{}' ? `{${inject},${json.slice(1)}` : `{${inject}}`;
};

export const MALFORMED_JSON = ['{', '{"a":}', '{"a":1,}', "{'a':1}", 'nul', '[1,2', '"unterminated', '{"a":1}{"b":2}', '\u0000', '{"a":NaN}', '{"a":Infinity}', '1e99999'];

function bodyFor(schema: Schema | undefined): fc.Arbitrary<string | undefined> {
  const good = brokenObject(schema).map((o) => JSON.stringify(o));
  return fc.oneof(
    { weight: 12, arbitrary: good },
    { weight: 2, arbitrary: fc.tuple(good, fc.integer({ min: 0, max: 2 })).map(([j, k]) => poisoned(j, k)) },
    { weight: 2, arbitrary: fc.constantFrom(...MALFORMED_JSON) },
    { weight: 2, arbitrary: wrongValue.map((v) => JSON.stringify(v) ?? 'undefined') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constant(OVERSIZE) },
  );
}

/** Mostly `application/json`, sometimes a variant, another media type, empty or none. */
export const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1') },
  { weight: 3, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'text/event-stream', '*/*', 'application/jsonx', '') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Querystring from the route's schema, with broken values and unknown keys. */
function queryFor(schema: Schema | undefined): fc.Arbitrary<string> {
  const keys = [...Object.keys(schema?.properties ?? {}), 'limit', 'cursor', 'after', '__proto__[x]', 'constructor[prototype][x]'];
  const value = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('1', '10', '1000', '0', '-1', '1.5', '1e9', '99999999999999999999', 'abc', '', 'WAITING', 'RUNNING,PAUSED', 'sleep', 'true') },
    { weight: 2, arbitrary: evilString },
    { weight: 1, arbitrary: fc.integer().map(String) },
  );
  return fc
    .array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), value), { maxLength: 4 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`));
}

/** A path parameter: a real id or name, or something that must be refused. */
function paramValue(known: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 3, arbitrary: evilString.map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2E%2E%2F', '..%2f..%2fetc%2fpasswd', '%2F', '%00', '%E2%80%AE', '%ZZ', 'a%2eb', '*', '%3E', 'a%20b', '%C0%AE') },
  );
}

// ---- routes and auth ----------------------------------------------------------------------

function routeAuthOf(route: RouteOptions): RouteAuth {
  const auth = (route.config as { auth?: unknown } | undefined)?.auth;
  return auth === 'public' || auth === 'operator' || auth === 'admin' ? auth : 'viewer';
}

type AuthMode = 'default' | 'none' | 'empty' | 'forged' | 'malformed' | 'expired' | Role;

/** The server a fuzz run is aimed at. */
export interface FuzzTarget {
  /** Built, not yet ready (the fuzz collects its routes as they are added). */
  app: FastifyInstance;
  /** When given: an admin is created and given a token that expires, to send expired tokens. */
  identity?: Partial<Identity>;
  /**
   * What a request in the 'default' auth mode carries when the server adds nothing itself: a
   * credential no generated request can revoke (a logout would turn later answers into 401s).
   */
  adminHeaders?: Record<string, string>;
  /** Headers that authenticate a user of `role` (created as needed). */
  asUser?: (name: string, role: Role) => Record<string, string> | Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** What a request carries, and what the server should make of it. */
interface Generated {
  request: InjectOptions;
  /** `METHOD url` of the route the request was built from (its path may still not match it). */
  route?: string;
  auth: AuthMode;
}

// ---- the response --------------------------------------------------------------------------

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  /** null for an event stream (ended by the test once its headers arrived). */
  body: string | null;
}

/** Injects; an event stream is cut once its headers are in (it would never end by itself). */
async function send(app: FastifyInstance, request: InjectOptions): Promise<Answer> {
  const res = await app.inject({ ...request, ...(request.payload === OVERSIZE ? { payload: OVERSIZE_BODY } : {}), payloadAsStream: true });
  const stream = res.stream();
  if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    (res.raw.res as { destroy(): void }).destroy();
    stream.destroy();
    return { statusCode: res.statusCode, headers: res.headers, body: null };
  }
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return { statusCode: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() };
}

function assertErrorShape(req: InjectOptions, a: Answer): string {
  const where = `${req.method} ${String(req.url).slice(0, 200)} → ${a.statusCode}`;
  assert.match(String(a.headers['content-type']), /^application\/json/, where);
  const body = JSON.parse(a.body ?? '') as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], `${where} ${a.body}`);
  assert.equal(body['statusCode'], a.statusCode, where);
  assert.equal(body['error'], STATUS_CODES[a.statusCode], where);
  assert.equal(typeof body['message'], 'string', where);
  const code = String(body['code']);
  assert.ok(Object.hasOwn(ERROR_CODES, code), `${where}: code ${code} is not in ERROR_CODES`);
  assert.equal(ERROR_CODES[code as ErrorCode].status, a.statusCode, `${where}: ${code} has another status in the table`);
  return code;
}

/** Registers the fuzz suite: `runs` generated requests against the server `setup` builds. */
export function describeRouteFuzz(title: string, opts: { runs: number; setup: () => Promise<FuzzTarget> }): void {
  const RUNS = Number(process.env['FUZZ_RUNS'] ?? opts.runs);
describe(title, () => {
  let app: FastifyInstance;
  let target: FuzzTarget;
  let routes: FuzzRoute[];
  let known: string[];
  /** Whether the server checks tokens at all (not until the auth plugin is wired). */
  let enforced = false;
  /** Whether a request without an Authorization header reaches the server without one. */
  let omittedIsAnonymous = false;
  /** A token that was valid and has expired, when the harness exposes the identity. */
  let expiredHeader: Record<string, string> | undefined;
  /** Role headers from the harness, when it has `asUser`. */
  const roleHeaders: Partial<Record<Role, Record<string, string>>> = {};

  before(async () => {
    target = await opts.setup();
    app = target.app;
    const options: RouteOptions[] = [];
    // buildServer returns before its plugins load: this root hook sees their routes. Their config
    // is read after ready(): a plugin's own onRoute hook (e.g. the docs' auth) runs after this one.
    app.addHook('onRoute', (r) => void options.push(r));
    await app.ready();
    const collected = options.flatMap((r) =>
      (Array.isArray(r.method) ? r.method : [r.method]).map((method): FuzzRoute => ({ method, url: r.url, auth: routeAuthOf(r), schema: r.schema as FuzzRoute['schema'] })),
    );
    // Routes added on the root during buildServer itself: known path, unknown auth and schema.
    routes = servedRoutes(app).map((s) => collected.find((c) => c.method === s.method && c.url === s.url) ?? { ...s, auth: undefined, schema: undefined });
    // Swagger UI's static assets are one wildcard; the fuzz needs no more than one of them.
    routes = routes.filter((r) => !r.url.includes('*') || r.url.endsWith('/static/*'));

    if (target.asUser) {
      for (const role of ['viewer', 'operator', 'admin'] as const) roleHeaders[role] = await target.asUser(`fuzz-${role}`, role);
    }
    // An expired token of a real admin: a 1 ms login, once the identity itself refuses it.
    const identity = target.identity;
    if (identity?.createUser && identity.login && identity.authenticate) {
      await identity.createUser({ name: 'fuzz-expired', password: 'fuzz-expired-password-long', role: 'admin', virtualClusters: [] });
      const { token } = await identity.login('fuzz-expired', 'fuzz-expired-password-long', 1);
      const deadline = Date.now() + 2000;
      for (;;) {
        try {
          identity.authenticate(`Bearer ${token}`);
        } catch {
          expiredHeader = { authorization: `Bearer ${token}` };
          break;
        }
        assert.ok(Date.now() < deadline, 'a 1 ms token did not expire within 2 s');
        await new Promise((r) => setImmediate(r));
      }
    }
    const probe = await app.inject({ method: 'GET', url: `${PREFIX}/jobs`, headers: { authorization: 'Bearer forged-token-that-no-one-issued' } });
    enforced = probe.statusCode === 401;
    // The harness may add the admin token to requests that carry none ('' then means "none").
    omittedIsAnonymous = (await app.inject({ method: 'GET', url: `${PREFIX}/jobs` })).statusCode === 401;
    // Not the fuzz users' names: deleting one or changing its password would revoke its token.
    known = ['admin', 'default', 'alice', 'bob'];
    for (const body of [VALID_SUBMIT, { type: 'noop', spec: {} }]) {
      const res = await app.inject({ method: 'POST', url: `${PREFIX}/jobs`, payload: JSON.stringify(body), headers: { ...JSON_HEADERS, ...(roleHeaders.admin ?? {}) } });
      if (res.statusCode === 201) known.push(res.json<{ id: string }>().id);
    }
  });
  after(() => target?.close());

  it(`${RUNS} generated requests over every route: no 5xx, one error shape, 401/403 where due`, async (t) => {
    t.diagnostic(
      `seed ${SEED} (replay with FUZZ_SEED=${SEED}); ${routes.length} routes; auth enforced: ${enforced}; ` +
        `no header = anonymous: ${omittedIsAnonymous}; role tokens: ${Object.keys(roleHeaders).join(',') || 'none'}; expired token: ${expiredHeader !== undefined}`,
    );
    assert.ok(routes.length >= 10, `only ${routes.length} routes discovered`);

    const byKey = new Map(routes.map((r) => [`${r.method} ${r.url}`, r]));
    const roles = Object.keys(roleHeaders) as Role[];
    const authMode: fc.Arbitrary<AuthMode> = fc.oneof(
      { weight: 10, arbitrary: fc.constant<AuthMode>('default') },
      { weight: 2, arbitrary: fc.constantFrom<AuthMode>('none', 'empty', 'forged', 'malformed', ...(expiredHeader ? (['expired'] as const) : [])) },
      ...(roles.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom<AuthMode>(...roles) }] : []),
    );
    const authHeaders = (mode: AuthMode): fc.Arbitrary<Record<string, string>> => {
      switch (mode) {
        case 'default':
          // The harness' own admin token (a static one no request can revoke) when it adds one.
          return fc.constant(omittedIsAnonymous ? (target.adminHeaders ?? roleHeaders.admin ?? {}) : {});
        case 'none':
          return fc.constant({});
        case 'empty':
          return fc.constant({ authorization: '' });
        case 'forged':
          return fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{10,60}$/), fc.constantFrom('jj_0000000000000000000000000000', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.')).map((tok) => ({ authorization: `Bearer ${tok}` }));
        case 'expired':
          return fc.constant(expiredHeader ?? {});
        case 'malformed':
          return fc.constantFrom('Bearer', 'Bearer ', 'bearer', 'Basic YWRtaW46YWRtaW4=', 'Token abc', 'Bearer a b', 'Bearer \u00e9', 'Bearer ' + 'x'.repeat(5000)).map((v) => ({ authorization: v }));
        default:
          return fc.constant(roleHeaders[mode] ?? {});
      }
    };

    const onRoute = fc
      .tuple(fc.constantFrom(...routes), authMode)
      // A role token that logs itself out would turn every later 403 into a 401.
      .map(([route, auth]): [FuzzRoute, AuthMode] => [route, auth in RANK && route.url.endsWith('/logout') ? 'default' : auth])
      .chain(([route, auth]) => {
        const names = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
        const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
        return fc
          .record({
            params: fc.tuple(...names.map(() => paramValue(known))),
            wildcard: paramValue(['index.html', 'swagger-ui.css']),
            query: fc.option(queryFor(route.schema?.querystring), { nil: '', freq: 2 }),
            payload: hasBody ? bodyFor(route.schema?.body) : fc.option(bodyFor(undefined), { nil: undefined, freq: 8 }),
            ct: contentType,
            key: fc.option(fc.oneof(fc.constantFrom('k1', 'k2'), evilString.filter((s) => /^[\x20-\x7e]*$/.test(s))), { nil: undefined, freq: 3 }),
            lastEventId: fc.option(fc.constantFrom('0', '5', '-1', 'abc', '1e3', '99999999999999999999'), { nil: undefined, freq: 6 }),
            auth: authHeaders(auth),
          })
          .map(({ params, wildcard, query, payload, ct, key, lastEventId, auth: headers }): Generated => {
            let i = 0;
            const path = route.url.replace(/:([A-Za-z0-9_]+)/g, () => params[i++]!).replace('*', wildcard);
            return {
              route: `${route.method} ${route.url}`,
              auth,
              request: {
                method: route.method as InjectOptions['method'],
                url: path + query,
                ...(payload === undefined ? {} : { payload }),
                headers: {
                  ...headers,
                  ...(ct === undefined ? {} : { 'content-type': ct }),
                  ...(key === undefined ? {} : { 'idempotency-key': key }),
                  ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
                },
              },
            };
          });
      });

    const TRAVERSAL = [
      `${PREFIX}/../healthz`, `${PREFIX}/jobs/../../etc/passwd`, `${PREFIX}/%2e%2e/%2e%2e/etc/passwd`, `/%2e%2e${PREFIX}/jobs`,
      `${PREFIX}/jobs/..%2f..%2fhealthz`, `//native//v1//jobs`, `${PREFIX}/jobs/%2F`, `${PREFIX}/jobs/%`, `${PREFIX}/jobs/%E2%80%AE`,
      `${PREFIX}/JOBS`, `${PREFIX}/jobs/`, `${PREFIX}/jobs?limit=1&limit=2`, `${PREFIX}/jobs?__proto__[admin]=1`, `/docs/../metrics`,
      `${PREFIX}/users/..%2Fadmin`, `${PREFIX}/users/a.b`, `${PREFIX}/virtual-clusters/*`, `${PREFIX}/virtual-clusters/%3E`, `\\..\\..\\windows`,
    ];
    const stray = fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
        path: fc.oneof(fc.constantFrom(...TRAVERSAL), fc.webPath().map((p) => `${PREFIX}${p}`), fc.constantFrom(...routes.map((r) => r.url.replace(/:[A-Za-z0-9_]+/g, 'x')))),
        payload: bodyFor(undefined),
        auth: authMode.chain(authHeaders),
      })
      // As on the routes: a role token must not log itself out (found with FUZZ_SEED=1125869812, a
      // stray POST to the logout URL revoked the operator's token and later 403s became 401s).
      .filter(({ path, auth }) => !(path.includes('/auth/logout') && Object.values(roleHeaders).some((h) => h.authorization !== undefined && h.authorization === auth['authorization'])))
      .map(({ method, path, payload, auth }): Generated => ({
        auth: 'default',
        request: { method: method as InjectOptions['method'], url: path, ...(payload === undefined ? {} : { payload }), headers: { ...auth, 'content-type': 'application/json' } },
      }));

    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: onRoute }, { weight: 1, arbitrary: stray }), async (g) => {
          const a = await send(app, g.request);
          count(String(a.statusCode));
          const where = `${String(g.request.method)} ${String(g.request.url).slice(0, 200)}`;
          assert.ok(a.statusCode < 500, `${where} → ${a.statusCode} ${a.body?.slice(0, 300)}`);
          if (a.statusCode >= 400 && g.request.method !== 'HEAD') count(assertErrorShape(g.request, a));
          else if (a.body !== null && g.request.method !== 'HEAD' && a.statusCode !== 204 && /json/.test(String(a.headers['content-type']))) JSON.parse(a.body);
          const route = g.route === undefined ? undefined : byKey.get(g.route);
          if (!enforced || !route || route.auth === undefined || route.auth === 'public' || a.statusCode === 404) return;
          // The request's path matched its route: the auth rules must hold.
          // inject resolves `..` segments as a URL parser does; the router sees the result.
          let path: string;
          try {
            path = new URL(String(g.request.url), 'http://localhost').pathname;
          } catch {
            return;
          }
          const matched = app.findRoute({ method: route.method as 'GET', url: path });
          const own = app.findRoute({ method: route.method as 'GET', url: route.url });
          if (!matched || matched.handler !== own?.handler) return;
          const authz = (g.request.headers as Record<string, string>)['authorization'];
          const tokenless =
            g.auth === 'empty' || g.auth === 'forged' || g.auth === 'malformed' || g.auth === 'expired' || (authz === undefined && omittedIsAnonymous && (g.auth === 'none' || g.auth === 'default'));
          if (tokenless) {
            assert.equal(a.statusCode, 401, `${where} without a valid token → ${a.statusCode} ${a.body}`);
            if (g.request.method !== 'HEAD') assert.equal(JSON.parse(a.body ?? '{}').code, 'UNAUTHENTICATED', where);
          } else if (authz !== undefined && g.auth in RANK && RANK[g.auth as Role] < RANK[route.auth]) {
            assert.equal(a.statusCode, 403, `${where} as ${g.auth} on an ${route.auth} route → ${a.statusCode} ${a.body}`);
            if (g.request.method !== 'HEAD') assert.equal(JSON.parse(a.body ?? '{}').code, 'FORBIDDEN', where);
          }
        }),
        { numRuns: RUNS, seed: SEED },
      );
    } finally {
      t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
    }

    // The generator must reach both sides, or the property proves little.
    const n = (k: string) => seen.get(k) ?? 0;
    const scale = RUNS / 10_000;
    assert.ok(n('200') + n('201') > 500 * scale, 'too few successful requests');
    assert.ok(n('400') > 1000 * scale, 'too few 400s');
    assert.ok(n('404') > 100 * scale, 'too few 404s');
    for (const code of ['INVALID_JSON', 'VALIDATION_FAILED', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'NOT_FOUND']) assert.ok(n(code) > 0, `never saw ${code}`);
    if (enforced) assert.ok(n('UNAUTHENTICATED') > 100 * scale, 'too few 401s');
    if (enforced && roles.length > 0) assert.ok(n('FORBIDDEN') > 10 * scale, 'too few 403s');

    // Still standing.
    const health = await app.inject({ method: 'GET', url: '/healthz', headers: roleHeaders.admin ?? {} });
    assert.equal(health.statusCode, 200);
  });
});
}

// ---- raw HTTP for the facade fuzzes (test/integration/compat/*Fuzz.test.ts) ----------------------

/** A request as a fuzz sends it over the wire. */
export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  /** Text is sent as UTF-8; a Buffer as it is (invalid UTF-8, binary uploads). */
  body?: string | Buffer;
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Node's client sends bytes 0x21-0xff of a path as they are and refuses the rest: those are
 * percent-encoded here (so `..`, `%ZZ` and latin1 bytes reach the server raw).
 */
export function wirePath(path: string, method = 'GET'): string {
  // a HEAD answer cannot carry the body of the parser's 400 (Node's client would not parse it)
  return path.replace(method === 'HEAD' ? /[^\u0021-\u007e]/gu : /[^\u0021-\u00ff]/gu, (c) => encodeURIComponent(/^[\ud800-\udfff]$/.test(c) ? '\ufffd' : c));
}

/** Sends `r` to `path` of `origin`; an answer not begun within `hungMs` is an error (a hung request). */
export function sendRaw(agent: Agent, origin: URL, r: RawRequest, path: string, hungMs: number): Promise<RawAnswer> {
  // framed by its length: Node's client would send a GET's body unframed (no chunking for GET)
  const headers = r.body === undefined ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: origin.hostname, port: origin.port, method: r.method, path: wirePath(path, r.method), headers, agent, timeout: hungMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${hungMs} ms (hung)`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** About the size of the request line and headers. */
export const headBytes = (r: Pick<RawRequest, 'headers'>, path: string) => path.length + Object.entries(r.headers).reduce((sum, [k, v]) => sum + k.length + v.length + 4, 0);

/** Methods a facade fuzz tries on every path. */
export const FUZZ_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

/** Headers a client may add; a facade with auth none must ignore the credentials (`basic`: a Basic value to send too). */
export function fuzzExtraHeaders(basic: string) {
  return fc.record(
    {
      authorization: fc.constantFrom(`Basic ${basic}`, 'Bearer forged', 'Bearer', '', 'x'.repeat(2000)),
      accept: fc.constantFrom('application/json', 'text/html', '*/*', ''),
      'content-encoding': fc.constantFrom('gzip', 'identity', 'br'),
      'x-forwarded-for': fc.constantFrom('10.0.0.1', '::1', 'junk'),
    },
    { requiredKeys: [] },
  );
}

// ---- order and checks of the facade fuzzes ------------------------------------------------------

/**
 * Union of items that share a key, each group in the items' order: a facade fuzz runs the
 * requests of one group one after another (so its model stays exact) and the groups side by side.
 */
export function groupByKeys<T extends { keys: readonly string[] }>(items: readonly T[]): T[][] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const owner = new Map<string, number>();
  items.forEach((it, i) => {
    for (const k of it.keys) {
      const o = owner.get(k);
      if (o === undefined) owner.set(k, i);
      else parent[find(i)] = find(o);
    }
  });
  const out = new Map<number, T[]>();
  items.forEach((it, i) => out.set(find(i), [...(out.get(find(i)) ?? []), it]));
  return [...out.values()];
}

/**
 * Every job the admin sees through the native API's pages of 1000: `query` is the list's filters
 * (`active=all&type=exec`), the limit and cursor are added after them.
 */
export async function allNativeJobs<T = JobView>(svc: TestService, query: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null | undefined;
  do {
    const r = await http<{ jobs: T[]; nextCursor?: string | null }>(svc.baseUrl, 'GET', `/native/v1/jobs?${query}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(...r.body.jobs);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out;
}

// ---- who wrote a job: the requests around it ------------------------------------------------------

/** A request a facade fuzz sent that may have written jobs, with its answer and when (Date.now()). */
export interface JournalEntry {
  /** The request as the fuzz describes it (method, mount, path, headers, body, cut short). */
  request: string;
  status: number;
  /** The answer's body, cut short. */
  answer: string;
  sentAt: number;
  answeredAt: number;
  /** What the request names that its jobs would carry too (e.g. their paths), to match it to a job. */
  keys: readonly string[];
}

/** Journal entries an oracle may print: at most this many per job. */
const SUSPECTS_SHOWN = 8;

/**
 * The requests a facade fuzz sent that could have written jobs, with their answers: when an oracle
 * finds a job that no successful request made, `suspects` says which requests could have made it and
 * what they were answered, so the failure says what happened rather than only that it did.
 */
export function createRequestJournal() {
  const entries: JournalEntry[] = [];
  /** In flight at `atMs` (a job's `submittedAt` falls between its request's sending and its answer). */
  const during = (e: JournalEntry, atMs: number, slackMs: number) => e.sentAt - slackMs <= atMs && atMs <= e.answeredAt + slackMs;
  return {
    add(e: JournalEntry): void {
      entries.push(e);
    },
    /**
     * The requests naming one of `keys` that were in flight when the job was submitted (`atMs`);
     * failing that, those naming one of `keys` at any time; failing that, any request in flight then.
     * At most a few, with their times as ISO strings.
     */
    suspects(keys: readonly string[], atMs: number, slackMs = 50) {
      const named = entries.filter((e) => e.keys.some((k) => keys.includes(k)));
      const inFlight = named.filter((e) => during(e, atMs, slackMs));
      const found = inFlight.length > 0 ? inFlight : named.length > 0 ? named : entries.filter((e) => during(e, atMs, slackMs));
      const how = inFlight.length > 0 ? 'naming it, in flight then' : named.length > 0 ? 'naming it, not in flight then' : 'in flight then, naming something else';
      return {
        how,
        count: found.length,
        requests: found.slice(0, SUSPECTS_SHOWN).map(({ keys: _keys, sentAt, answeredAt, ...e }) => ({ ...e, sentAt: new Date(sentAt).toISOString(), answeredAt: new Date(answeredAt).toISOString() })),
      };
    },
  };
}
