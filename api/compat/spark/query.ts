/** Query parameters the way akka-http's unmarshallers read them, with its rejection text. */
import { SparkError } from './errors.ts';

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** akka-http's Boolean: true/yes/on/1, false/no/off/0 (any case); undefined when absent. */
export function parseBool(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  const s = String(v).toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw malformed(name, String(v), 'is not a valid Boolean value');
}

/** akka-http's Int, then our range. */
export function parseIntParam(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!/^-?\d{1,10}$/.test(s)) throw malformed(name, s, 'is not a valid 32-bit signed integer value');
  const n = Number(s);
  if (n < min || n > max) throw new SparkError(400, `The query parameter '${name}' must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** One value of a query parameter (a repeated one is refused rather than guessed). */
export function single(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new SparkError(400, `The query parameter '${name}' was given more than once`);
  return String(v);
}

/**
 * What a POST route does under akka's overrideMethodWithParameter("_method"), which the original
 * wraps every route in: `_method=DELETE` in any case (the first when repeated) is the path's DELETE;
 * any other method than POST is one the path does not take (404, as a wrong method), never a POST.
 */
export function postOrDelete(query: Record<string, unknown>): 'POST' | 'DELETE' {
  const v = query['_method'];
  if (v === undefined) return 'POST';
  const method = String(Array.isArray(v) ? v[0] : v).toUpperCase();
  if (method === 'POST' || method === 'DELETE') return method;
  throw new SparkError(404, 'The requested resource could not be found.');
}

const malformed = (name: string, value: string, why: string) =>
  new SparkError(400, `The query parameter '${name}' was malformed:\n'${value.slice(0, 80)}' ${why}`);
