/** Deterministic task id for the `index`-th planned task: `t00000`, `t00001`, … (wider past 99999). */
export function formatTaskId(index: number): string {
  return `t${String(index).padStart(5, '0')}`;
}
