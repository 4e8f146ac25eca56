/**
 * Webhook routes. Admin: global webhooks (`GET/POST /webhooks`, `DELETE /webhooks/:id`) and the
 * per-job callback signing key (`GET /webhooks/callback-secret`). Per job (own jobs, or admin):
 * the delivery log (`GET /jobs/:id/deliveries`; non-admins see a global webhook by its id, never its
 * URL) and redelivery (`POST /jobs/:id/deliveries/redeliver`).
 * Secrets are answered with `cache-control: no-store` and never logged.
 */
import type { FastifyPluginAsync } from 'fastify';
import type {} from '../auth.ts';
import { systemClock, type Clock } from '../../engine/clock.ts';
import type { Config } from '../../engine/config.ts';
import type { ControlStore } from '../../engine/controlstore/controlStore.ts';
import { deliveryLogFor } from '../../engine/hooks/deliveryView.ts';
import { callbackSecret, createWebhook, deleteWebhook, listWebhooks } from '../../engine/hooks/webhookStore.ts';
import type { JobService } from '../../engine/serviceTypes.ts';
import { by } from '../actor.ts';
import { webhookRouteSchemas as schemas } from '../schemas/webhooks.ts';

/** Options of {@link webhookRoutes}. */
export interface WebhookRoutesOptions {
  service: JobService;
  /** The control store (global webhooks live under `hook.<id>`). */
  store: ControlStore;
  config: Pick<Config, 'callbackSecret' | 'webhookAllowPrivate'>;
  /** @defaultValue systemClock */
  clock?: Clock;
}

interface IdParams {
  id: string;
}

/** Registers the webhook routes; mount with the API prefix. */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, opts) => {
  const { service, store, config } = opts;
  const clock = opts.clock ?? systemClock;

  app.get('/webhooks', { schema: schemas.list, config: { auth: 'admin' } }, async () => ({ webhooks: listWebhooks(store) }));

  app.post<{ Body: { url: string; events?: string[]; secret?: string } }>(
    '/webhooks',
    { schema: schemas.create, config: { auth: 'admin' } },
    async (request, reply) => {
      const hook = await createWebhook(store, request.body, request.caller.user, clock, config.webhookAllowPrivate);
      return reply.code(201).header('cache-control', 'no-store').header('location', `${app.prefix}/webhooks/${hook.id}`).send(hook);
    },
  );

  app.delete<{ Params: IdParams }>('/webhooks/:id', { schema: schemas.remove, config: { auth: 'admin' } }, async (request, reply) => {
    await deleteWebhook(store, request.params.id);
    return reply.code(204).send();
  });

  app.get('/webhooks/callback-secret', { schema: schemas.callbackSecret, config: { auth: 'admin' } }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ secret: await callbackSecret(store, config) }),
  );

  app.get<{ Params: IdParams }>('/jobs/:id/deliveries', { schema: schemas.deliveries, config: { auth: 'viewer' } }, async (request) => ({
    deliveries: deliveryLogFor(request.caller, await service.deliveries(request.params.id, request.caller)),
  }));

  app.post<{ Params: IdParams; Body: { target?: string; reason?: string } | null }>(
    '/jobs/:id/deliveries/redeliver',
    { schema: schemas.redeliver, config: { auth: 'operator', bodyOptional: true } },
    async (request, reply) => {
      const target = request.body?.target;
      await service.redeliver(request.params.id, { ...by(request, request.body?.reason), ...(target === undefined ? {} : { target }) });
      return reply.code(202).send();
    },
  );
};
