/** Heartbeats of coordinators and workers (KV bucket `liveness`, keys coord.<id> / worker.<id>). */
export type ProcessKind = 'coord' | 'worker';

export interface LivenessEntry {
  kind: ProcessKind;
  id: string;
  /** Revision of the key; a change means the process is alive. */
  revision: number;
  info: Record<string, unknown>;
  /** Observer's monotonic time (Clock.monotonic) when the revision last changed. */
  seenAtMonotonic: number;
}

export interface Liveness {
  beat(kind: ProcessKind, id: string, info: Record<string, unknown>): Promise<void>;
  /** Remove the key (clean leave). */
  leave(kind: ProcessKind, id: string): Promise<void>;
  /** Current view, with staleness judged by the observer's own monotonic clock. */
  entries(): LivenessEntry[];
  /** Entries whose revision has changed within `timeoutMs` as observed locally. */
  alive(kind: ProcessKind, timeoutMs: number): LivenessEntry[];
  close(): Promise<void>;
}
