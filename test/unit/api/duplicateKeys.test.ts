/**
 * A key written twice in one JSON object: found by the scanner (against generated documents), and
 * a 400 through the real routes, with nothing written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { firstDuplicateKey } from '../../../api/duplicateKeys.ts';
import { assertError, createApi, PREFIX, post, type Api } from './harness.ts';

/** A JSON value whose objects are written as entry lists, so they may repeat a key. */
type Doc = { kind: 'leaf'; json: string } | { kind: 'array'; items: Doc[] } | { kind: 'object'; entries: [string, Doc][] };

/** Writes `key` as a JSON string, spelling some characters as \u escapes. */
function writeKey(key: string, escapeMask: number): string {
  const inner = JSON.stringify(key).slice(1, -1);
  if (escapeMask === 0 || inner.includes('\\')) return `"${inner}"`;
  return `"${[...inner].map((ch, i) => ((escapeMask >> i % 16) & 1 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch)).join('')}"`;
}

function write(d: Doc, ws: string, mask: number): string {
  if (d.kind === 'leaf') return d.json;
  if (d.kind === 'array') return `[${ws}${d.items.map((x) => write(x, ws, mask)).join(`,${ws}`)}${ws}]`;
  return `{${ws}${d.entries.map(([k, v]) => `${writeKey(k, mask)}${ws}:${ws}${write(v, ws, mask)}`).join(`,${ws}`)}}`;
}

function hasDuplicate(d: Doc): boolean {
  if (d.kind === 'leaf') return false;
  if (d.kind === 'array') return d.items.some(hasDuplicate);
  return new Set(d.entries.map(([k]) => k)).size < d.entries.length || d.entries.some(([, v]) => hasDuplicate(v));
}

// Few distinct keys, so duplicates are common; leaves include strings that look like keys.
const key = fc.constantFrom('a', 'b', 'type', 'x"y', 'back\\slash', 'é', '');
const leaf = fc.oneof(
  fc.constantFrom('1', 'null', 'true', '-2.5e3', '"a"', '"\\"a\\":"', '"{\\"b\\":1}"', '"\\\\"').map((json) => ({ kind: 'leaf' as const, json })),
  fc.string({ maxLength: 8 }).map((s) => ({ kind: 'leaf' as const, json: JSON.stringify(s) })),
);
const { doc } = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('doc'), { maxLength: 4 }).map((items) => ({ kind: 'array' as const, items })),
    fc.array(fc.tuple(key, tie('doc')), { maxLength: 5 }).map((entries) => ({ kind: 'object' as const, entries })),
  ),
}));

describe('firstDuplicateKey', () => {
  it('finds a repeated key exactly when some object repeats one (generated documents)', () => {
    fc.assert(
      fc.property(doc, fc.constantFrom('', ' ', '\n\t ', '\r\n'), fc.nat(0xffff), (d, ws, mask) => {
        const text = write(d, ws, mask);
        JSON.parse(text); // the generator writes well-formed JSON
        assert.equal(firstDuplicateKey(text) !== undefined, hasDuplicate(d), text);
      }),
      { numRuns: 2000 },
    );
  });

  it('names the key, decoded, and tells keys from look-alike values and from other objects', () => {
    assert.equal(firstDuplicateKey('{"type":"noop","type":"load"}'), 'type');
    assert.equal(firstDuplicateKey('{"type":"noop","\\u0074ype":"load"}'), 'type');
    assert.equal(firstDuplicateKey('{"a":"\\"a\\":1","b":{"a":1},"c":[{"a":1},{"a":2}]}'), undefined);
    assert.equal(firstDuplicateKey('{"a":[1,{"a":2}],"a":3}'), 'a');
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    assert.equal(firstDuplicateKey(JSON.stringify(many)), undefined);
    assert.equal(firstDuplicateKey(`${JSON.stringify(many).slice(0, -1)},"k42":0}`), 'k42');
  });
});

describe('a duplicate key in a request body', () => {
  let api: Api;
  before(() => {
    api = createApi();
  });
  after(() => api.app.close());

  it('POST /jobs {"type":"noop","type":"load"} → 400 VALIDATION_FAILED naming the key; no job', async () => {
    const res = await post(api.app, `${PREFIX}/jobs`, '{"type":"noop","spec":{},"type":"load"}');
    assertError(res, 400, 'VALIDATION_FAILED', '"type" twice');
    const nested = await post(api.app, `${PREFIX}/jobs`, '{"type":"noop","spec":{"path":"a","path":"b"}}');
    assertError(nested, 400, 'VALIDATION_FAILED', '"path" twice');
    assert.equal(api.service.calls.filter((c) => c.method === 'submit').length, 0);
  });

  it('POST /users with the role twice → 400 and no user', async () => {
    const res = await post(api.app, `${PREFIX}/users`, '{"name":"eve","password":"long-enough-password","role":"viewer","role":"admin"}');
    assertError(res, 400, 'VALIDATION_FAILED', '"role" twice');
    const lookup = await api.app.inject({ method: 'GET', url: `${PREFIX}/users/eve` });
    assert.equal(lookup.statusCode, 404, lookup.body);
  });

  it('still accepts the same key in different objects', async () => {
    const res = await post(api.app, `${PREFIX}/jobs`, '{"type":"noop","spec":{"a":{"type":1},"b":[{"type":2}]}}');
    assert.equal(res.statusCode, 201, res.body);
  });
});
