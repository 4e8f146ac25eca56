/**
 * The Alluxio facade (docs/compat/alluxio.md): the OSS job master on `alluxioMasterPort` (20002),
 * the job worker on `alluxioWorkerPort` (30003), the Enterprise coordinator on `alluxioEePort`
 * (19999, with EE's own error shape), and all three under `/compat/alluxio/`.
 */
import type { Config } from '../../../engine/index.ts';
import type { FastifyPluginAsync } from 'fastify';
import type { Facade, FacadeDeps } from '../facade.ts';
import { alluxioLogLevelRoutes } from './logLevelRoutes.ts';
import { eeNotFound, sendEeError } from './eeErrors.ts';
import { alluxioEeRoutes } from './eeRoutes.ts';
import { alluxioNotFound, sendAlluxioError } from './errors.ts';
import { alluxioMasterRoutes } from './masterRoutes.ts';
import { alluxioWorkerRoutes } from './workerRoutes.ts';

export function alluxioFacade(config: Pick<Config, 'alluxioAuth' | 'alluxioUser' | 'alluxioRole' | 'alluxioMasterPort' | 'alluxioWorkerPort' | 'alluxioEePort'>): Facade {
  return {
    name: 'alluxio',
    auth: { mode: config.alluxioAuth, user: config.alluxioUser, role: config.alluxioRole },
    listeners: [
      { name: 'job master', port: config.alluxioMasterPort, routes: both(alluxioMasterRoutes, alluxioLogLevelRoutes('job_master')) },
      { name: 'job worker', port: config.alluxioWorkerPort, routes: both(alluxioWorkerRoutes, alluxioLogLevelRoutes('job_worker')) },
      { name: 'EE coordinator', port: config.alluxioEePort, routes: alluxioEeRoutes, sendError: sendEeError, notFound: eeNotFound },
    ],
    sendError: sendAlluxioError,
    notFound: alluxioNotFound,
  };
}

function both(a: FastifyPluginAsync<FacadeDeps>, b: FastifyPluginAsync<FacadeDeps>): FastifyPluginAsync<FacadeDeps> {
  return async (app, deps) => {
    await app.register(a, deps);
    await app.register(b, deps);
  };
}
