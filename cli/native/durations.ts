/**
 * Durations and moments as flags take them: `500ms`, `30s`, `15m`, `2h`, `7d` (a bare number is
 * seconds); `--since` also takes an ISO-8601 time with a zone.
 */
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?$/;
const ZONED_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** commander's parser of a duration flag, in milliseconds. */
export function durationMs(value: string): number {
  const m = DURATION_RE.exec(value.trim());
  if (m === null) throw new InvalidArgumentError('a duration such as 500ms, 30s, 15m, 2h or 7d');
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}

/** commander's parser of `--since`: a duration ago or a zoned time, as epoch milliseconds at `nowMs`. */
export function sinceMs(nowMs: number) {
  return (value: string): number => {
    if (ZONED_TIME_RE.test(value)) {
      const t = Date.parse(value);
      if (!Number.isNaN(t)) return t;
    }
    try {
      return nowMs - durationMs(value);
    } catch {
      throw new InvalidArgumentError('a duration ago (30m, 2h, 7d) or a time with a zone (2026-12-05T17:00:00Z)');
    }
  };
}
