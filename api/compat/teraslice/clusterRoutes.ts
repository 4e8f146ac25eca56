/** `GET /` (cluster info), `/cluster/*`, `/assets` (JSON, at `/` and `/v1`) and `/txt/*` (unversioned). */
import { arch, platform } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JobService } from '../../../engine/index.ts';
import { allControllers, clusterState, clusterStats } from './cluster.ts';
import { TerasliceError, tsSend } from './errors.ts';
import { TERASLICE_VERSION } from './executions.ts';
import { listExecutions } from './exRoutes.ts';
import { visibleJobs } from './jobRoutes.ts';
import type { TerasliceJobs } from './jobStore.ts';
import { cut, page } from './query.ts';
import { DEFAULT_FIELDS, makeTable } from './txt.ts';

/** `from`/`size` over a list that has no order of its own (nodes, workers), as the original's `slice(from, size)`. */
function window<T>(request: FastifyRequest, items: T[]): T[] {
  const p = page(request);
  return items.slice(p.from, p.from + p.size);
}

const NO_ASSETS = 'assets (code bundles) are not supported here: jobs use the built-in operations (docs/compat/teraslice.md)';

export function registerClusterRoutes(app: FastifyInstance, service: JobService): void {
  app.get('/', async (_request, reply) =>
    tsSend(reply, { arch: arch(), clustering_type: 'native', name: 'jetjobs', node_version: process.version, platform: platform(), teraslice_version: `v${TERASLICE_VERSION}` }),
  );
  app.get('/cluster/state', async (request, reply) => tsSend(reply, await clusterState(service, request.caller)));
  app.get('/cluster/stats', async (request, reply) => tsSend(reply, await clusterStats(service, request.caller)));
  for (const path of ['/cluster/controllers', '/cluster/slicers']) {
    app.get(path, async (request, reply) => tsSend(reply, await allControllers(service, request.caller)));
  }
  app.get('/assets', async (_request, reply) => tsSend(reply, []));
  app.post('/assets', async () => {
    throw new TerasliceError(400, NO_ASSETS);
  });
  app.delete('/assets/:id', async () => {
    throw new TerasliceError(404, NO_ASSETS, 'NOT_FOUND');
  });
}

export function registerTxtRoutes(app: FastifyInstance, service: JobService, jobs: TerasliceJobs): void {
  const text = (body: string) => body;
  app.get('/txt/jobs', async (request, reply) => reply.type('text/plain; charset=utf-8').send(text(makeTable(request, cut(visibleJobs(jobs, request), page(request)), DEFAULT_FIELDS.jobs))));
  app.get('/txt/ex', async (request, reply) => reply.type('text/plain; charset=utf-8').send(makeTable(request, cut(await listExecutions(service, jobs, request), page(request)), DEFAULT_FIELDS.ex)));
  app.get('/txt/nodes', async (request, reply) => {
    const nodes = Object.values(await clusterState(service, request.caller)).map((n) => ({ ...n, active: n.active.length }));
    return reply.type('text/plain; charset=utf-8').send(makeTable(request, window(request, nodes), DEFAULT_FIELDS.nodes));
  });
  app.get('/txt/workers', async (request, reply) => {
    const workers = Object.values(await clusterState(service, request.caller)).flatMap((n) => n.active.map((a) => ({ ...a, node_id: n.node_id })));
    return reply.type('text/plain; charset=utf-8').send(makeTable(request, window(request, workers), DEFAULT_FIELDS.workers));
  });
  for (const path of ['/txt/slicers', '/txt/controllers']) {
    app.get(path, async (request, reply) => reply.type('text/plain; charset=utf-8').send(makeTable(request, await allControllers(service, request.caller) as unknown as Record<string, unknown>[], DEFAULT_FIELDS.slicers)));
  }
  app.get('/txt/assets', async (request, reply) => reply.type('text/plain; charset=utf-8').send(makeTable(request, [], ['name', 'version', 'id', '_created', 'description'])));
}
