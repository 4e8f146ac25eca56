import type { DataGeneratorConfig, OpConfig } from './opTypes.ts';

/**
 * Records per data_generator slice, as standard-assets' slicer picks it: the last operation's
 * `size` when it has one, else the generator's own `size` (a once job never cuts a slice larger
 * than its total). We have no APIs with a size, so Teraslice's middle rule (the size of the API the
 * last op names) does not arise.
 */
export function generatorSliceSize(spec: { lifecycle: 'once' | 'persistent'; operations: readonly OpConfig[] }): number {
  const gen = spec.operations[0] as DataGeneratorConfig;
  const last = spec.operations.at(-1) as { size?: unknown } | undefined;
  const size = typeof last?.size === 'number' && spec.operations.length > 1 ? last.size : gen.size;
  return spec.lifecycle === 'once' ? Math.min(size, gen.size) : size;
}
