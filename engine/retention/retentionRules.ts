import { parseRetentionByType, type RetentionRule } from '../config.ts';
import type { RetentionConfig } from './retention.ts';

/** A job type's effective rule: the per-type override over the global settings. */
export interface EffectiveRule {
  compactAfterMs: number;
  /** 0 = never by age. */
  maxAgeMs: number;
  /** 0 = no count limit. */
  maxCount: number;
}

/** Resolves the rule of each job type (memoized; the overrides are parsed once). */
export function retentionRules(config: RetentionConfig): (type: string) => EffectiveRule {
  const overrides: Record<string, RetentionRule> = parseRetentionByType(config.retentionByType);
  const global: EffectiveRule = Object.freeze({
    compactAfterMs: config.compactAfterMs,
    maxAgeMs: config.retentionMaxAgeMs,
    maxCount: config.retentionMaxCount,
  });
  const cache = new Map<string, EffectiveRule>();
  return (type) => {
    let rule = cache.get(type);
    if (rule === undefined) {
      const o = Object.hasOwn(overrides, type) ? overrides[type] : undefined;
      rule = o === undefined ? global : Object.freeze({
        compactAfterMs: o.compactAfterMs ?? global.compactAfterMs,
        maxAgeMs: o.maxAgeMs ?? global.maxAgeMs,
        maxCount: o.maxCount ?? global.maxCount,
      });
      cache.set(type, rule);
    }
    return rule;
  };
}
