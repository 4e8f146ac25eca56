import { copyJobType } from './copy.ts';
import { freeJobType } from './free.ts';
import type { JobType } from './jobType.ts';
import { loadJobType } from './load.ts';
import { moveJobType } from './move.ts';
import { noopJobType } from './noop.ts';
import { persistJobType } from './persist.ts';
import { sleepJobType } from './sleep.ts';
import { terasliceJobType } from './teraslice/index.ts';

/** The built-in job types: load, free, persist, copy, move, sleep, noop, teraslice (a fresh array each call). */
export function builtinJobTypes(): JobType[] {
  return [loadJobType, freeJobType, persistJobType, copyJobType, moveJobType, sleepJobType, noopJobType, terasliceJobType];
}
