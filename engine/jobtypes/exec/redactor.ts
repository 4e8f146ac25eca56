/**
 * Hides secret values in what an `exec` instance says (its task logs, its `stderrTail`, error
 * messages): every occurrence of a value becomes `******`. Values match as UTF-8 bytes, the longest
 * first where several start at one place, leftmost first where they overlap. A stream of chunks is
 * redacted as if it came whole: bytes that may begin a value are held back until the next chunk (or
 * the end) shows whether they do, so a value split across chunks is caught too.
 */
import type { OutputFilter } from '../sandboxTask.ts';

/** What a hidden value reads as. */
export const REDACTED = '******';
/**
 * Values shorter than this (in characters) are not hidden: replacing every `1` or `yes` of an
 * output would wipe it and hide nothing worth hiding.
 */
export const MIN_REDACT_CHARS = 4;

const MASK = Buffer.from(REDACTED);

export interface Redactor {
  /** `text` with every value hidden. */
  text(text: string): string;
  /** A filter for one output stream (chunks in, redacted chunks out; `end` gives what it held back). */
  stream(): OutputFilter;
}

/** A redactor of `values` (empty ones, those under MIN_REDACT_CHARS and duplicates ignored), or undefined when none is left. */
export function createRedactor(values: readonly string[]): Redactor | undefined {
  const secrets = [...new Set(values.filter((v) => typeof v === 'string' && v.length >= MIN_REDACT_CHARS))]
    .map((v) => Buffer.from(v, 'utf8'))
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return undefined;
  const first = new Uint8Array(256);
  for (const s of secrets) first[s[0]!] = 1;

  /**
   * Redacts `buf` from its start; without `final`, stops at the first place where a value may begin
   * but the buffer ends before it could be told (that rest is returned to be scanned with more).
   */
  function scan(buf: Buffer, final: boolean): { out: Buffer; rest: Buffer } {
    const out: Buffer[] = [];
    let from = 0;
    let pos = 0;
    while (pos < buf.length) {
      if (first[buf[pos]!] === 0) {
        pos++;
        continue;
      }
      const left = buf.length - pos;
      // a longer value may still match here once more comes: wait for it rather than take a shorter one
      if (!final && secrets.some((s) => s.length > left && buf.compare(s, 0, left, pos, buf.length) === 0)) break;
      const hit = secrets.find((s) => s.length <= left && buf.compare(s, 0, s.length, pos, pos + s.length) === 0);
      if (hit === undefined) {
        pos++;
        continue;
      }
      out.push(buf.subarray(from, pos), MASK);
      pos += hit.length;
      from = pos;
    }
    out.push(buf.subarray(from, pos));
    return { out: out.length === 1 ? out[0]! : Buffer.concat(out), rest: buf.subarray(pos) };
  }

  return {
    text: (text) => scan(Buffer.from(text, 'utf8'), true).out.toString('utf8'),
    stream() {
      let held: Buffer = Buffer.alloc(0);
      return {
        push(chunk) {
          const { out, rest } = scan(held.length === 0 ? chunk : Buffer.concat([held, chunk]), false);
          held = Buffer.from(rest); // a copy: the caller may reuse its chunk
          return out;
        },
        end() {
          const { out } = scan(held, true);
          held = Buffer.alloc(0);
          return out;
        },
      };
    },
  };
}
