import { createJobTypeRegistry, builtinJobTypes } from '/work/main/engine/jobtypes/registry.ts';
const r = createJobTypeRegistry(builtinJobTypes());
console.log(r.names());
const roots = { dataDir: '/tmp', cacheDir: '/tmp' };
for (const [n, s] of [['load', { path: 'x', foo: 1 }], ['load', {}], ['load', { path: 'x', batchSize: 0 }], ['load', { path: 'a\u0001' }], ['sleep', { ms: '5' }], ['nope', {}], ['load', null]] as const) {
  try { r.validateSpec(n, s, roots); console.log('ok', n); } catch (e) { console.log((e as Error & {code: string}).code, (e as Error).message, JSON.stringify((e as {details?: unknown}).details)); }
}
