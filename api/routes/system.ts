/**
 * System routes: workers, job types and service info under the API prefix; liveness (`/healthz`)
 * and readiness (`/readyz`) at the root, where probes expect them.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { JobService } from '../../engine/index.ts';
import { RETRY_AFTER_SECONDS } from '../errorResponses.ts';
import { systemRouteSchemas as schemas } from '../schemas/system.ts';

/** Options of {@link systemRoutes} and {@link healthRoutes}. */
export interface SystemRoutesOptions {
  service: JobService;
}

/** Registers `/workers`, `/job-types` and `/info`; mount with the API prefix. */
export const systemRoutes: FastifyPluginAsync<SystemRoutesOptions> = async (app, { service }) => {
  app.get('/workers', { schema: schemas.workers }, async (request) => ({ workers: await service.workers(request.caller) }));
  app.get('/job-types', { schema: schemas.jobTypes }, async () => ({ jobTypes: service.jobTypes() }));
  // The data dir and the NATS URL are operators' business.
  app.get('/info', { schema: schemas.info, config: { auth: 'admin' } }, async () => service.info());
};

/** Registers `/healthz` and `/readyz`; mount without a prefix. */
export const healthRoutes: FastifyPluginAsync<SystemRoutesOptions> = async (app, { service }) => {
  // Probes poll every few seconds; log them only when something is wrong.
  const probe = { logLevel: 'warn', config: { auth: 'public' } } as const;

  // Liveness asks only "is the event loop turning": restarting us would not fix NATS.
  app.get('/healthz', { ...probe, schema: schemas.healthz }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { ...probe, schema: schemas.readyz }, async (request, reply) => {
    let readiness: { ready: boolean; checks: Record<string, boolean> };
    try {
      readiness = await service.readiness();
    } catch (err) {
      // A failing check is an answer ("not ready"), not a server error.
      request.log.warn({ err }, 'readiness check failed');
      readiness = { ready: false, checks: {} };
    }
    if (!readiness.ready) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return readiness;
  });
};
