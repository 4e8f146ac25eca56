/**
 * Finds a key written twice in one JSON object. `JSON.parse` keeps the last one silently, so
 * `{"type":"noop","type":"load"}` would be read as a load job while a proxy or log reader that keeps
 * the first sees a noop. One pass over the text, jumping from quote to quote inside strings.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let end = text.indexOf('"', start + 1); end !== -1; end = text.indexOf('"', end + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
  }
  return text.length;
}

/** True when the next character after `from` that is not JSON whitespace is a colon. */
function colonFollows(text: string, from: number): boolean {
  let i = from;
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  return text.charCodeAt(i) === COLON;
}

/** Keys of one object are compared one by one up to this many, then through a set. */
const LINEAR_KEYS = 16;

/** The key at `quote` if that string is an object key (the next token is a colon), decoded. */
function keyAt(text: string, quote: number, end: number): string | undefined {
  if (!colonFollows(text, end + 1)) return undefined;
  const raw = text.slice(quote + 1, end);
  return raw.includes('\\') ? (JSON.parse(text.slice(quote, end + 1)) as string) : raw;
}

/**
 * The first key that appears twice in one object of `text`, decoded (`"\u0074ype"` is `type`), or
 * undefined. `text` must already be well-formed JSON (this scanner does not validate).
 */
export function firstDuplicateKey(text: string): string | undefined {
  const keys: string[] = []; // keys of the open objects, innermost last
  const starts: number[] = []; // per open container: where its keys begin in `keys`; -1 for an array
  const sets = new Map<number, Set<string>>(); // by depth: the keys of an open object with many
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const start = starts.at(-1) ?? -1;
      const key = start === -1 ? undefined : keyAt(text, i, end);
      if (key !== undefined) {
        if (keys.length - start < LINEAR_KEYS) {
          for (let k = start; k < keys.length; k++) if (keys[k] === key) return key;
        } else {
          const set = sets.get(starts.length) ?? new Set(keys.slice(start));
          if (set.has(key)) return key;
          sets.set(starts.length, set.add(key));
        }
        keys.push(key);
      }
      i = end;
    } else if (c === OPEN_OBJECT) starts.push(keys.length);
    else if (c === OPEN_ARRAY) starts.push(-1);
    else if (c === CLOSE_ARRAY) starts.pop();
    else if (c === CLOSE_OBJECT) {
      sets.delete(starts.length);
      keys.length = starts.pop() ?? 0;
    }
  }
  return undefined;
}
