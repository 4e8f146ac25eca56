/**
 * Task ids of a teraslice job: `s000000`, `s000001`, … for the reader's slices in the order they
 * were cut, and `r000000`, … for the slices a recovery runs again, so the two never collide.
 */
const pad = (i: number): string => String(i).padStart(6, '0');

export const sliceTaskId = (index: number): string => `s${pad(index)}`;
export const rerunTaskId = (index: number): string => `r${pad(index)}`;
