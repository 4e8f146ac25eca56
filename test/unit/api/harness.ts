/**
 * Shared pieces of the API tests: a server over the fake JobService, and assertions on the
 * error shape every failure must have.
 */
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { ErrorCode } from '../../../engine/errors.ts';
import { buildServer, type ServerOptions } from '../../../api/server.ts';
import { createFakeJobService, type FakeJobService } from '../../helpers/fakeJobService.ts';

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
  app: FastifyInstance;
  service: FakeJobService;
}

/** A server over a fresh fake; close it (`after(() => api.app.close())`). */
export function createApi(opts: Partial<Omit<ServerOptions, 'service'>> = {}): Api {
  const service = createFakeJobService();
  return { app: buildServer({ service, logger: false, ...opts }), service };
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
