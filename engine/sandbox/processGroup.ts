/** Signals to a sandboxed process group: the leader and everything it started, grandchildren too. */

/**
 * Sends `signal` to the process group `pgid` (the leader's pid: it was spawned `detached`, so it
 * leads its own group). A group that is already gone is fine. A process that left the group on
 * purpose (`setsid`, `setpgid`) escapes; only a cgroup could hold it.
 * @returns whether a process received the signal.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new Error(`sandbox: refusing to signal process group ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}
