import type { JobEntry, JobProjection } from '../projections/jobProjection.ts';
import type { EffectiveRule } from './retentionRules.ts';

/** One job a pass compacts or removes. */
export type RetentionAction = { kind: 'compact' | 'remove'; entry: JobEntry };

interface TerminalFacts {
  type: string;
  finishedAtMs: number;
  compacted: boolean;
}

function factsOf(e: JobEntry): TerminalFacts {
  const c = e.snapshot.context as { type: string; finishedAt?: string; compacted?: boolean };
  const finishedAtMs = c.finishedAt === undefined ? NaN : Date.parse(c.finishedAt);
  return { type: c.type, finishedAtMs, compacted: c.compacted === true };
}

/**
 * Picks this pass's work from the projection, synchronously (the projection cannot change
 * meanwhile): removals by age or count, else compactions. "Newest" is submission order.
 */
export function planPass(
  projection: JobProjection,
  ruleOf: (type: string) => EffectiveRule,
  nowMs: number,
  opts: { writer: boolean; limit: number },
): RetentionAction[] {
  // terminal jobs per type, for count limits (only counted when some rule has one)
  const totals = new Map<string, number>();
  for (const e of projection.terminal()) {
    const type = (e.snapshot.context as { type: string }).type;
    if (ruleOf(type).maxCount > 0) totals.set(type, (totals.get(type) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  const out: RetentionAction[] = [];
  for (const e of projection.terminal()) {
    if (out.length >= opts.limit) break;
    const f = factsOf(e);
    const rule = ruleOf(f.type);
    let overCount = false;
    if (rule.maxCount > 0) {
      const i = (seen.get(f.type) ?? 0) + 1; // 1-based position, oldest first
      seen.set(f.type, i);
      overCount = (totals.get(f.type) ?? 0) - i >= rule.maxCount;
    }
    const age = nowMs - f.finishedAtMs; // NaN (no finishedAt) matches no time rule
    if (overCount || (rule.maxAgeMs > 0 && age >= rule.maxAgeMs)) out.push({ kind: 'remove', entry: e });
    else if (opts.writer && !f.compacted && age >= rule.compactAfterMs) out.push({ kind: 'compact', entry: e });
  }
  return out;
}
