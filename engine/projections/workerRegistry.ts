import type { WorkerEvent, WorkerInfo } from '../../actors/events.ts';
import type { LogRecord } from '../eventlog/eventLog.ts';

export interface WorkerEntry {
  info: WorkerInfo;
  state: 'ACTIVE' | 'DRAINING' | 'LEFT';
  registeredAt: string;
  lastSeq: number;
}

/** Every worker's registration, from its `worker.<id>.ev` records: ACTIVE, then DRAINING, then LEFT. */
export function createWorkerRegistry(initial: Iterable<[string, WorkerEntry]> = []) {
  const workers = new Map<string, WorkerEntry>(initial);
  return {
    apply(id: string, ev: WorkerEvent, r: LogRecord): void {
      const w = workers.get(id);
      if (ev.type === 'WorkerRegistered') {
        workers.set(id, { info: ev.data, state: 'ACTIVE', registeredAt: ev.meta.at, lastSeq: r.seq });
      } else if (w) {
        w.state = ev.type === 'WorkerDraining' ? (w.state === 'LEFT' ? 'LEFT' : 'DRAINING') : 'LEFT';
        w.lastSeq = r.seq;
      }
    },
    values: () => workers.values(),
    /** By worker id, in registration order. */
    entries: () => workers.entries(),
  };
}
