/** The Alluxio job worker's REST API (seed 000): `/api/v1/job_worker/info`. */
import type { FastifyPluginAsync } from 'fastify';
import type { FacadeDeps } from '../facade.ts';
import { processInfo } from './serviceInfo.ts';

export const alluxioWorkerRoutes: FastifyPluginAsync<FacadeDeps> = async (app, deps) => {
  app.get('/api/v1/job_worker/info', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>)['raw_configuration'] === 'true';
    return reply.type('application/json').send(JSON.stringify(processInfo(deps.service.info(), raw)));
  });
};
