/**
 * Job labels: `key` → `value` pairs given at submission that listings select by (`ListQuery.labels`,
 * `GET /jobs?label=k=v`), indexed by the projection so that a lookup by label reads only the jobs
 * that carry it. Facades map their own identities onto them (Alluxio EE's (type, path), a Teraslice
 * job's executions, …). Keys and values are restricted so that `k=v,k2=v2` lists parse without
 * escaping and nothing in them can make a log line or a subject lie.
 */
import { AppError } from '../errors.ts';

/** Lower-case letters, digits and `. _ / -`, starting with a letter or digit; 1..63 characters. */
export const LABEL_KEY_PATTERN = '^[a-z0-9][a-z0-9._/-]{0,62}$';
/** Letters, digits and `. _ : / @ + -`; 0..256 characters (no `=` or `,`: they separate pairs). */
export const LABEL_VALUE_PATTERN = '^[A-Za-z0-9._:/@+-]{0,256}$';
/** Most labels a job carries. */
export const MAX_LABELS = 16;

const KEY_RE = new RegExp(LABEL_KEY_PATTERN);
const VALUE_RE = new RegExp(LABEL_VALUE_PATTERN);

/** The labels as the job keeps them (keys sorted, so equal labels hash alike); throws VALIDATION_FAILED. */
export function validateLabels(labels: unknown): Record<string, string> {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw invalid('labels must be an object of strings');
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw invalid(`at most ${MAX_LABELS} labels`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!KEY_RE.test(k)) throw invalid(`label key ${JSON.stringify(k.slice(0, 80))} must match ${LABEL_KEY_PATTERN}`);
    if (typeof v !== 'string' || !VALUE_RE.test(v)) throw invalid(`label ${k} must be a string matching ${LABEL_VALUE_PATTERN}`);
    out[k] = v;
  }
  return out;
}

/** `k=v,k2=v2` (a listing's `label` parameter) as labels; throws VALIDATION_FAILED. */
export function parseLabelSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid(`label selector ${JSON.stringify(pair.slice(0, 80))} is not key=value`);
    const k = pair.slice(0, eq);
    const v = pair.slice(eq + 1);
    if (Object.hasOwn(out, k) && out[k] !== v) throw invalid(`label ${k} is selected twice with different values`);
    out[k] = v;
  }
  return validateLabels(out);
}

/** True when `have` carries every label of `wanted`. */
export function hasLabels(have: Readonly<Record<string, string>> | undefined, wanted: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(wanted)) if (have?.[k] !== v) return false;
  return true;
}

const invalid = (message: string) => new AppError('VALIDATION_FAILED', message);
