/**
 * The HOCON that Spark Jobserver's `POST /jobs` takes as a job config (`input.string = a b c a b see`,
 * or JSON), parsed without side effects (docs/decisions/0010-hocon-parser.md): the syntax of HOCON.md
 * as Typesafe config reads it, with `include` and `${…}` substitutions refused on purpose, since they
 * read files, URLs and the environment. The parser imports nothing and touches no I/O.
 *
 * Objects in the result have a null prototype, so any key (`__proto__`, `constructor`) is plain data
 * and JSON.stringify gives the config as JSON. Copy them with spread or structuredClone, never with
 * Object.assign onto an ordinary object (that would run the `__proto__` setter).
 *
 * Safety: one pass over indices (linear time, no regular expressions), nesting limited to
 * MAX_HOCON_DEPTH before recursing, error messages that quote at most 40 characters of the input.
 * Departures from Typesafe config, for JSON's sake: an integer too big for a Java long stays a
 * number (Typesafe: a string), a number beyond a double's range (`1e400`) is an error.
 */

/** Objects and arrays may nest this deep below the root; deeper is a HoconError, not a stack overflow. */
export const MAX_HOCON_DEPTH = 64;

export type HoconValue = string | number | boolean | null | HoconValue[] | HoconObject;
export interface HoconObject {
  [key: string]: HoconValue;
}

/** A config text that is not valid (or uses a refused feature); `message` is `line L, column C: reason`. */
export class HoconError extends Error {
  override readonly name = 'HoconError';
  constructor(
    /** What is wrong, without the position. */
    readonly reason: string,
    /** 1-based line of the offending character. */
    readonly line: number,
    /** 1-based column, in code points. */
    readonly col: number,
  ) {
    super(`line ${line}, column ${col}: ${reason}`);
  }
}

/**
 * Parses a HOCON (or JSON) config document whose root is an object, braces optional.
 * Duplicate keys merge as in HOCON: a later object merges into an earlier object, anything else
 * replaces; `+=` appends to an array (creating it). Throws HoconError for text that is not valid
 * HOCON and for the refused features (`include`, `${…}`, nesting deeper than MAX_HOCON_DEPTH).
 */
export function parseHocon(text: string): HoconObject {
  const c: Cursor = { text, pos: 0 };
  const root = newObject();
  skipBlank(c);
  const ch = c.text.charCodeAt(c.pos);
  if (ch === OPEN_SQUARE) fail(c, c.pos, 'the config root must be an object, not an array');
  if (ch === OPEN_CURLY) {
    parseObject(c, 0, root);
    skipBlank(c);
    if (c.pos < text.length) fail(c, c.pos, `unexpected ${describe(c.text, c.pos)} after the root object`);
  } else {
    parseFields(c, root, 0, -1);
  }
  return root;
}

interface Cursor {
  readonly text: string;
  pos: number;
}

const NEWLINE = 10;
const QUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const PLUS = 43;
const COMMA = 44;
const SLASH = 47;
const COLON = 58;
const EQUALS = 61;
const OPEN_SQUARE = 91;
const BACKSLASH = 92;
const CLOSE_SQUARE = 93;
const OPEN_CURLY = 123;
const CLOSE_CURLY = 125;

/** Characters that end an unquoted string (HOCON.md); outside quotes only some of them mean anything. */
const RESERVED = new Uint8Array(128);
for (const ch of '$"{}[]:=,+#`^?!@*&\\') RESERVED[ch.charCodeAt(0)] = 1;

/** Whitespace other than '\n', as Typesafe config has it (Java's whitespace plus the no-break spaces and BOM). */
function isSpace(ch: number): boolean {
  if (ch < 128) return ch === 32 || (ch >= 9 && ch <= 13 && ch !== NEWLINE) || (ch >= 0x1c && ch <= 0x1f);
  return (
    ch === 0xa0 || ch === 0x1680 || (ch >= 0x2000 && ch <= 0x200a) || ch === 0x2028 || ch === 0x2029 ||
    ch === 0x202f || ch === 0x205f || ch === 0x3000 || ch === 0xfeff
  );
}

function isDigit(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}

function isCommentStart(text: string, i: number): boolean {
  const ch = text.charCodeAt(i);
  return ch === HASH || (ch === SLASH && text.charCodeAt(i + 1) === SLASH);
}

/** Whether text[i] may be part of an unquoted string (false past the end). */
function isUnquotedChar(text: string, i: number): boolean {
  const ch = text.charCodeAt(i);
  if (Number.isNaN(ch) || ch === NEWLINE || isSpace(ch)) return false;
  if (ch < 128 && RESERVED[ch] === 1) return false;
  return !(ch === SLASH && text.charCodeAt(i + 1) === SLASH);
}

function newObject(): HoconObject {
  return Object.create(null) as HoconObject;
}

function isObject(v: HoconValue | undefined): v is HoconObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- skipping -------------------------------------------------------------------------------------

function skipSpaces(c: Cursor): void {
  while (isSpace(c.text.charCodeAt(c.pos))) c.pos++;
}

/** Skips whitespace and comments on the current line (a comment runs up to, not over, its '\n'). */
function skipInline(c: Cursor): void {
  for (;;) {
    skipSpaces(c);
    if (!isCommentStart(c.text, c.pos)) return;
    const nl = c.text.indexOf('\n', c.pos);
    c.pos = nl < 0 ? c.text.length : nl;
  }
}

/** Skips whitespace, comments and newlines. */
function skipBlank(c: Cursor): void {
  for (;;) {
    skipInline(c);
    if (c.text.charCodeAt(c.pos) !== NEWLINE) return;
    c.pos++;
  }
}

/** After a field or element: newlines and at most one comma separate; true if any was seen. */
function skipSeparator(c: Cursor): boolean {
  let sawNewline = false;
  for (;;) {
    skipInline(c);
    const ch = c.text.charCodeAt(c.pos);
    if (ch === COMMA) {
      c.pos++;
      return true;
    }
    if (ch !== NEWLINE) return sawNewline;
    c.pos++;
    sawNewline = true;
  }
}

// ---- objects and fields -----------------------------------------------------------------------------

/** Parses `{ … }` at c.pos into `target` (an existing object when merging), which sits at `depth`. */
function parseObject(c: Cursor, depth: number, target: HoconObject): HoconObject {
  if (depth > MAX_HOCON_DEPTH) tooDeep(c, c.pos);
  const open = c.pos;
  c.pos++;
  parseFields(c, target, depth, open);
  return target;
}

/** Fields up to the `}` matching the '{' at `open`, or to the end of the input when `open` is -1 (the root). */
function parseFields(c: Cursor, target: HoconObject, depth: number, open: number): void {
  for (;;) {
    skipBlank(c);
    const ch = c.text.charCodeAt(c.pos);
    if (Number.isNaN(ch)) {
      if (open >= 0) fail(c, open, "this '{' is never closed");
      return;
    }
    if (ch === CLOSE_CURLY) {
      if (open < 0) fail(c, c.pos, "unbalanced '}' with no '{' to close");
      c.pos++;
      return;
    }
    parseField(c, target, depth);
    if (!skipSeparator(c)) {
      const next = c.text.charCodeAt(c.pos);
      if (next === CLOSE_CURLY || Number.isNaN(next)) continue;
      unexpected(c, open >= 0 ? "expected ',', a newline or '}' after the value" : "expected ',' or a newline after the value");
    }
  }
}

/** One `key = value`, `key : value`, `key += value` or `key { … }` into `target`. */
function parseField(c: Cursor, target: HoconObject, depth: number): void {
  const keyPos = c.pos;
  const path = parseKey(c);
  skipBlank(c);
  const opPos = c.pos;
  const op = c.text.charCodeAt(c.pos);
  let append = false;
  if (op === EQUALS || op === COLON) c.pos++;
  else if (op === PLUS && c.text.charCodeAt(c.pos + 1) === EQUALS) {
    c.pos += 2;
    append = true;
  } else if (op !== OPEN_CURLY) unexpected(c, `expected '=', ':' or '{' after key ${quoteKey(path)}`);
  skipBlank(c);

  // a.b.c = v is a { b { c = v } }: walk into (or make) the objects on the way.
  let obj = target;
  for (let i = 0; i < path.length - 1; i++) {
    if (depth + i + 1 > MAX_HOCON_DEPTH) tooDeep(c, keyPos);
    const key = path[i] as string;
    const existing = obj[key];
    if (isObject(existing)) obj = existing;
    else obj = obj[key] = newObject();
  }
  const last = path[path.length - 1] as string;
  const valueDepth = depth + path.length;
  const existing = obj[last];
  if (append) {
    if (existing !== undefined && !Array.isArray(existing)) fail(c, opPos, `cannot append with '+=' to ${quoteKey(path)}: it is not an array`);
    if (valueDepth > MAX_HOCON_DEPTH) tooDeep(c, opPos);
    const element = parseValue(c, valueDepth + 1, undefined);
    if (existing === undefined) obj[last] = [element];
    else existing.push(element);
  } else if (op === OPEN_CURLY) {
    // `key { … }` takes one object, no concatenation (as Typesafe config).
    obj[last] = parseObject(c, valueDepth, isObject(existing) ? existing : newObject());
  } else {
    obj[last] = parseValue(c, valueDepth, isObject(existing) ? existing : undefined);
  }
}

/**
 * A key: unquoted text split at '.', quoted strings kept whole, whitespace between them kept.
 * Returns the path; the bare keyword `include` is refused.
 */
function parseKey(c: Cursor): string[] {
  const start = c.pos;
  const path: string[] = [];
  let element = '';
  let quoted = false; // a quoted part may make an element legitimately empty: a."".b
  let sawToken = false;
  for (;;) {
    const ch = c.text.charCodeAt(c.pos);
    if (ch === QUOTE) {
      element += scanQuoted(c);
      quoted = true;
    } else if (isUnquotedChar(c.text, c.pos)) {
      const runStart = c.pos;
      while (isUnquotedChar(c.text, c.pos)) c.pos++;
      const run = c.text.slice(runStart, c.pos);
      if (!sawToken && run === 'include') fail(c, start, 'include is not supported');
      let from = 0;
      for (let dot = run.indexOf('.'); dot >= 0; dot = run.indexOf('.', from)) {
        element += run.slice(from, dot);
        if (element === '' && !quoted) emptyKeyPart(c, start);
        if (path.length > MAX_HOCON_DEPTH) tooDeep(c, start); // fail before a 1 MB key is split
        path.push(element);
        element = '';
        quoted = false;
        from = dot + 1;
      }
      element += run.slice(from);
    } else if (isSpace(ch) && sawToken) {
      const wsStart = c.pos;
      skipSpaces(c);
      if (c.text.charCodeAt(c.pos) !== QUOTE && !isUnquotedChar(c.text, c.pos)) break;
      element += c.text.slice(wsStart, c.pos);
      continue;
    } else {
      break;
    }
    sawToken = true;
  }
  if (!sawToken) unexpected(c, 'expected a key');
  if (element === '' && !quoted) emptyKeyPart(c, start);
  path.push(element);
  return path;
}

function emptyKeyPart(c: Cursor, pos: number): never {
  fail(c, pos, 'a key has an empty part (two dots, or a dot at an end); quote the key if the dots belong to it');
}

// ---- values ------------------------------------------------------------------------------------------

/** Whether the value on this line goes on at text[i] (false at a newline, ',', '}', ']', a comment, '=' or ':'). */
function valueContinues(text: string, i: number): boolean {
  const ch = text.charCodeAt(i);
  if (Number.isNaN(ch) || ch === NEWLINE || ch === COMMA || ch === CLOSE_CURLY || ch === CLOSE_SQUARE) return false;
  if (ch === EQUALS || ch === COLON) return false;
  return !isCommentStart(text, i);
}

/**
 * A value: one token, or a concatenation on one line. Strings, numbers, booleans and null concatenate
 * to a string with the whitespace between them as written; arrays concatenate to one array, objects
 * merge (into `into`, the earlier value of the key, if it is an object).
 */
function parseValue(c: Cursor, depth: number, into: HoconObject | undefined): HoconValue {
  const { text } = c;
  const ch = text.charCodeAt(c.pos);
  if (ch === OPEN_CURLY || ch === OPEN_SQUARE) return parseContainers(c, depth, into);
  if (!valueContinues(text, c.pos)) unexpected(c, 'expected a value');
  const start = c.pos;
  const first = scanSimple(c);
  let end = c.pos;
  let single = true;
  // Unquoted tokens stand for their own text, so until a quoted string comes the concatenation is
  // text.slice(start, end); the parts are collected only from the first quoted string on.
  let parts: string[] | undefined;
  for (;;) {
    const wsStart = c.pos;
    skipSpaces(c);
    const next = text.charCodeAt(c.pos);
    if (!valueContinues(text, c.pos)) break;
    if (next === OPEN_CURLY || next === OPEN_SQUARE) {
      fail(c, c.pos, `cannot concatenate a string and ${next === OPEN_CURLY ? 'an object' : 'an array'} (quote the value if the '${String.fromCharCode(next)}' is part of it)`);
    }
    if (single && first.quoted) parts = [first.value as string];
    single = false;
    const tokenStart = c.pos;
    const token = scanSimple(c);
    if (parts !== undefined) parts.push(text.slice(wsStart, tokenStart), token.quoted ? (token.value as string) : text.slice(tokenStart, c.pos));
    else if (token.quoted) parts = [text.slice(start, tokenStart), token.value as string];
    end = c.pos;
  }
  if (single) return first.value;
  return parts === undefined ? text.slice(start, end) : parts.join('');
}

/** `{…} {…}` or `[…] […]` on one line: the objects merge, the arrays join. */
function parseContainers(c: Cursor, depth: number, into: HoconObject | undefined): HoconValue {
  const open = c.text.charCodeAt(c.pos);
  const result = open === OPEN_CURLY ? parseObject(c, depth, into ?? newObject()) : parseArray(c, depth);
  for (;;) {
    skipSpaces(c);
    const next = c.text.charCodeAt(c.pos);
    if (next === open) {
      if (Array.isArray(result)) for (const v of parseArray(c, depth)) result.push(v);
      else parseObject(c, depth, result);
    } else if (!valueContinues(c.text, c.pos)) {
      return result;
    } else {
      const what = open === OPEN_CURLY ? 'an object' : 'an array';
      const other = next === OPEN_CURLY ? 'an object' : next === OPEN_SQUARE ? 'an array' : 'a string';
      fail(c, c.pos, `cannot concatenate ${what} and ${other}`);
    }
  }
}

function parseArray(c: Cursor, depth: number): HoconValue[] {
  if (depth > MAX_HOCON_DEPTH) tooDeep(c, c.pos);
  const open = c.pos;
  c.pos++;
  const items: HoconValue[] = [];
  for (;;) {
    skipBlank(c);
    const ch = c.text.charCodeAt(c.pos);
    if (Number.isNaN(ch)) fail(c, open, "this '[' is never closed");
    if (ch === CLOSE_SQUARE) {
      c.pos++;
      return items;
    }
    items.push(parseValue(c, depth + 1, undefined));
    if (!skipSeparator(c)) {
      const next = c.text.charCodeAt(c.pos);
      if (Number.isNaN(next)) fail(c, open, "this '[' is never closed");
      if (next !== CLOSE_SQUARE) unexpected(c, "expected ',', a newline or ']' after an array element");
    }
  }
}

/** A token; inside a concatenation an unquoted one (number, true, …) stands for its text as written. */
interface Simple {
  value: string | number | boolean | null;
  quoted: boolean;
}

/** A quoted string, number, true/false/null or unquoted string at c.pos. */
function scanSimple(c: Cursor): Simple {
  const { text } = c;
  const start = c.pos;
  const ch = text.charCodeAt(start);
  if (ch === QUOTE) {
    return { value: scanQuoted(c), quoted: true };
  }
  if (ch === 45 /* - */ || isDigit(ch)) {
    // As Typesafe config: a run of number characters is a number if it reads as one, else text.
    let end = start;
    while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
    const raw = text.slice(start, end);
    const n = readNumber(raw);
    if (n !== undefined) {
      if (!Number.isFinite(n)) fail(c, start, 'number out of range');
      c.pos = end;
      return { value: n, quoted: false };
    }
    const plus = raw.indexOf('+');
    if (plus >= 0) reserved(c, start + plus);
    c.pos = end;
    return { value: raw, quoted: false };
  }
  if (!isUnquotedChar(text, start)) reserved(c, start);
  while (isUnquotedChar(text, c.pos)) c.pos++;
  const raw = text.slice(start, c.pos);
  const value = raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : raw;
  return { value, quoted: false };
}

function isNumberChar(ch: number): boolean {
  return isDigit(ch) || ch === 45 || ch === 43 || ch === 46 || ch === 101 || ch === 69; // - + . e E
}

/** The number `s` spells (Java's Long/Double syntax: `-`? digits, `.`, exponent; `1.` and `-.5` too), else undefined. */
function readNumber(s: string): number | undefined {
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  let digits = 0;
  while (isDigit(s.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (s.charCodeAt(i) === 46) {
    i++;
    while (isDigit(s.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  const e = s.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    const expStart = i;
    while (isDigit(s.charCodeAt(i))) i++;
    if (i === expStart) return undefined;
  }
  return i === s.length ? Number(s) : undefined;
}

/** A "…" string with JSON escapes, or a """…""" string (raw, may span lines) at c.pos. */
function scanQuoted(c: Cursor): string {
  const { text } = c;
  const start = c.pos;
  if (text.startsWith('"""', start)) {
    const end = text.indexOf('"""', start + 3);
    if (end < 0) fail(c, start, 'this """ string is never closed');
    let close = end + 3;
    while (text.charCodeAt(close) === QUOTE) close++; // quotes before the last three belong to the string
    c.pos = close;
    return text.slice(start + 3, close - 3);
  }
  const parts: string[] = [];
  let i = start + 1;
  let segment = i;
  for (;;) {
    if (i >= text.length) fail(c, start, 'this quoted string is never closed');
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      parts.push(text.slice(segment, i));
      c.pos = i + 1;
      return parts.length === 1 ? (parts[0] as string) : parts.join('');
    }
    if (ch === BACKSLASH) {
      parts.push(text.slice(segment, i), unescape(c, i));
      i += text.charCodeAt(i + 1) === 117 /* u */ ? 6 : 2;
      segment = i;
    } else if (ch < 0x20) {
      fail(c, i, ch === NEWLINE ? 'a quoted string cannot span lines (use \\n, or """ for a multi-line string)' : `a quoted string cannot contain control character ${codePoint(ch)}; escape it`);
    } else {
      i++;
    }
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** The character the escape at text[i] ('\\') stands for. */
function unescape(c: Cursor, i: number): string {
  const e = c.text.charAt(i + 1);
  if (e === 'u') {
    let code = 0;
    for (let k = i + 2; k < i + 6; k++) {
      const h = c.text.charCodeAt(k);
      const v = isDigit(h) ? h - 48 : h >= 97 && h <= 102 ? h - 87 : h >= 65 && h <= 70 ? h - 55 : -1;
      if (v < 0) fail(c, i, 'a \\u escape needs four hex digits');
      code = code * 16 + v;
    }
    return String.fromCharCode(code);
  }
  const decoded = Object.hasOwn(ESCAPES, e) ? ESCAPES[e] : undefined;
  if (decoded === undefined) {
    fail(c, i, e === '' ? 'a quoted string ends in a backslash' : `invalid escape \\${printable(c.text, i + 1)} in a quoted string (write \\\\ for a backslash)`);
  }
  return decoded;
}

// ---- errors ----------------------------------------------------------------------------------------

function fail(c: Cursor, pos: number, reason: string): never {
  const { text } = c;
  let line = 1;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < pos; nl = text.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  let col = 1;
  for (let i = lineStart; i < pos; i++) {
    const ch = text.charCodeAt(i);
    if (!(ch >= 0xdc00 && ch <= 0xdfff && i > lineStart && isHighSurrogate(text.charCodeAt(i - 1)))) col++;
  }
  throw new HoconError(reason, line, col);
}

function isHighSurrogate(ch: number): boolean {
  return ch >= 0xd800 && ch <= 0xdbff;
}

function tooDeep(c: Cursor, pos: number): never {
  fail(c, pos, `objects and arrays nest deeper than ${MAX_HOCON_DEPTH} levels`);
}

/** For a character outside quotes that has no meaning there (or starts a substitution). */
function reserved(c: Cursor, pos: number): never {
  if (c.text.charCodeAt(pos) === DOLLAR && c.text.charCodeAt(pos + 1) === OPEN_CURLY) fail(c, pos, 'substitutions are not supported (${…}); write the value itself');
  fail(c, pos, `reserved character ${printable(c.text, pos)} is not allowed outside quotes; quote the string`);
}

/** Fails at c.pos: "<expectation>, found <what is there>", or the reserved-character message. */
function unexpected(c: Cursor, expectation: string): never {
  const ch = c.text.charCodeAt(c.pos);
  if (ch === DOLLAR || (ch < 128 && RESERVED[ch] === 1 && '`^?!@*&\\+'.includes(c.text.charAt(c.pos)))) reserved(c, c.pos);
  fail(c, c.pos, `${expectation}, found ${describe(c.text, c.pos)}`);
}

function describe(text: string, i: number): string {
  if (i >= text.length) return 'the end of the input';
  return text.charCodeAt(i) === NEWLINE ? 'a newline' : printable(text, i);
}

/** One character of the input, quoted, or its code point when it would not print. */
function printable(text: string, i: number): string {
  const cp = text.codePointAt(i) ?? 0;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || isSpace(cp) || (cp >= 0xd800 && cp <= 0xdfff)) return codePoint(cp);
  return `'${String.fromCodePoint(cp)}'`;
}

function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A key path for a message: at most 40 characters of it, JSON-quoted. */
function quoteKey(path: readonly string[]): string {
  const key = path.join('.');
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}
