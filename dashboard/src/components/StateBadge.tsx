import type { JobState } from '../client/types.ts';

/** The state in words and colour (never colour alone). */
export function StateBadge({ state }: { state: JobState }) {
  return <span class={`state state-${state.toLowerCase()}`}>{state}</span>;
}
