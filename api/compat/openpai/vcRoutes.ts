/**
 * Virtual clusters (plan §2, §5.4): v1's `/api/v1/virtual-clusters[/:vcName]` (tokenless while
 * anonymous reads are on) and v2's `/api/v2/virtual-clusters[/:vc[/sku-types]]`. One rule with the
 * native API: an admin sees every VC, others `default` and their grants (the original showed every
 * VC to everyone). Capacities and job counts are the engine's VC status; resources are counted
 * from the tasks the live workers report running (at most 256 each, so approximate): an `exec`
 * instance counts its role's recorded cpu (1 by default) and its memory limit, any other task one
 * vCore; the total is the live workers' slots, each with `scriptMemoryLimitMb`. No GPUs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SYSTEM_CALLER, type Caller, type JobView, type JobService, type VirtualClusterStatus } from '../../../engine/index.ts';
import { readerCaller, tokenCaller } from './auth.ts';
import type { OpenPaiContext } from './context.ts';
import { noVirtualCluster } from './errors.ts';

/** OpenPAI's resource triple; v2 repeats `vCores` as `cpu` and `GPUs` as `gpu`. */
export interface Resources {
  vCores: number;
  memory: number;
  GPUs: number;
}

const none = (): Resources => ({ vCores: 0, memory: 0, GPUs: 0 });

/** The parts of an exec spec the count reads (engine/jobtypes/exec/spec.ts). */
interface ExecSpecView {
  taskRoles?: { taskNumber?: number; memoryLimitMb?: number; resources?: { cpu?: number } }[];
  memoryLimitMb?: number;
}

/** An exec task's role: task ids are `t<n>` with n counting instances role after role (the exec plan). */
export function execRoleOf(spec: ExecSpecView, taskId: string): NonNullable<ExecSpecView['taskRoles']>[number] | undefined {
  const m = /^t(\d{1,9})$/.exec(taskId);
  if (m === null || !Array.isArray(spec.taskRoles)) return undefined;
  let n = Number(m[1]);
  for (const role of spec.taskRoles) {
    const count = typeof role?.taskNumber === 'number' ? role.taskNumber : 0;
    if (n < count) return role;
    n -= count;
  }
  return undefined;
}

/** What one running task holds. */
export function taskResources(job: Pick<JobView, 'type' | 'spec'>, taskId: string, memoryLimitMb: number): Resources {
  if (job.type !== 'exec') return { vCores: 1, memory: 0, GPUs: 0 };
  const spec = job.spec as ExecSpecView;
  const role = execRoleOf(spec, taskId);
  const cpu = role?.resources?.cpu;
  return {
    vCores: typeof cpu === 'number' && cpu >= 0 ? cpu : 1,
    memory: Math.min(role?.memoryLimitMb ?? spec.memoryLimitMb ?? memoryLimitMb, memoryLimitMb),
    GPUs: 0,
  };
}

/** The cluster's resources: used per VC, and in all. */
export interface ClusterResources {
  used: Map<string, Resources>;
  total: Resources;
}

/** Read once per request: the workers and the jobs of their running tasks (each job read once). */
export async function clusterResources(service: JobService, memoryLimitMb: number): Promise<ClusterResources> {
  const workers = (await service.workers(SYSTEM_CALLER)).filter((w) => w.alive && w.state !== 'LEFT');
  const jobs = new Map<string, Promise<JobView | undefined>>();
  const jobOf = (id: string) => {
    let p = jobs.get(id);
    if (p === undefined) {
      // a job removed since the heartbeat counts nothing
      p = service.get(id, SYSTEM_CALLER).catch(() => undefined);
      jobs.set(id, p);
    }
    return p;
  };
  const used = new Map<string, Resources>();
  let slots = 0;
  for (const w of workers) {
    slots += w.concurrency;
    for (const t of w.tasks) {
      const job = await jobOf(t.jobId);
      if (job === undefined) continue;
      const r = taskResources(job, t.taskId, memoryLimitMb);
      const sum = used.get(job.virtualCluster) ?? none();
      used.set(job.virtualCluster, { vCores: sum.vCores + r.vCores, memory: sum.memory + r.memory, GPUs: sum.GPUs + r.GPUs });
    }
  }
  return { used, total: { vCores: slots, memory: slots * memoryLimitMb, GPUs: 0 } };
}

/** Whole numbers (the swagger says integers; a fractional cpu rounds up). */
const whole = (r: Resources): Resources => ({ vCores: Math.ceil(r.vCores), memory: Math.ceil(r.memory), GPUs: Math.ceil(r.GPUs) });
const v2Resources = (r: Resources) => ({ cpu: r.vCores, vCores: r.vCores, memory: r.memory, gpu: r.GPUs, GPUs: r.GPUs });

export function vcV1(vc: VirtualClusterStatus, res: ClusterResources) {
  return {
    capacity: vc.capacity,
    maxCapacity: vc.maxCapacity,
    usedCapacity: vc.usedCapacity,
    numActiveJobs: vc.numActiveJobs,
    numJobs: vc.numJobs,
    numPendingJobs: vc.numPendingJobs,
    resourcesUsed: whole(res.used.get(vc.name) ?? none()),
  };
}

export function vcV2(vc: VirtualClusterStatus, res: ClusterResources) {
  const share = (n: number) => Math.floor((n * vc.capacity) / 100);
  const { total } = res;
  return {
    capacity: vc.capacity,
    usedCapacity: vc.usedCapacity,
    maxCapacity: vc.maxCapacity,
    dedicated: false,
    numJobs: vc.numJobs,
    numActiveJobs: vc.numActiveJobs,
    numPendingJobs: vc.numPendingJobs,
    resourcesUsed: v2Resources(whole(res.used.get(vc.name) ?? none())),
    resourcesGuaranteed: v2Resources({ vCores: share(total.vCores), memory: share(total.memory), GPUs: share(total.GPUs) }),
    resourcesTotal: v2Resources(total),
    nodeList: [],
    status: 'RUNNING',
  };
}

export function registerVirtualClusterRoutes(app: FastifyInstance, cx: OpenPaiContext): void {
  const { service } = cx;

  /** The VCs `caller` sees: all for an admin (and the anonymous reader), `default` and its grants otherwise. */
  async function visible(caller: Caller): Promise<VirtualClusterStatus[]> {
    const all = await service.virtualClusters(caller);
    return caller.role === 'admin' ? all : all.filter((vc) => caller.virtualClusters.includes(vc.name));
  }

  async function one(caller: Caller, name: string): Promise<VirtualClusterStatus> {
    const vc = (await visible(caller)).find((v) => v.name === name);
    if (vc === undefined) throw noVirtualCluster(name.slice(0, 64));
    return vc;
  }

  const v1Caller = (request: FastifyRequest) => readerCaller(request, cx.anonymousReads);
  const resources = () => clusterResources(service, cx.memoryLimitMb);

  app.get('/api/v1/virtual-clusters', async (request) => {
    const vcs = await visible(v1Caller(request));
    const res = await resources();
    return Object.fromEntries(vcs.map((vc) => [vc.name, vcV1(vc, res)]));
  });

  app.get<{ Params: { vcName: string } }>('/api/v1/virtual-clusters/:vcName', async (request) => {
    const vc = await one(v1Caller(request), request.params.vcName);
    return vcV1(vc, await resources());
  });

  app.get('/api/v2/virtual-clusters', async (request) => {
    const vcs = await visible(tokenCaller(request));
    const res = await resources();
    return Object.fromEntries(vcs.map((vc) => [vc.name, vcV2(vc, res)]));
  });

  app.get<{ Params: { vc: string } }>('/api/v2/virtual-clusters/:vc', async (request) => {
    const vc = await one(tokenCaller(request), request.params.vc);
    return vcV2(vc, await resources());
  });

  // partial: no SKUs here, but an unknown or hidden VC is still a 404
  app.get<{ Params: { vc: string } }>('/api/v2/virtual-clusters/:vc/sku-types', async (request) => {
    await one(tokenCaller(request), request.params.vc);
    return {};
  });
}
