/**
 * Webhook routes. Admin: global webhooks (`GET/POST /webhooks`, `DELETE /webhooks/:id`) and the
 * per-job callback signing key (`GET /webhooks/callback-secret`). Per job (own jobs, or admin):
 * the delivery log (`GET /jobs/:id/deliveries`; non-admins see a global webhook by its id, never its
 * URL) and redelivery (`POST /jobs/:id/deliveries/redeliver`).
 * Secrets are answered with `cache-control: no-store` and never logged.
 */
import type { FastifyPluginAsync } from 'fastify';
import type {} from '../auth.ts';
import type { WebhookService } from '../../engine/index.ts';
import { by } from '../actor.ts';
import { webhookRouteSchemas as schemas } from '../schemas/webhooks.ts';

/** Options of {@link webhookRoutes}. */
export interface WebhookRoutesOptions {
  /** The engine's webhooks (`engine.webhooks`). */
  webhooks: WebhookService;
}

interface IdParams {
  id: string;
}

/** Registers the webhook routes; mount with the API prefix. */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, opts) => {
  const { webhooks } = opts;

  app.get('/webhooks', { schema: schemas.list, config: { auth: 'admin' } }, async (request) => ({ webhooks: webhooks.list(request.caller) }));

  app.post<{ Body: { url: string; events?: string[]; secret?: string } }>(
    '/webhooks',
    { schema: schemas.create, config: { auth: 'admin' } },
    async (request, reply) => {
      const hook = await webhooks.create(request.body, request.caller);
      return reply.code(201).header('cache-control', 'no-store').header('location', `${app.prefix}/webhooks/${hook.id}`).send(hook);
    },
  );

  app.delete<{ Params: IdParams }>('/webhooks/:id', { schema: schemas.remove, config: { auth: 'admin' } }, async (request, reply) => {
    await webhooks.delete(request.params.id, request.caller);
    return reply.code(204).send();
  });

  app.get('/webhooks/callback-secret', { schema: schemas.callbackSecret, config: { auth: 'admin' } }, async (request, reply) =>
    reply.header('cache-control', 'no-store').send({ secret: await webhooks.callbackSecret(request.caller) }),
  );

  app.get<{ Params: IdParams }>('/jobs/:id/deliveries', { schema: schemas.deliveries, config: { auth: 'viewer' } }, async (request) => ({
    deliveries: await webhooks.deliveries(request.params.id, request.caller),
  }));

  app.post<{ Params: IdParams; Body: { target?: string; reason?: string } | null }>(
    '/jobs/:id/deliveries/redeliver',
    { schema: schemas.redeliver, config: { auth: 'operator', bodyOptional: true } },
    async (request, reply) => {
      const target = request.body?.target;
      await webhooks.redeliver(request.params.id, { ...by(request, request.body?.reason), ...(target === undefined ? {} : { target }) });
      return reply.code(202).send();
    },
  );
};
