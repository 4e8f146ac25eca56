/** `GET /api/v1/`, `/api/v2/info`, `/api/v2/authn/info`: what the SDKs read before anything else. */
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../../../engine/index.ts';

export const CLUSTER_NAME = 'PAI RESTful API';

export function registerInfoRoutes(app: FastifyInstance): void {
  // public: whatever credentials come along (a stale token) are not looked at
  const open = { config: { credentialsIgnored: true } };
  // the seed-era server answered HTML here; PAIV1's config.clusterInfo JSON.parses it (clients.md §1.2)
  app.get('/api/v1', open, async () => ({ name: CLUSTER_NAME, version: `v${VERSION}` }));
  app.get('/api/v1/', open, async () => ({ name: CLUSTER_NAME, version: `v${VERSION}` }));
  // authnMethod basic: the SDK's suite keeps its user and token cases in
  app.get('/api/v2/info', open, async () => ({ name: CLUSTER_NAME, version: `v${VERSION}`, launcherType: 'k8s', authnMethod: 'basic' }));
  app.get('/api/v2/authn/info', open, async () => ({ authn_type: 'basic', loginURI: '/api/v2/authn/basic/login', loginURIMethod: 'post' }));
}
