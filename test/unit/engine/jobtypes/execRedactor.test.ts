/**
 * exec/redactor.ts: secret values become `******` in text and in a stream of chunks, whatever the
 * chunking (a value split across chunks, even byte by byte, is caught), the longest value first,
 * values under MIN_REDACT_CHARS left alone; and a property: the stream's output is the whole text's
 * redaction and holds no value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createRedactor, MIN_REDACT_CHARS, REDACTED, type Redactor } from '../../../../engine/jobtypes/exec/redactor.ts';

/** What the stream filter passes on for `text` cut at `cuts` (byte offsets), joined. */
function streamed(r: Redactor, text: string, cuts: number[]): string {
  const bytes = Buffer.from(text, 'utf8');
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const f = r.stream();
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(f.push(bytes.subarray(from, c)));
    from = c;
  }
  out.push(f.end());
  return Buffer.concat(out).toString('utf8');
}

describe('exec redactor', () => {
  it('hides every occurrence in text; short, empty and duplicate values are ignored', () => {
    const r = createRedactor(['hunter2', 'hunter2', 'abc', '', 'pässwörd'])!;
    assert.equal(r.text('pw=hunter2 again hunter2hunter2 abc pässwörd.'), `pw=${REDACTED} again ${REDACTED}${REDACTED} abc ${REDACTED}.`);
    assert.equal(MIN_REDACT_CHARS, 4);
    assert.equal(createRedactor(['abc', '', 'x']), undefined, 'nothing long enough: no redactor');
    assert.equal(createRedactor([]), undefined);
  });

  it('the longest value wins where several start at one place; overlapping ones leftmost first', () => {
    const r = createRedactor(['abcd', 'abcdefgh', 'fghij'])!;
    assert.equal(r.text('xabcdefghijx'), `x${REDACTED}ijx`);
    assert.equal(r.text('xabcdx'), `x${REDACTED}x`);
  });

  it('a stream catches a value split across chunks, byte by byte too, and holds back only what may begin one', () => {
    const r = createRedactor(['hunter2'])!;
    const text = 'a hunter2 b hun c hunter';
    const everyByte = Array.from({ length: Buffer.byteLength(text) }, (_, i) => i);
    assert.equal(streamed(r, text, everyByte), `a ${REDACTED} b hun c hunter`);
    const f = r.stream();
    assert.equal(f.push(Buffer.from('plain text\n')).toString(), 'plain text\n', 'nothing that may begin a value: passed on at once');
    assert.equal(f.push(Buffer.from('token: hun')).toString(), 'token: ', 'a possible start is held back');
    assert.equal(f.push(Buffer.from('ter2\n')).toString(), `${REDACTED}\n`);
    assert.equal(f.push(Buffer.from('hunt')).toString(), '');
    assert.equal(f.end().toString(), 'hunt', 'the end gives back what was held');
  });

  it('a longer value still arriving is waited for rather than a shorter one taken', () => {
    const r = createRedactor(['abcd', 'abcdefgh'])!;
    const f = r.stream();
    assert.equal(f.push(Buffer.from('xabcde')).toString(), 'x');
    assert.equal(Buffer.concat([f.push(Buffer.from('fgh!')), f.end()]).toString(), `${REDACTED}!`);
  });

  it('property: streamed in any chunks, the output is the text\'s redaction and holds no value', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', 'é', '\n', ' ');
    const word = fc.array(alphabet, { minLength: 4, maxLength: 8 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 3 }), fc.array(fc.oneof(alphabet, word), { maxLength: 40 }), fc.array(fc.nat(400), { maxLength: 20 }), (values, parts, cuts) => {
        const r = createRedactor(values)!;
        const text = parts.join('');
        const whole = r.text(text);
        assert.equal(streamed(r, text, cuts), whole);
        // the mask has no letters of the alphabet, so a value left in the output would be a leak
        for (const v of values) assert.ok(!whole.includes(v), `${JSON.stringify(v)} in ${JSON.stringify(whole)}`);
      }),
      { numRuns: 500 },
    );
  });
});
