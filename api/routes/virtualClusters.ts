/**
 * Virtual clusters: anyone reads the ones they may use (with usage from the job service); admins
 * define, change and delete them.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError, type Caller, type JobService, type VirtualClusterDef, type VirtualClusterStatus } from '../../engine/index.ts';
import type {} from '../auth.ts';
import { virtualClusterRouteSchemas as schemas } from '../schemas/auth.ts';
import type { IdentityRoutesOptions } from './auth.ts';
import { checkedName } from './users.ts';

interface NameParams {
  name: string;
}

/** Administration: admins with a session token (application tokens are refused: api/auth.ts). */
const ADMIN = { auth: 'admin', sessionOnly: true } as const;

/** The statuses `caller` may see: all for admins, their own grants (and `default`) otherwise. */
export async function visibleVirtualClusters(service: Pick<JobService, 'virtualClusters'>, caller: Caller): Promise<VirtualClusterStatus[]> {
  const all = await service.virtualClusters(caller);
  return caller.role === 'admin' ? all : all.filter((vc) => caller.virtualClusters.includes(vc.name));
}

/** Registers `/virtual-clusters` and `/virtual-clusters/:name`; mount with the API prefix. */
export const virtualClusterRoutes: FastifyPluginAsync<IdentityRoutesOptions> = async (app, { identity, service }) => {
  const vcUrl = (name: string) => `${app.prefix}/virtual-clusters/${name}`;

  const visible = (request: FastifyRequest) => visibleVirtualClusters(service, request.caller);

  /** The status of one VC just written (the service reads the same local mirror: read-your-writes). */
  async function statusOf(request: FastifyRequest, def: VirtualClusterDef): Promise<VirtualClusterStatus> {
    const found = (await service.virtualClusters(request.caller)).find((vc) => vc.name === def.name);
    return (
      found ?? {
        name: def.name, capacity: def.capacity, maxCapacity: def.maxCapacity, usedCapacity: 0,
        numJobs: 0, numActiveJobs: 0, numPendingJobs: 0, slots: { guaranteed: 0, max: 0, used: 0, total: 0 },
      }
    );
  }

  app.get('/virtual-clusters', { schema: schemas.list }, async (request) => ({ virtualClusters: await visible(request) }));

  app.get<{ Params: NameParams }>('/virtual-clusters/:name', { schema: schemas.get }, async (request) => {
    const name = checkedName(request.params);
    const vc = (await visible(request)).find((v) => v.name === name);
    if (vc === undefined) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `no virtual cluster ${name}`);
    return vc;
  });

  app.post<{ Body: VirtualClusterDef }>('/virtual-clusters', { schema: schemas.create, config: ADMIN }, async (request, reply) => {
    const def = await identity.createVirtualCluster(request.body);
    return reply.code(201).header('location', vcUrl(def.name)).send(await statusOf(request, def));
  });

  app.patch<{ Params: NameParams; Body: { capacity?: number; maxCapacity?: number; description?: string } }>(
    '/virtual-clusters/:name',
    { schema: schemas.update, config: ADMIN },
    async (request) => statusOf(request, await identity.updateVirtualCluster(checkedName(request.params), request.body)),
  );

  app.delete<{ Params: NameParams }>(
    '/virtual-clusters/:name',
    { schema: schemas.remove, config: { ...ADMIN, bodyOptional: true } },
    async (request, reply) => {
      await identity.deleteVirtualCluster(checkedName(request.params));
      return reply.code(204).send();
    },
  );
};
