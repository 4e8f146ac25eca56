/** Who a facade's caller is (api/compat/facade.ts): `auth.optional` makes a request without credentials anonymous. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { facadeScope, type Facade, type FacadeAuth } from '../../../../api/compat/facade.ts';
import { createIdentity, createMemoryControlStore, silentLogger, systemClock, type Identity, type JobService } from '../../../../engine/index.ts';

const PW = 'facade password 123';

async function facadeApp(auth: FacadeAuth): Promise<{ app: FastifyInstance; identity: Identity }> {
  const identity = createIdentity({
    store: createMemoryControlStore(),
    clock: systemClock,
    logger: silentLogger,
    scryptParams: { N: 2 ** 10, r: 8, p: 1 },
    config: { tokenTtlMs: 60_000, tokenMaxTtlMs: 600_000, adminToken: null, adminPassword: null },
  });
  await identity.createUser({ name: 'alice', password: PW, role: 'operator' });
  const facade: Facade = {
    name: 'probe',
    auth,
    listeners: [
      {
        name: 'probe',
        port: 0,
        routes: async (app) => {
          app.get('/who', async (request) => ({ callerOrNull: request.callerOrNull, caller: (request.caller as unknown) ?? null }));
        },
      },
    ],
    sendError: (_request, reply, err) => reply.code(err.status).send({ code: err.code, message: err.message }),
    notFound: (_request, reply) => reply.code(404).send({ code: 'NotFound' }),
  };
  const app = Fastify();
  await app.register(facadeScope(facade, { service: {} as JobService, identity }, facade.listeners));
  await app.ready();
  return { app, identity };
}

const who = (app: FastifyInstance, authorization?: string) =>
  app.inject({ method: 'GET', url: '/who', headers: authorization === undefined ? {} : { authorization } });

describe('facade auth: optional', () => {
  it('bearer + optional: no header is anonymous (null); a valid token is the caller; a present but bad header is 401 with the challenge', async () => {
    const { app, identity } = await facadeApp({ mode: 'bearer', user: 'unused', role: 'viewer', optional: true });
    try {
      const anonymous = await who(app);
      assert.equal(anonymous.statusCode, 200, anonymous.body);
      assert.deepEqual(anonymous.json(), { callerOrNull: null, caller: null });

      const { token } = await identity.login('alice', PW);
      const known = await who(app, `Bearer ${token}`);
      assert.equal(known.statusCode, 200, known.body);
      const expected = { user: 'alice', role: 'operator', virtualClusters: ['default'], tokenKind: 'session' };
      assert.deepEqual(known.json(), { callerOrNull: expected, caller: expected });

      for (const bad of ['', 'Bearer', 'Bearer garbage', `Bearer jjt_${'A'.repeat(43)}`, `Basic ${Buffer.from(`alice:${PW}`).toString('base64')}`]) {
        const res = await who(app, bad);
        assert.equal(res.statusCode, 401, `${JSON.stringify(bad)}: ${res.body}`);
        assert.equal(res.json().code, 'UNAUTHENTICATED');
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="jetjobs"');
      }
    } finally {
      await app.close();
    }
  });

  it('basic + optional: no header is anonymous; wrong credentials are 401 with the Basic challenge', async () => {
    const { app } = await facadeApp({ mode: 'basic', user: 'unused', role: 'viewer', optional: true });
    try {
      assert.deepEqual((await who(app)).json(), { callerOrNull: null, caller: null });
      const ok = await who(app, `Basic ${Buffer.from(`alice:${PW}`).toString('base64')}`);
      assert.equal(ok.json().callerOrNull.user, 'alice');
      const res = await who(app, `Basic ${Buffer.from('alice:wrong password').toString('base64')}`);
      assert.equal(res.statusCode, 401, res.body);
      assert.match(String(res.headers['www-authenticate']), /^Basic /);
    } finally {
      await app.close();
    }
  });

  it('without optional a missing header stays 401; auth none always has its fixed caller', async () => {
    const strict = await facadeApp({ mode: 'bearer', user: 'unused', role: 'viewer' });
    try {
      const res = await who(strict.app);
      assert.equal(res.statusCode, 401, res.body);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="jetjobs"');
    } finally {
      await strict.app.close();
    }
    const none = await facadeApp({ mode: 'none', user: 'probe', role: 'operator', optional: true });
    try {
      const fixed = { user: 'probe', role: 'operator', virtualClusters: [] };
      assert.deepEqual((await who(none.app)).json(), { callerOrNull: fixed, caller: fixed });
    } finally {
      await none.app.close();
    }
  });
});
