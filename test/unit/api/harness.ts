/**
 * Shared pieces of the API tests: a server over the fake JobService, and assertions on the
 * error shape every failure must have.
 */
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { ErrorCode } from '../../../engine/errors.ts';
import { buildServer, type ServerOptions } from '../../../api/server.ts';
import { createIdentity, createMemoryControlStore, createWebhookService, silentLogger, type ControlStore, type Identity, type UserRole, type WebhookService } from '../../../engine/index.ts';
import { systemClock } from '../../../engine/clock.ts';
import { createFakeJobService, type FakeJobService } from '../../helpers/fakeJobService.ts';
import { TEST_ADMIN_TOKEN, withAuth } from '../../helpers/auth.ts';

/** The default API prefix. */
export const PREFIX = '/native/v1';
/** Headers of a JSON request. */
export const JSON_HEADERS = { 'content-type': 'application/json' } as const;
/** A well-formed id no job has. */
export const UNKNOWN_ID = '00000000-0000-4000-8000-0000000000ff';
/** A body the fake accepts. */
export const VALID_SUBMIT = { type: 'sleep', name: 'nightly copy', spec: { ms: 10 } } as const;

/** A server and the fake behind it. */
export interface Api {
  /** Requests made with `app.inject` carry the admin token unless they set `authorization` ('' = none). */
  app: FastifyInstance;
  service: FakeJobService;
  identity: Identity;
  controlStore: ControlStore;
  /** The engine's webhook service over `controlStore` and the fake. */
  webhooks: WebhookService;
}

/** Cheap scrypt for tests: the cost is a production setting, not behaviour under test here. */
const TEST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

/** A server over a fresh fake and an in-memory identity whose static admin token the harness sends; close it (`after(() => api.app.close())`). */
export function createApi(opts: Partial<Omit<ServerOptions, 'service'>> & { controlStore?: ControlStore } = {}): Api {
  const service = createFakeJobService();
  const controlStore = opts.controlStore ?? createMemoryControlStore();
  const real =
    opts.identity ??
    createIdentity({
      store: controlStore,
      config: { tokenTtlMs: 3600_000, tokenMaxTtlMs: 24 * 3600_000, adminToken: TEST_ADMIN_TOKEN, adminPassword: null },
      clock: systemClock,
      logger: silentLogger,
      scryptParams: TEST_SCRYPT,
    });
  // `asUser` tokens name their caller directly: these tests are about routes over a fake service, not about identity.
  const identity: Identity = {
    ...real,
    authenticate(header) {
      const m = /^Bearer test-as\.([a-z][a-z0-9_-]{0,31})\.(admin|operator|viewer)$/.exec(header ?? '');
      return m ? { user: m[1]!, role: m[2] as UserRole, virtualClusters: ['default'] } : real.authenticate(header);
    },
  };
  const webhooks = opts.webhooks ?? createWebhookService({ store: controlStore, jobs: service, config: { callbackSecret: null, webhookAllowPrivate: false }, clock: systemClock });
  const { controlStore: _store, ...serverOpts } = opts;
  const app = buildServer({ service, logger: false, ...serverOpts, identity, webhooks });
  const inject = app.inject.bind(app) as (o: Record<string, unknown>) => ReturnType<FastifyInstance['inject']>;
  // Tests that are not about authentication act as the admin.
  (app as { inject: unknown }).inject = (o: Record<string, unknown>) => inject({ ...o, headers: withAuth((o['headers'] as Record<string, string> | undefined) ?? {}) });
  return { app, service, identity, controlStore, webhooks };
}

/** Headers that make the harness server see `name` with `role` (only servers built by createApi accept them). */
export function asUser(name: string, role: UserRole): { authorization: string } {
  return { authorization: `Bearer test-as.${name}.${role}` };
}

let userSeq = 0;

/** Creates a real user with `role` (and optional VC grants) and returns headers carrying a fresh login token for it. */
export async function loginAs(api: Api, name: string, role: UserRole, virtualClusters: string[] = []): Promise<{ authorization: string }> {
  const password = `pw-${name}-${++userSeq}-long-enough`;
  await api.identity.createUser({ name, password, role, virtualClusters });
  const { token } = await api.identity.login(name, password);
  return { authorization: `Bearer ${token}` };
}

/** POSTs `body` (an object is sent as JSON; a string as is) with JSON content type unless overridden. */
export function post(app: FastifyInstance, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  return app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload }), headers: { ...JSON_HEADERS, ...headers } });
}

/** Submits a valid job and returns its id. */
export async function submitJob(app: FastifyInstance, body: object = VALID_SUBMIT): Promise<string> {
  const res = await post(app, `${PREFIX}/jobs`, body);
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { id: string }).id;
}

/** The response is exactly `{ statusCode, code, error, message }` with the given status and code. */
export function assertError(res: LightMyRequestResponse, status: number, code: ErrorCode, message?: string | RegExp): void {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode']);
  assert.equal(body['statusCode'], status);
  assert.equal(body['code'], code);
  assert.equal(body['error'], STATUS_CODES[status]);
  assert.equal(typeof body['message'], 'string');
  if (typeof message === 'string') assert.ok(String(body['message']).includes(message), `message ${String(body['message'])} lacks ${message}`);
  else if (message !== undefined) assert.match(String(body['message']), message);
}

/** Every method and full path the router serves, read from `printRoutes`' tree. */
export function servedRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const url = (depth === 0 ? '' : parents[depth - 1]!) + m[2]!;
    parents[depth] = url;
    parents.length = depth + 1;
    for (const method of m[3]?.split(', ') ?? []) out.push({ method, url });
  }
  return out;
}
