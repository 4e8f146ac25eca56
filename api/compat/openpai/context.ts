/** What every OpenPAI route module is given. */
import type { Config, DocumentStore, Identity, JobService, TaskLogs } from '../../../engine/index.ts';

export type OpenPaiConfig = Pick<Config, 'openpaiPort' | 'openpaiAnonymousReads' | 'facadeHost' | 'host' | 'scriptMemoryLimitMb' | 'tokenTtlMs' | 'tokenMaxTtlMs' | 'loginRateLimitPerMinute' | 'loginRateLimitPerAddressPerMinute'>;

export interface OpenPaiContext {
  service: JobService;
  identity: Identity;
  documents: DocumentStore;
  /** The instances' output (absent: the log routes answer NoTaskLogError). */
  taskLogs?: TaskLogs;
  /** Whether tokenless v1 reads are answered (config `openpaiAnonymousReads`, `auto` resolved). */
  anonymousReads: boolean;
  /** The `scriptMemoryLimitMb` setting: the most memory an instance gets, whatever it asks. */
  memoryLimitMb: number;
  tokenTtlMs: number;
  tokenMaxTtlMs: number;
  loginRateLimitPerMinute: number;
  loginRateLimitPerAddressPerMinute: number;
}
