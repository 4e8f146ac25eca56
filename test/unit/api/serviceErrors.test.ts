/**
 * What the engine throws, as the client sees it: UNAVAILABLE is always 503 + retry-after (never a
 * 500), a bug is a 500 INTERNAL whose message stays in the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { AppError } from '../../../engine/errors.ts';
import { assertError, createApi, JSON_HEADERS, PREFIX, submitJob, VALID_SUBMIT, type Api } from './harness.ts';

describe('service failures', () => {
  let api: Api;
  let routes: [string, InjectOptions][];
  before(async () => {
    api = createApi();
    const id = await submitJob(api.app);
    const job = `${PREFIX}/jobs/${id}`;
    routes = [
      ['submit', { method: 'POST', url: `${PREFIX}/jobs`, payload: JSON.stringify(VALID_SUBMIT), headers: JSON_HEADERS }],
      ['list', { url: `${PREFIX}/jobs?state=WAITING&limit=5` }],
      ['get', { url: job }],
      ['progress', { url: `${job}/progress` }],
      ['history', { url: `${job}/history` }],
      ['stop', { method: 'POST', url: `${job}/stop` }],
      ['pause', { method: 'POST', url: `${job}/pause` }],
      ['resume', { method: 'POST', url: `${job}/resume` }],
      ['failures', { url: `${job}/failures` }],
      ['tasks', { url: `${job}/tasks` }],
      ['recover', { method: 'POST', url: `${job}/recover` }],
      ['rerun', { method: 'POST', url: `${job}/rerun` }],
      ['activate', { method: 'POST', url: `${job}/activate` }],
      ['deactivate', { method: 'POST', url: `${job}/deactivate` }],
      ['workers', { url: `${PREFIX}/workers` }],
      ['job-types', { url: `${PREFIX}/job-types` }],
      ['info', { url: `${PREFIX}/info` }],
    ];
  });
  after(() => api.app.close());

  it('UNAVAILABLE → 503 with retry-after on every route', async () => {
    api.service.unavailable = true;
    try {
      for (const [name, request] of routes) {
        const res = await api.app.inject(request);
        assertError(res, 503, 'UNAVAILABLE');
        assert.equal(res.headers['retry-after'], '1', name);
      }
    } finally {
      api.service.unavailable = false;
    }
  });

  it('an unexpected throw → 500 INTERNAL on every route, without its message', async () => {
    api.service.crash = new TypeError("Cannot read properties of undefined (reading 'nats://admin:pw@10.0.0.1')");
    try {
      for (const [, request] of routes) {
        const res = await api.app.inject(request);
        assertError(res, 500, 'INTERNAL', 'Internal error.');
        assert.ok(!res.body.includes('nats://'));
        assert.equal(res.headers['retry-after'], undefined);
      }
    } finally {
      api.service.crash = null;
    }
  });

  const thrown: [string, unknown, number, string][] = [
    ['a retryable non-AppError (untranslated NATS timeout)', Object.assign(new Error('TIMEOUT'), { retryable: true }), 503, 'UNAVAILABLE'],
    ['QUEUE_FULL', new AppError('QUEUE_FULL'), 429, 'QUEUE_FULL'],
    ['NOT_READY', new AppError('NOT_READY'), 503, 'NOT_READY'],
    ['CONFLICT', new AppError('CONFLICT'), 409, 'CONFLICT'],
    ['a thrown string', 'boom', 500, 'INTERNAL'],
    ['a thrown null', null, 500, 'INTERNAL'],
  ];
  for (const [label, error, status, code] of thrown) {
    it(`${label} → ${status} ${code}`, async () => {
      const real = api.service.workers.bind(api.service);
      api.service.workers = async () => {
        throw error;
      };
      try {
        const res = await api.app.inject({ url: `${PREFIX}/workers` });
        assertError(res, status, code as AppError['code']);
        assert.equal(res.headers['retry-after'], status === 503 || status === 429 ? '1' : undefined);
      } finally {
        api.service.workers = real;
      }
    });
  }

  it('a 5xx AppError shows the table text, not what the thrower wrote', async () => {
    const real = api.service.workers.bind(api.service);
    api.service.workers = async () => {
      throw new AppError('UNAVAILABLE', 'no responders on $JS.API.STREAM.INFO.JOBS at 10.0.0.7');
    };
    try {
      const res = await api.app.inject({ url: `${PREFIX}/workers` });
      assertError(res, 503, 'UNAVAILABLE', 'The event store (NATS) is unavailable.');
      assert.ok(!res.body.includes('10.0.0.7'));
    } finally {
      api.service.workers = real;
    }
  });

  it('a response that breaks its schema is a 500, not a half-written body', async () => {
    const real = api.service.workers.bind(api.service);
    // A required field missing: the serializer refuses rather than send an incomplete worker.
    api.service.workers = async () => [{ id: 'w' }] as unknown as Awaited<ReturnType<typeof real>>;
    try {
      assertError(await api.app.inject({ url: `${PREFIX}/workers` }), 500, 'INTERNAL');
    } finally {
      api.service.workers = real;
    }
  });
});
