/**
 * The Alluxio facade (docs/compat/alluxio.md): the OSS job master on `alluxioMasterPort` (20002)
 * and the job worker on `alluxioWorkerPort` (30003), and both under `/compat/alluxio/`.
 */
import type { Config } from '../../../engine/index.ts';
import type { Facade } from '../facade.ts';
import { alluxioNotFound, sendAlluxioError } from './errors.ts';
import { alluxioMasterRoutes } from './masterRoutes.ts';
import { alluxioWorkerRoutes } from './workerRoutes.ts';

export function alluxioFacade(config: Pick<Config, 'alluxioAuth' | 'alluxioUser' | 'alluxioRole' | 'alluxioMasterPort' | 'alluxioWorkerPort'>): Facade {
  return {
    name: 'alluxio',
    auth: { mode: config.alluxioAuth, user: config.alluxioUser, role: config.alluxioRole },
    listeners: [
      { name: 'job master', port: config.alluxioMasterPort, routes: alluxioMasterRoutes },
      { name: 'job worker', port: config.alluxioWorkerPort, routes: alluxioWorkerRoutes },
    ],
    sendError: sendAlluxioError,
    notFound: alluxioNotFound,
  };
}
