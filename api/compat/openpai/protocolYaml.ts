/**
 * The YAML side of OpenPAI protocol v2 (docs/decisions/0011-yaml-parser.md): loading untrusted
 * protocol text with js-yaml 5 under hard limits, writing protocols that the SDK's js-yaml 3 reads
 * back unchanged, and masking `secrets:` in stored text as the original server did.
 *
 * Loading is two steps. js-yaml parses with JSON_SCHEMA (plain scalars typed only in JSON's forms,
 * so every js-yaml 3 `safeDump` reads back exactly) plus YAML 1.1's `<<`, refusing deep nesting,
 * many aliases and long merge chains. Then one flat walk over the result counts every value reached
 * (an aliased value each time it is reached, so billion laughs stops at the budget), refuses
 * `__proto__` / `constructor` / `prototype` keys and anything that is not JSON data, and copies it
 * into a fresh tree without shared references. Nothing else ever sees js-yaml's value.
 */
import { dump, JSON_SCHEMA, load, mergeTag, YAMLException } from 'js-yaml';
import { AppError } from '../../../engine/index.ts';

/** The original's body limit (body-parser's `text` default, 100 kB); the route answers 413 above it. */
export const MAX_PROTOCOL_CHARS = 100 * 1024;
/** Values a loaded protocol may hold once aliases are expanded (a 100 KiB body holds fewer than 60k). */
export const PROTOCOL_VALUE_BUDGET = 100_000;
/**
 * js-yaml's `maxDepth` (as api/jsonBody.ts MAX_JSON_DEPTH). It counts the document too, so text may
 * nest at most 63 mappings and sequences; the walk holds values expanded through aliases to the same.
 */
export const MAX_PROTOCOL_DEPTH = 64;
const MAX_NESTED_COLLECTIONS = MAX_PROTOCOL_DEPTH - 1;

const LOAD_OPTIONS = {
  schema: JSON_SCHEMA.withTags(mergeTag),
  maxDepth: MAX_PROTOCOL_DEPTH,
  maxAliases: 100,
  maxTotalMergeKeys: 10_000,
  json: false, // a key written twice is an error
} as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Longest part of a key quoted in an error message. */
const MAX_KEY_ECHO = 64;

/** One value to copy: where it goes (`parent[key]`), for the error path, and how deep it sits. */
interface Pending {
  value: unknown;
  parent: Pending | null;
  key: string | number;
  depth: number;
  /** The copy's container that receives this value under `key`. */
  into: Record<string, unknown> | unknown[];
}

/**
 * Parses protocol text into plain JSON data (objects with Object.prototype, arrays, strings,
 * finite numbers, booleans, null) that shares no references.
 * @throws AppError VALIDATION_FAILED: `line L, column C: reason` for YAML the parser refuses
 *   (syntax, a duplicate key, an unknown tag, a second document, an empty text, tab indentation,
 *   a NUL byte, more than 63 nested collections, more than 100 aliases, a merge chain over 10,000
 *   keys; a number js-yaml cannot hold exactly stays a string);
 *   `<path>: reason` for a value over the budget, too deep once aliases are expanded, a forbidden
 *   key, or a number out of range.
 */
export function loadProtocolYaml(text: string): unknown {
  if (typeof text !== 'string') throw invalid('the protocol must be YAML text', 'protocol');
  if (text.length > MAX_PROTOCOL_CHARS) throw invalid(`the protocol is longer than ${MAX_PROTOCOL_CHARS} characters`, 'protocol');
  let parsed: unknown;
  try {
    parsed = load(text, LOAD_OPTIONS);
  } catch (e) {
    throw yamlError(e);
  }
  return copyWithBudget(parsed);
}

/** The js-yaml error as `line L, column C: reason` (its excerpt of the body dropped); anything else without internals. */
function yamlError(e: unknown): AppError {
  if (e instanceof YAMLException) {
    const reason = typeof e.reason === 'string' && e.reason !== '' ? e.reason : 'invalid YAML';
    const mark = e.mark;
    const message = mark !== undefined && Number.isInteger(mark.line) && Number.isInteger(mark.column)
      ? `line ${mark.line + 1}, column ${mark.column + 1}: ${reason}`
      : reason;
    return new AppError('VALIDATION_FAILED', message, { details: { field: 'protocol' }, cause: e });
  }
  // e.g. a RangeError from deep recursion: the text cannot be read, whatever the cause.
  const kind = e instanceof Error ? e.name : typeof e;
  return new AppError('VALIDATION_FAILED', `the YAML cannot be read (${kind})`, { details: { field: 'protocol' }, cause: e });
}

function copyWithBudget(root: unknown): unknown {
  const holder: Record<string, unknown> = {};
  const stack: Pending[] = [{ value: root, parent: null, key: 'root', depth: 0, into: holder }];
  let seen = 0;
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (++seen > PROTOCOL_VALUE_BUDGET) {
      throw invalid(`${pathOf(top) || 'the protocol'}: more than ${PROTOCOL_VALUE_BUDGET} values once aliases are expanded`, pathOf(top));
    }
    const v = top.value;
    let copy: unknown;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') {
      copy = v;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalid(`${pathOf(top)}: the number is out of range`, pathOf(top));
      copy = v;
    } else if (Array.isArray(v)) {
      if (top.depth >= MAX_NESTED_COLLECTIONS) throw tooDeep(top);
      const arr: unknown[] = new Array<unknown>(v.length);
      // Pushed in reverse so that errors name the first offending item first.
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], parent: top, key: i, depth: top.depth + 1, into: arr });
      copy = arr;
    } else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      if (top.depth >= MAX_NESTED_COLLECTIONS) throw tooDeep(top);
      const obj: Record<string, unknown> = {};
      const keys = Object.keys(v);
      for (const k of keys) {
        if (FORBIDDEN_KEYS.has(k)) throw invalid(`${joinPath(pathOf(top), k)}: the key ${k} is not allowed`, joinPath(pathOf(top), k));
      }
      for (const k of keys) obj[k] = null; // keeps the document's key order in the copy
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i] as string;
        stack.push({ value: (v as Record<string, unknown>)[k], parent: top, key: k, depth: top.depth + 1, into: obj });
      }
      copy = obj;
    } else {
      throw invalid(`${pathOf(top) || 'the protocol'}: only mappings, sequences, strings, numbers, booleans and null are allowed`, pathOf(top));
    }
    (top.into as Record<string | number, unknown>)[top.key] = copy;
  }
  return holder.root;
}

function tooDeep(p: Pending): AppError {
  return invalid(`${pathOf(p) || 'the protocol'}: nested deeper than ${MAX_NESTED_COLLECTIONS} levels once aliases are expanded`, pathOf(p));
}

/** `taskRoles.worker.commands[0]`, built only when an error needs it. */
function pathOf(p: Pending): string {
  const parts: (string | number)[] = [];
  for (let at: Pending | null = p; at !== null && at.parent !== null; at = at.parent) parts.push(at.key);
  let out = '';
  for (let i = parts.length - 1; i >= 0; i--) {
    const k = parts[i] as string | number;
    out = typeof k === 'number' ? `${out}[${k}]` : joinPath(out, k);
  }
  return out;
}

function joinPath(base: string, key: string): string {
  const shown = key.length > MAX_KEY_ECHO ? `${key.slice(0, MAX_KEY_ECHO)}…` : key;
  const part = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(shown) ? shown : JSON.stringify(shown);
  return base === '' ? part : `${base}.${part}`;
}

function invalid(message: string, field: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { details: { field: field === '' ? 'protocol' : field } });
}

/**
 * Writes a protocol as YAML that js-yaml 3 `safeLoad` (the SDK's `getJobConfig`) reads back equal:
 * js-yaml 5's default DUMP_SCHEMA quotes every string that any YAML schema would resolve to
 * something else. No anchors (`noRefs`), no folding (`lineWidth: -1`), keys in their order.
 * @throws AppError VALIDATION_FAILED when the value holds something YAML cannot carry (undefined, a function).
 */
export function dumpProtocol(obj: unknown): string {
  try {
    return dump(obj, { lineWidth: -1, noRefs: true });
  } catch (e) {
    const reason = e instanceof YAMLException ? e.reason : 'the value cannot be written as YAML';
    throw new AppError('VALIDATION_FAILED', `protocol: ${reason}`, { details: { field: 'protocol' }, cause: e });
  }
}

/** What masked secrets read as, in text and in loaded protocols. */
export const MASKED_SECRETS = '******';
/** The original's regex (utils/protocolSecret.js): from a top-level `secrets:` line to the next top-level key. */
const SECRETS_BLOCK = /(^secrets:)[^]*?(^\w)/m;

/**
 * The protocol text with its top-level `secrets:` value replaced by `"******"`, as the original
 * server stores it for `GET …/config` (the same regex, so block-style text masks identically).
 * One step further than the original: when the result still loads to a protocol whose `secrets`
 * is not masked (flow style `{secrets: …}`, a quoted `"secrets":` key), the loaded protocol is
 * written again with `secrets: "******"`. Text that does not load is masked by the regex only.
 */
export function maskSecrets(text: string): string {
  const masked = `${text}\nZ`.replace(SECRETS_BLOCK, `$1 "${MASKED_SECRETS}"\n$2`).slice(0, -2);
  const after = tryLoad(masked);
  if (after === undefined || !hasUnmaskedSecrets(after)) return masked;
  const original = tryLoad(text);
  if (original === undefined || typeof original !== 'object' || original === null || Array.isArray(original)) return masked;
  return dumpProtocol({ ...(original as Record<string, unknown>), secrets: MASKED_SECRETS });
}

function tryLoad(text: string): unknown {
  try {
    return loadProtocolYaml(text);
  } catch {
    return undefined;
  }
}

function hasUnmaskedSecrets(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, 'secrets') && (v as Record<string, unknown>).secrets !== MASKED_SECRETS;
}
