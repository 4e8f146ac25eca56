/**
 * The bad-input table (the inputs a client can get wrong; docs/api.md, Errors) against the HTTP layer: every case is a 4xx
 * with the one error shape, naming the field where there is one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import type { ErrorCode } from '../../../engine/errors.ts';
import { assertError, createApi, JSON_HEADERS, PREFIX, submitJob, UNKNOWN_ID, VALID_SUBMIT, type Api } from './harness.ts';

interface Case {
  name: string;
  request: InjectOptions;
  status: number;
  code: ErrorCode;
  /** Substring the message must contain (usually the field path). */
  message?: string;
}

const JOBS = `${PREFIX}/jobs`;

function submit(name: string, payload: string | object, status: number, code: ErrorCode, message?: string, headers = {}): Case {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return { name, request: { method: 'POST', url: JOBS, payload: body, headers: { ...JSON_HEADERS, ...headers } }, status, code, ...(message === undefined ? {} : { message }) };
}

/** A valid submission with one field replaced. */
function withField(field: string, value: unknown): object {
  return { ...VALID_SUBMIT, [field]: value };
}

function nested(depth: number, open: string, close: string, leaf = '1'): string {
  return `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
}

const bodyCases: Case[] = [
  submit('malformed JSON', '{"name":', 400, 'INVALID_JSON'),
  submit('empty body with content-type application/json', '', 400, 'INVALID_JSON'),
  submit('whitespace-only body', '  \n', 400, 'INVALID_JSON'),
  submit('JSON with a trailing comma', '{"type":"sleep","spec":{},}', 400, 'INVALID_JSON'),
  submit('text/plain body', JSON.stringify(VALID_SUBMIT), 415, 'UNSUPPORTED_MEDIA_TYPE', undefined, { 'content-type': 'text/plain' }),
  submit('form body', 'type=sleep', 415, 'UNSUPPORTED_MEDIA_TYPE', undefined, { 'content-type': 'application/x-www-form-urlencoded' }),
  submit('XML body', '<job/>', 415, 'UNSUPPORTED_MEDIA_TYPE', undefined, { 'content-type': 'application/xml' }),
  submit('a JSON look-alike media type', '{}', 415, 'UNSUPPORTED_MEDIA_TYPE', undefined, { 'content-type': 'application/jsonx' }),
  submit('a gzip-encoded body', JSON.stringify(VALID_SUBMIT), 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding', { 'content-encoding': 'gzip' }),
  { name: 'a body without content-type', request: { method: 'POST', url: JOBS, payload: '{}' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  submit('body over 1 MiB', { ...VALID_SUBMIT, spec: { pad: 'x'.repeat(1024 * 1024) } }, 413, 'BODY_TOO_LARGE'),
  submit('array nested 10,000 deep', `{"type":"sleep","spec":{"a":${nested(10_000, '[', ']')}}}`, 400, 'VALIDATION_FAILED', 'nested'),
  submit('object nested 10,000 deep', `{"type":"sleep","spec":${nested(10_000, '{"a":', '}')}}`, 400, 'VALIDATION_FAILED', 'nested'),
  submit('__proto__ key at the top', '{"type":"sleep","spec":{},"__proto__":{"admin":true}}', 400, 'VALIDATION_FAILED', '__proto__'),
  submit('__proto__ key inside spec', '{"type":"sleep","spec":{"a":[{"__proto__":{"x":1}}]}}', 400, 'VALIDATION_FAILED', '__proto__'),
  submit('__proto__ key written with escapes', '{"type":"sleep","spec":{"\\u005f_proto__":{"x":1}}}', 400, 'VALIDATION_FAILED', '__proto__'),
  submit('constructor.prototype keys', '{"type":"sleep","spec":{"constructor":{"prototype":{"x":1}}}}', 400, 'VALIDATION_FAILED', 'constructor.prototype'),
  submit('priority as a string', withField('priority', '4'), 400, 'VALIDATION_FAILED', 'body/priority must be integer'),
  submit('name as a number', withField('name', 123), 400, 'VALIDATION_FAILED', 'body/name must be string'),
  submit('spec null', withField('spec', null), 400, 'VALIDATION_FAILED', 'body/spec must be object'),
  submit('spec an array', withField('spec', []), 400, 'VALIDATION_FAILED', 'body/spec must be object'),
  submit('body an array', [VALID_SUBMIT], 400, 'VALIDATION_FAILED', 'body must be object'),
  submit('body a string', '"job"', 400, 'VALIDATION_FAILED', 'body must be object'),
  submit('body null', 'null', 400, 'VALIDATION_FAILED', 'body must be object'),
  submit('type a number', withField('type', 5), 400, 'VALIDATION_FAILED', 'body/type must be string'),
  submit('maxTaskAttempts a boolean', withField('maxTaskAttempts', true), 400, 'VALIDATION_FAILED', 'body/maxTaskAttempts'),
  submit('maxFailedRatio a string', withField('maxFailedRatio', '0.5'), 400, 'VALIDATION_FAILED', 'body/maxFailedRatio must be number'),
  submit('unknown field admin', withField('admin', true), 400, 'VALIDATION_FAILED', 'body/admin is not allowed'),
  submit('unknown field owner (no mass assignment)', withField('owner', 'root'), 400, 'VALIDATION_FAILED', 'body/owner is not allowed'),
  submit('missing type', { spec: {} }, 400, 'VALIDATION_FAILED', 'body/type is required'),
  submit('missing spec', { type: 'sleep' }, 400, 'VALIDATION_FAILED', 'body/spec is required'),
  submit('empty object', {}, 400, 'VALIDATION_FAILED', 'is required'),
  ...[-1001, 1001, 1e9, 2 ** 53 + 1, 1.5].map((v) => submit(`priority ${v}`, withField('priority', v), 400, 'VALIDATION_FAILED', 'body/priority')),
  submit('priority 1e309', '{"type":"sleep","spec":{},"priority":1e309}', 400, 'VALIDATION_FAILED', 'body/priority'),
  ...[0, -1, 101, 1.5].map((v) => submit(`maxTaskAttempts ${v}`, withField('maxTaskAttempts', v), 400, 'VALIDATION_FAILED', 'body/maxTaskAttempts')),
  ...[-0.1, 1.01].map((v) => submit(`maxFailedRatio ${v}`, withField('maxFailedRatio', v), 400, 'VALIDATION_FAILED', 'body/maxFailedRatio')),
  submit('maxFailedRatio 1e309', '{"type":"sleep","spec":{},"maxFailedRatio":1e309}', 400, 'VALIDATION_FAILED', 'body/maxFailedRatio'),
  submit('type with capitals (RM_RF)', withField('type', 'RM_RF'), 400, 'VALIDATION_FAILED', 'body/type'),
  submit('type of 33 chars', withField('type', 'a'.repeat(33)), 400, 'VALIDATION_FAILED', 'body/type'),
  submit('type with a dot', withField('type', 'a.b'), 400, 'VALIDATION_FAILED', 'body/type'),
];

const badNames: [string, string][] = [
  ['empty', ''],
  ['201 chars', 'a'.repeat(201)],
  ['10k chars', 'a'.repeat(10_000)],
  ['NUL', 'a\u0000b'],
  ['\\u0001', 'a\u0001b'],
  ['\\u001f', 'a\u001fb'],
  ['newline', 'a\nb'],
  ['tab', 'a\tb'],
  ['DEL \\u007f', 'a\u007fb'],
  ['bidi override \\u202e', 'abc\u202etxt.exe'],
  ['zero-width space \\u200b', 'a\u200bb'],
  ['lone surrogate \\ud800', 'a\ud800b'],
  ['emoji', 'job 🚀'],
  ['NFD look-alike', 'cafe\u0301'],
  ['Cyrillic look-alike', 'jоb'],
  ['subject wildcard *', 'jobs.*'],
  ['subject wildcard >', 'jobs.>'],
  ['leading $', '$SYS'],
  ['leading space', ' job'],
  ['trailing space', 'job '],
  ['backslash', 'a\\b'],
  ['quote', "a'b"],
];
const nameCases = badNames.map(([label, name]) =>
  submit(`name with ${label}`, withField('name', name), 400, 'VALIDATION_FAILED', 'body/name'),
);

const idempotencyKeyCases: Case[] = [
  ['empty', ''],
  ['a space', 'a b'],
  ['201 chars', 'k'.repeat(201)],
  ['a latin-1 char', 'cl\u00e9'],
].map(([label, key]) => submit(`idempotency-key with ${label}`, VALID_SUBMIT, 400, 'VALIDATION_FAILED', 'headers/idempotency-key', { 'idempotency-key': key! }));

const badIds = ['..%2Fx', encodeURIComponent("' OR 1=1"), '00000000-0000-4000-8000-00000000000G', '00000000-0000-4000-8000-00000000000F', `${UNKNOWN_ID}x`, 'x'.repeat(150)];
const idCases: Case[] = badIds.flatMap((id) => [
  // An id longer than Fastify's path parameter limit is refused before the schema runs.
  { name: `GET job id ${id.slice(0, 40)}`, request: { url: `${JOBS}/${id}` }, status: 400, code: 'INVALID_ID' as const, message: id.length > 100 ? 'too long' : 'params/id' },
  { name: `GET history id ${id.slice(0, 40)}`, request: { url: `${JOBS}/${id}/history` }, status: 400, code: 'INVALID_ID' as const },
  { name: `POST stop id ${id.slice(0, 40)}`, request: { method: 'POST' as const, url: `${JOBS}/${id}/stop` }, status: 400, code: 'INVALID_ID' as const },
]);

const routeCases: Case[] = [
  { name: 'unknown UUID', request: { url: `${JOBS}/${UNKNOWN_ID}` }, status: 404, code: 'JOB_NOT_FOUND' },
  { name: 'unknown route', request: { url: `${PREFIX}/nope` }, status: 404, code: 'NOT_FOUND' },
  { name: 'unknown route at the root', request: { url: '/api/v2/jobs' }, status: 404, code: 'NOT_FOUND' },
  { name: 'unknown method on a route', request: { method: 'DELETE', url: JOBS }, status: 404, code: 'NOT_FOUND' },
  { name: 'unknown command', request: { method: 'POST', url: `${JOBS}/${UNKNOWN_ID}/explode` }, status: 404, code: 'NOT_FOUND' },
  { name: 'bad percent-encoding', request: { url: `${JOBS}/%E0%A4%A` }, status: 400, code: 'VALIDATION_FAILED' },
];

const queryCases: Case[] = [
  'limit=abc', 'limit=0', 'limit=1001', 'limit=-1', 'limit=1.5', 'limit=01', 'limit=', 'limit=1&limit=2', 'limit=1e2',
  'state=NOPE', 'state=waiting', 'state=WAITING,', 'state=,', 'state=WAITING&state=RUNNING',
  'type=RM_RF', 'name=a*', `name=${'a'.repeat(201)}`, 'cursor=a%20b', `cursor=${'c'.repeat(201)}`, 'foo=1',
].map((q) => ({ name: `GET /jobs?${q.slice(0, 40)}`, request: { url: `${JOBS}?${q}` }, status: 400, code: 'VALIDATION_FAILED' as const, message: 'querystring' }));

describe('bad inputs', () => {
  let api: Api;
  before(() => {
    api = createApi();
  });
  after(() => api.app.close());

  for (const c of [...bodyCases, ...nameCases, ...idempotencyKeyCases, ...idCases, ...routeCases, ...queryCases]) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      assertError(await api.app.inject(c.request), c.status, c.code, c.message);
    });
  }

  it('created no job from any of them', () => {
    assert.equal(api.service.calls.filter((c) => c.method === 'submit').length, 0);
  });

  it('still accepts a name with dots and a spec with a plain "constructor" key', async () => {
    const id = await submitJob(api.app, { type: 'noop', name: 'a.b.c', spec: { constructor: 'fine', nested: { depth: [1, [2]] } } });
    assert.match(id, /^[0-9a-f-]{36}$/);
  });

  it('answers 400 when Content-Length does not match the body', async () => {
    const res = await api.app.inject({ method: 'POST', url: JOBS, payload: JSON.stringify(VALID_SUBMIT), headers: { ...JSON_HEADERS, 'content-length': '5' } });
    assert.equal(res.statusCode, 400);
    assertError(res, 400, res.json<{ code: ErrorCode }>().code);
  });
});
