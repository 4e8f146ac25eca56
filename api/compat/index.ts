/**
 * The seed facades this build has, and which of them a configuration serves (docs/compat.md):
 * each on its own ports, and under `/compat/<name>/` on the API port unless it has auth `none`
 * while the API port listens beyond loopback (then only on its own ports, with a warning).
 */
import { isLoopbackHost, type Config, type Logger } from '../../engine/index.ts';
import { alluxioFacade } from './alluxio/index.ts';
import { openpaiFacade } from './openpai/index.ts';
import { sparkFacade } from './spark/index.ts';
import { terasliceFacade } from './teraslice/index.ts';
import type { Facade } from './facade.ts';

export type { Facade } from './facade.ts';

/** The facades switched on by `config`. */
export function enabledFacades(config: Readonly<Config>): Facade[] {
  const out: Facade[] = [];
  if (config.alluxioFacade) out.push(alluxioFacade(config));
  if (config.terasliceFacade) out.push(terasliceFacade(config));
  if (config.sparkFacade) out.push(sparkFacade(config));
  if (config.openpaiFacade) out.push(openpaiFacade(config));
  return out;
}

/** Those of `facades` that may be mounted under `/compat/` on the API port. */
export function mountableFacades(facades: readonly Facade[], config: Pick<Config, 'host' | 'facadeAllowUnauthenticated'>, logger?: Pick<Logger, 'warn'>): Facade[] {
  return facades.filter((f) => {
    if (f.auth.mode !== 'none' || isLoopbackHost(config.host) || config.facadeAllowUnauthenticated) return true;
    logger?.warn({ facade: f.name, host: config.host }, `facade ${f.name} has auth none: not mounted under /compat/${f.name}/ on an API port beyond loopback (set its auth, or facadeAllowUnauthenticated)`);
    return false;
  });
}
