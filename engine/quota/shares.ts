/**
 * Virtual-cluster shares: how many running-job slots each virtual cluster (VC) is guaranteed and
 * may borrow up to. Pure arithmetic, shared by the coordinator (claiming) and the job service
 * (reporting usage).
 */

/** A named pool of the cluster's running-job slots, in percent of the total. */
export interface VirtualClusterDef {
  name: string;
  /** Guaranteed share in percent (0–100). */
  capacity: number;
  /** Share it may borrow up to when others leave slots idle, in percent (capacity–100). */
  maxCapacity: number;
  description?: string;
}

/** The VC that jobs without one (or whose VC was deleted) run under. */
export const DEFAULT_VIRTUAL_CLUSTER = 'default';

/**
 * The defined VCs plus an implicit `default` (unless defined) that gets what the others leave:
 * capacity = max(0, 100 − Σ others' capacity), maxCapacity 100.
 */
export function effectiveClusters(defined: readonly VirtualClusterDef[]): VirtualClusterDef[] {
  const out = defined.map((d) => ({ ...d }));
  if (out.some((d) => d.name === DEFAULT_VIRTUAL_CLUSTER)) return out;
  const taken = out.reduce((sum, d) => sum + clampPercent(d.capacity), 0);
  out.push({ name: DEFAULT_VIRTUAL_CLUSTER, capacity: Math.max(0, 100 - taken), maxCapacity: 100 });
  return out;
}

/** Slots of one VC: `guaranteed` ≤ `max` ≤ total slots. */
export interface VcSlots {
  guaranteed: number;
  max: number;
}

/**
 * Slots per VC out of `totalSlots`: floors of the percentages, `max` at least 1 when
 * maxCapacity > 0 (a VC allowed to run never starves on rounding), `guaranteed` ≤ `max`.
 * If the capacities add up to more than 100 % (a misconfiguration), guarantees are scaled down
 * so that Σ guaranteed ≤ totalSlots still holds.
 */
export function vcSlots(defs: readonly VirtualClusterDef[], totalSlots: number): Map<string, VcSlots> {
  const total = Number.isFinite(totalSlots) ? Math.max(0, Math.floor(totalSlots)) : 0;
  const capSum = defs.reduce((sum, d) => sum + clampPercent(d.capacity), 0);
  const scale = capSum > 100 ? 100 / capSum : 1;
  const out = new Map<string, VcSlots>();
  for (const d of defs) {
    const maxPct = clampPercent(d.maxCapacity);
    const max = maxPct > 0 ? Math.min(total, Math.max(1, percentOf(maxPct, total))) : 0;
    const guaranteed = Math.min(max, percentOf(clampPercent(d.capacity) * scale, total));
    out.set(d.name, { guaranteed, max });
  }
  return out;
}

function clampPercent(p: number): number {
  return Number.isFinite(p) ? Math.min(100, Math.max(0, p)) : 0;
}

/** floor(pct % of total), tolerant of float noise such as 29.999999 for 30 %. */
function percentOf(pct: number, total: number): number {
  return Math.floor((pct * total) / 100 + 1e-9);
}

/**
 * `vcSlots` of the current definitions, recomputed only when the definitions (by identity) or the
 * total change: a claim pass reads it every time. `default` is added when the list lacks it (jobs of
 * undefined VCs run under its share).
 */
export function cachedSlots(virtualClusters: () => readonly VirtualClusterDef[]): (totalSlots: number) => Map<string, VcSlots> {
  let cache: { defs: readonly VirtualClusterDef[]; total: number; slots: Map<string, VcSlots> } | undefined;
  return (total) => {
    const raw = virtualClusters();
    if (cache?.defs !== raw || cache.total !== total) {
      const defs = raw.some((d) => d.name === DEFAULT_VIRTUAL_CLUSTER) ? raw : effectiveClusters(raw);
      cache = { defs: raw, total, slots: vcSlots(defs, total) };
    }
    return cache.slots;
  };
}
