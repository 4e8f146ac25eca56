/**
 * Numbers printed the way Alluxio's Java CLI prints them: `String.format("%.2f")`,
 * `FormatUtils.getSizeFromBytes` and Jackson's doubles. Pure.
 */

/** Past this many of a unit, `getSizeFromBytes` moves on to the next unit (5 × 1024). */
const UNIT_SWITCH = 1024 * 5;
const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/**
 * Java's `%.2f`: HALF_UP on the shortest decimal form of the double (what Java's Formatter
 * rounds), so `1.005` prints `1.01` where `toFixed` gives `1.00`.
 */
export function javaFixed2(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  const shortest = String(Math.abs(value));
  if (shortest.includes('e')) return value.toFixed(2); // below 1e-6 or above 1e21: no half to round
  const [int = '0', frac = ''] = shortest.split('.');
  let digits = int + (frac + '00').slice(0, 2);
  if ((frac[2] ?? '0') >= '5') digits = (BigInt(digits) + 1n).toString().padStart(digits.length, '0');
  const sign = value < 0 && /[1-9]/.test(digits) ? '-' : '';
  return `${sign}${digits.slice(0, -2) || '0'}.${digits.slice(-2)}`;
}

/**
 * Alluxio's `FormatUtils.getSizeFromBytes`: up to 5120 bytes `"%dB"`, else divided by 1024 step by
 * step, `"%.2f"` and the unit, moving on only past 5120 of the current one (so 1600 MiB is
 * `1600.00MB` and 6400 MiB `6.25GB`).
 */
export function getSizeFromBytes(bytes: number): string {
  let ret = bytes;
  if (ret <= UNIT_SWITCH) return `${Math.trunc(bytes)}B`;
  for (const unit of UNITS) {
    ret /= 1024;
    if (ret <= UNIT_SWITCH) return `${javaFixed2(ret)}${unit}`;
  }
  return `${javaFixed2(ret / 1024)}PB`;
}

/**
 * A double as Jackson writes it (Java's `Double.toString`): always a fraction or an exponent, so
 * `0` is `0.0`, `100` is `100.0`, `1e7` is `1.0E7` and `1e-4` is `1.0E-4`.
 */
export function jacksonDouble(value: number): string {
  if (!Number.isFinite(value)) return 'null'; // Jackson would write NaN unquoted, which is not JSON
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(value);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(value);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa = '0', exponent = '0'] = value.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}
