/**
 * Virtual clusters and the users' grants of them: a grant must name an existing VC, and deleting a
 * VC removes (best effort) every grant of it. The definitions themselves: virtualClusters.ts.
 */
import type { ControlStore } from '../controlstore/controlStore.ts';
import { AppError } from '../errors.ts';
import type { IdentityContext } from './context.ts';
import type { Identity, UserRecord } from './types.ts';
import type { UserRecords } from './userRecords.ts';
import { createVirtualCluster, deleteVirtualCluster, updateVirtualCluster, virtualClusterDefs, virtualClusterExists } from './virtualClusters.ts';

/** The granted VCs, deduplicated and sorted; VIRTUAL_CLUSTER_NOT_FOUND when one does not exist. */
export function checkGrants(store: ControlStore, names: readonly string[]): string[] {
  const unique = [...new Set(names)];
  for (const vc of unique) {
    if (!virtualClusterExists(store, vc)) throw new AppError('VIRTUAL_CLUSTER_NOT_FOUND', `no virtual cluster ${vc}`);
  }
  return unique.sort();
}

export type VirtualClusterAdmin = Pick<Identity, 'listVirtualClusters' | 'createVirtualCluster' | 'updateVirtualCluster' | 'deleteVirtualCluster'>;

export function createVirtualClusterAdmin(cx: IdentityContext, users: UserRecords): VirtualClusterAdmin {
  const { store, logger } = cx;
  return {
    listVirtualClusters() {
      return virtualClusterDefs(store);
    },

    createVirtualCluster(def) {
      return createVirtualCluster(store, def);
    },

    updateVirtualCluster(name, patch) {
      return updateVirtualCluster(store, name, patch);
    },

    async deleteVirtualCluster(name) {
      await deleteVirtualCluster(store, name, cx.hasUnfinishedJobs);
      for (const { value } of store.list<UserRecord>('user.')) {
        if (!value.virtualClusters.includes(name)) continue;
        try {
          await users.mutateUser(value.name, (u) => ({ ...u, virtualClusters: u.virtualClusters.filter((vc) => vc !== name) }));
        } catch (err) {
          logger.warn({ err, user: value.name, virtualCluster: name }, 'could not remove a grant of a deleted virtual cluster');
        }
      }
    },
  };
}
