/**
 * Virtual-cluster (VC) definitions in the control store (`vc.<name>`): named shares of the running-job
 * capacity (OpenPAI's virtual clusters). The implicit `default` VC takes what the defined ones
 * leave (engine/quota/shares.ts `effectiveClusters`); it can be defined explicitly but not deleted.
 */
import { AppError, isAppError } from '../errors.ts';
import { controlKey, NAME_RE, type ControlStore } from '../controlstore/controlStore.ts';
import { DEFAULT_VIRTUAL_CLUSTER, type VirtualClusterDef } from '../quota/shares.ts';
import { handleCommand } from '../retry.ts';

export const VC_DESCRIPTION_MAX_LENGTH = 256;
/** Control, zero-width and bidi characters: never in a description. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_TEXT_RE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
/** Tries of a VC update in all, when other writers keep winning the CAS race. */
const MAX_CAS_ATTEMPTS = 5;

/** What may change on a VC. */
export interface VirtualClusterPatch {
  capacity?: number;
  maxCapacity?: number;
  description?: string;
}

function isDef(v: unknown): v is VirtualClusterDef {
  const d = v as Partial<VirtualClusterDef> | null;
  return (
    d !== null && typeof d === 'object' && typeof d.name === 'string' && NAME_RE.test(d.name) &&
    typeof d.capacity === 'number' && typeof d.maxCapacity === 'number' && (d.description === undefined || typeof d.description === 'string')
  );
}

/** The defined VCs (not the implicit `default`), in name order; malformed entries are skipped. */
export function virtualClusterDefs(store: ControlStore): VirtualClusterDef[] {
  return store.list<unknown>('vc.').map((e) => e.value).filter(isDef);
}

/** True for `default` and every defined VC. */
export function virtualClusterExists(store: ControlStore, name: string): boolean {
  return name === DEFAULT_VIRTUAL_CLUSTER || (NAME_RE.test(name) && store.get(`vc.${name}`) !== undefined);
}

/** Throws VALIDATION_FAILED unless 0 ≤ capacity ≤ maxCapacity ≤ 100 and the description is plain text. */
export function checkVirtualClusterDef(def: VirtualClusterDef): void {
  if (!NAME_RE.test(def.name)) throw new AppError('VALIDATION_FAILED', 'name must match ^[a-z][a-z0-9_-]{0,31}$');
  const pct = (n: number) => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 100;
  if (!pct(def.capacity) || !pct(def.maxCapacity)) throw new AppError('VALIDATION_FAILED', 'capacity and maxCapacity must be percentages between 0 and 100');
  if (def.capacity > def.maxCapacity) throw new AppError('VALIDATION_FAILED', 'capacity must not exceed maxCapacity');
  if (def.description !== undefined && (def.description.length > VC_DESCRIPTION_MAX_LENGTH || UNSAFE_TEXT_RE.test(def.description))) {
    throw new AppError('VALIDATION_FAILED', `description must be plain text of at most ${VC_DESCRIPTION_MAX_LENGTH} characters`);
  }
}

/** Σ capacity of the defined VCs, with `def` replacing its namesake, must stay ≤ 100. */
function checkTotal(store: ControlStore, def: VirtualClusterDef): void {
  const others = virtualClusterDefs(store).filter((d) => d.name !== def.name);
  const total = others.reduce((s, d) => s + d.capacity, 0) + def.capacity;
  if (total > 100 + 1e-9) {
    throw new AppError('VALIDATION_FAILED', `the capacities of all virtual clusters would add up to ${total}% (at most 100%)`);
  }
}

function normalized(def: VirtualClusterDef): VirtualClusterDef {
  const out: VirtualClusterDef = { name: def.name, capacity: def.capacity, maxCapacity: def.maxCapacity };
  if (def.description !== undefined) out.description = def.description;
  return out;
}

/** Defines a VC; VIRTUAL_CLUSTER_EXISTS if it is defined already. */
export async function createVirtualCluster(store: ControlStore, def: VirtualClusterDef): Promise<VirtualClusterDef> {
  checkVirtualClusterDef(def);
  const key = controlKey('vc', def.name);
  if (store.get(key) !== undefined) throw new AppError('VIRTUAL_CLUSTER_EXISTS', `virtual cluster ${def.name} exists`);
  checkTotal(store, def);
  const value = normalized(def);
  try {
    await store.create(key, value);
  } catch (err) {
    if (isAppError(err, 'CONFLICT')) throw new AppError('VIRTUAL_CLUSTER_EXISTS', `virtual cluster ${def.name} exists`);
    throw err;
  }
  return value;
}

/** Changes a defined VC (CAS, retried on a concurrent change). */
export async function updateVirtualCluster(store: ControlStore, name: string, patch: VirtualClusterPatch): Promise<VirtualClusterDef> {
  const key = controlKey('vc', name);
  return handleCommand(
    {
      read: () => {
        const cur = store.get<VirtualClusterDef>(key);
        if (cur === undefined || !isDef(cur.value)) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `no virtual cluster ${name}`);
        return { value: cur.value, revision: cur.revision };
      },
      decide: (cur) => {
        const next = normalized({ ...cur.value, ...patch, name });
        checkVirtualClusterDef(next);
        checkTotal(store, next);
        return { write: next };
      },
      append: async (cur, next) => {
        await store.update(key, next, cur.revision);
        return next;
      },
    },
    { attempts: MAX_CAS_ATTEMPTS },
  );
}

/**
 * Removes a VC definition. `default` cannot be removed; neither can a VC with unfinished jobs
 * (when `hasUnfinishedJobs` can tell): both VIRTUAL_CLUSTER_IN_USE.
 */
export async function deleteVirtualCluster(store: ControlStore, name: string, hasUnfinishedJobs?: (name: string) => boolean): Promise<void> {
  if (name === DEFAULT_VIRTUAL_CLUSTER) throw new AppError('VIRTUAL_CLUSTER_IN_USE', 'the default virtual cluster cannot be deleted');
  const key = controlKey('vc', name);
  if (store.get(key) === undefined) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `no virtual cluster ${name}`);
  if (hasUnfinishedJobs?.(name) === true) {
    throw new AppError('VIRTUAL_CLUSTER_IN_USE', `virtual cluster ${name} has unfinished jobs; stop them or wait until they finish`);
  }
  await store.delete(key);
}
