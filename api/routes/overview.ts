/**
 * `GET /overview`: what the dashboard's overview page shows, in one read. Service-wide aggregates
 * from the engine (`JobService.overview`), with the virtual clusters the caller may use.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { JobService } from '../../engine/index.ts';
import type {} from '../auth.ts';
import { overviewRouteSchemas as schemas } from '../schemas/overview.ts';
import { visibleVirtualClusters } from './virtualClusters.ts';

/** Options of {@link overviewRoutes}. */
export interface OverviewRoutesOptions {
  service: JobService;
}

/** Registers `/overview`; mount with the API prefix. */
export const overviewRoutes: FastifyPluginAsync<OverviewRoutesOptions> = async (app, { service }) => {
  app.get('/overview', { schema: schemas.overview, config: { auth: 'viewer' } }, async (request) => {
    const [overview, virtualClusters] = await Promise.all([service.overview(), visibleVirtualClusters(service, request.caller)]);
    return { ...overview, virtualClusters };
  });
};
