/**
 * The processors: `noop` passes records through; `delay` waits `ms` once per slice (Teraslice's
 * delay waits once per batch, and a Teraslice slice is one batch); `stdout` prints records as JSON
 * lines, prefixed `[teraslice <jobId> <taskId>] `, at most `limit` (0: all) and never more than
 * STDOUT_MAX_LINES per slice, so a big slice cannot flood the worker's log.
 */
import { abortableWait } from '../taskWait.ts';
import type { ProcessorConfig } from './opTypes.ts';

/** Most lines `stdout` prints per slice. */
export const STDOUT_MAX_LINES = 1000;

export interface ProcessorIo {
  jobId: string;
  taskId: string;
  signal: AbortSignal;
  heartbeat(): void;
  /** Where stdout writes (process.stdout in production). */
  print(text: string): void;
}

/** A processor's state for one slice: called with every chunk of records, answers the chunk it passes on. */
export type ChunkProcessor = (records: Record<string, unknown>[]) => Promise<Record<string, unknown>[]>;

export function createProcessor(op: ProcessorConfig, io: ProcessorIo): ChunkProcessor {
  switch (op._op) {
    case 'noop':
      return async (records) => records;
    case 'delay': {
      let waited = false;
      return async (records) => {
        if (!waited) {
          waited = true;
          await abortableWait(op.ms, io);
        }
        return records;
      };
    }
    case 'stdout': {
      let left = op.limit === 0 ? STDOUT_MAX_LINES : Math.min(op.limit, STDOUT_MAX_LINES);
      const prefix = `[teraslice ${io.jobId} ${io.taskId}] `;
      return async (records) => {
        if (left > 0 && records.length > 0) {
          const shown = records.slice(0, left);
          left -= shown.length;
          io.print(shown.map((r) => prefix + JSON.stringify(r) + '\n').join(''));
        }
        return records;
      };
    }
  }
}

