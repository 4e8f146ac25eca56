/**
 * The Teraslice facade (docs/compat/teraslice.md): the cluster master REST on `teraslicePort`
 * (5678) and under `/compat/teraslice/`; every JSON route at `/` and at `/v1`, `/txt/*` unversioned.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../../engine/index.ts';
import type { Facade, FacadeDeps } from '../facade.ts';
import { registerTerasliceBodyParser } from './bodyParser.ts';
import { registerClusterRoutes, registerTxtRoutes } from './clusterRoutes.ts';
import { sendTerasliceError, terasliceNotFound } from './errors.ts';
import { registerExRoutes } from './exRoutes.ts';
import { registerJobRoutes } from './jobRoutes.ts';
import { createTerasliceJobs } from './jobStore.ts';

const terasliceRoutes: FastifyPluginAsync<FacadeDeps> = async (app, deps) => {
  if (deps.documents === undefined) throw new Error('the Teraslice facade needs the document store (engine.documents)');
  const { service } = deps;
  const jobs = createTerasliceJobs(deps.documents);
  registerTerasliceBodyParser(app);
  for (const prefix of ['', '/v1']) {
    await app.register(async (scope) => {
      registerClusterRoutes(scope, service);
      registerJobRoutes(scope, service, jobs);
      registerExRoutes(scope, service, jobs);
    }, { prefix });
  }
  registerTxtRoutes(app, service, jobs);
};

export function terasliceFacade(config: Pick<Config, 'terasliceAuth' | 'terasliceUser' | 'terasliceRole' | 'teraslicePort'>): Facade {
  return {
    name: 'teraslice',
    auth: { mode: config.terasliceAuth, user: config.terasliceUser, role: config.terasliceRole },
    listeners: [{ name: 'cluster master', port: config.teraslicePort, routes: terasliceRoutes }],
    sendError: sendTerasliceError,
    notFound: terasliceNotFound,
  };
}
