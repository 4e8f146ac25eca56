/**
 * `job_master/info` and `job_worker/info`: start time, uptime, version, a configuration map and the
 * workers as Alluxio's WorkerInfo (seed 000 "Definitions"). Our workers have no block storage: the
 * byte counts are 0 and the ports those of the facade's worker listener are unknown (0).
 */
import type { WorkerView } from '../../../engine/index.ts';

/** This process's start, in epoch ms. */
const STARTED_AT_MS = Date.now() - Math.round(process.uptime() * 1000);

export function processInfo(info: { version: string; limits: { runningJobCapacity: number; waitingJobCapacity: number } }, _raw: boolean) {
  return {
    configuration: {
      'alluxio.version': info.version,
      'alluxio.job.master.job.capacity': String(info.limits.waitingJobCapacity),
      'alluxio.job.master.running.job.capacity': String(info.limits.runningJobCapacity),
    },
    startTimeMs: STARTED_AT_MS,
    uptimeMs: Date.now() - STARTED_AT_MS,
    version: info.version,
  };
}

/** A stable int64-ish id for a worker id (Alluxio worker ids are numbers). */
function numericId(id: string): number {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 2 ** 48;
  return h;
}

export function workerInfo(w: WorkerView) {
  return {
    id: numericId(w.id),
    address: { host: w.host, containerHost: '', rpcPort: 0, dataPort: 0, webPort: 0, domainSocketPath: '', tieredIdentity: { tiers: [{ tierName: 'host', value: w.host }] } },
    lastContactSec: 0,
    state: w.state === 'ACTIVE' ? 'In Service' : 'Decommissioned',
    capacityBytes: 0,
    usedBytes: 0,
    capacityBytesOnTiers: {},
    usedBytesOnTiers: {},
    blockCount: 0,
    startTimeMs: Date.parse(w.registeredAt),
    version: '',
    revision: '',
  };
}

