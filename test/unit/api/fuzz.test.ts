/**
 * Generated requests across every route: arbitrary JSON bodies, strings, content types, headers,
 * ids and querystrings. With a well-behaved service no request may produce a 5xx, and every
 * error has the one shape. (The research plan asks for 100k cases; 1,000 keep `npm test` quick.)
 */
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { createApi, PREFIX, submitJob, type Api } from './harness.ts';

const RUNS = 1000;

/** Header values Node's HTTP parser would let through (no control chars). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 });
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((h) => !['content-length', 'transfer-encoding', 'host', 'content-encoding'].includes(h));

const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constant('application/json; charset=utf-8'),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/xml'),
  headerValue,
);

/** Something near a valid submission, with any field possibly wrong. */
const submitLike = fc.record(
  {
    type: fc.oneof(fc.constantFrom('sleep', 'noop', 'exec'), fc.string(), fc.jsonValue()),
    name: fc.oneof(fc.constantFrom('daily', 'a.b:c/d@e+f'), fc.string({ unit: 'binary', maxLength: 30 }), fc.jsonValue()),
    spec: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
    priority: fc.oneof(fc.integer({ min: -2000, max: 2000 }), fc.double(), fc.jsonValue()),
    maxTaskAttempts: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.jsonValue()),
    maxFailedRatio: fc.oneof(fc.double({ min: -1, max: 2 }), fc.jsonValue()),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

/** A valid submission (some with an unknown type the engine rejects). */
const validSubmit = fc.record(
  {
    type: fc.constantFrom('sleep', 'noop', 'exec'),
    name: fc.stringMatching(/^[A-Za-z0-9_.:/@+-]([A-Za-z0-9 _.:/@+-]{0,20}[A-Za-z0-9_.:/@+-])?$/),
    spec: fc.dictionary(fc.string(), fc.jsonValue()),
    priority: fc.integer({ min: -1000, max: 1000 }),
    maxTaskAttempts: fc.integer({ min: 1, max: 100 }),
    maxFailedRatio: fc.double({ min: 0, max: 1, noNaN: true }),
  },
  { requiredKeys: ['type', 'spec'] },
);

const body = fc.oneof(
  { weight: 3, arbitrary: validSubmit.map((b) => JSON.stringify(b)) },
  { weight: 3, arbitrary: submitLike.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? '') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constant('') },
);

/** Known ids are filled in once the jobs exist. */
function idArb(knownIds: string[]) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...knownIds) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 120 }).map(encodeURIComponent) },
  );
}

function requestArb(knownIds: string[]): fc.Arbitrary<InjectOptions> {
  const extraHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 3 });
  const withBody = (method: 'POST', url: fc.Arbitrary<string>) =>
    fc.record({ url, payload: fc.option(body, { nil: undefined }), ct: fc.option(contentType, { nil: undefined }), key: fc.option(headerValue, { nil: undefined }), extra: extraHeaders }).map(
      ({ url: u, payload, ct, key, extra }): InjectOptions => ({
        method,
        url: u,
        ...(payload === undefined ? {} : { payload }),
        headers: { ...extra, ...(ct === undefined ? {} : { 'content-type': ct }), ...(key === undefined ? {} : { 'idempotency-key': key }) },
      }),
    );
  const id = idArb(knownIds);
  const query = fc.dictionary(
    fc.oneof(fc.constantFrom('state', 'type', 'name', 'limit', 'cursor'), fc.string({ maxLength: 8 })),
    fc.oneof(fc.constantFrom('WAITING', 'RUNNING,PAUSED', '1', '1000', '0', 'sleep'), fc.string({ unit: 'binary', maxLength: 40 })),
    { maxKeys: 4 },
  );
  return fc.oneof(
    withBody('POST', fc.constant(`${PREFIX}/jobs`)),
    // Mostly well-formed submissions, so the idempotency paths (200, 409) are reached too.
    fc.record({ payload: validSubmit, key: fc.option(fc.constantFrom('k1', 'k2', 'k3'), { nil: undefined, freq: 1 }) }).map(
      ({ payload, key }): InjectOptions => ({
        method: 'POST',
        url: `${PREFIX}/jobs`,
        payload: JSON.stringify(payload),
        headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
      }),
    ),
    withBody('POST', fc.tuple(id, fc.constantFrom('stop', 'pause', 'resume')).map(([i, c]) => `${PREFIX}/jobs/${i}/${c}`)),
    fc.tuple(id, fc.constantFrom('', '/progress', '/history')).map(([i, s]): InjectOptions => ({ method: 'GET', url: `${PREFIX}/jobs/${i}${s}` })),
    query.map((q): InjectOptions => ({ method: 'GET', url: `${PREFIX}/jobs?${new URLSearchParams(q).toString()}` })),
    fc.constantFrom('/workers', '/job-types', '/info').map((p): InjectOptions => ({ method: 'GET', url: `${PREFIX}${p}` })),
    fc.constantFrom('/healthz', '/readyz').map((p): InjectOptions => ({ method: 'GET', url: p })),
    fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      path: fc.webPath(),
      payload: body,
    }).map(({ method, path, payload }): InjectOptions => ({ method, url: `${PREFIX}${path}`, payload, headers: { 'content-type': 'application/json' } })),
  );
}

describe('fuzz', () => {
  let api: Api;
  let knownIds: string[];
  before(async () => {
    api = createApi();
    knownIds = [await submitJob(api.app), await submitJob(api.app, { type: 'noop', spec: {} })];
  });
  after(() => api.app.close());

  it(`${RUNS} generated requests: no 5xx, every error in the one shape`, async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb(knownIds), async (request) => {
        const res = await api.app.inject(request);
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
        if (res.statusCode >= 400 && request.method !== 'HEAD') {
          const err = res.json<Record<string, unknown>>();
          assert.deepEqual(Object.keys(err).sort(), ['code', 'error', 'message', 'statusCode']);
          assert.equal(err['statusCode'], res.statusCode);
          assert.equal(err['error'], STATUS_CODES[res.statusCode]);
          assert.match(String(err['code']), /^[A-Z][A-Z_]+$/);
        } else if (request.method !== 'HEAD') {
          assert.equal(typeof res.json(), 'object');
        }
      }),
      { numRuns: RUNS },
    );
    // The generator must reach both sides, or the property proves little.
    assert.ok((seen.get(201) ?? 0) > 10, JSON.stringify([...seen]));
    assert.ok((seen.get(200) ?? 0) > 50, JSON.stringify([...seen]));
    assert.ok((seen.get(400) ?? 0) > 100, JSON.stringify([...seen]));
  });
});
