/**
 * protocolYaml.ts: the hostile inputs of docs/decisions/0011-yaml-parser.md (each refused with a
 * VALIDATION_FAILED within a bounded time), what the SDK writes (js-yaml 3 `safeDump`, loaded from
 * the SDK's own node_modules) read back exactly, `dumpProtocol` read back by js-yaml 3, the
 * original's `secrets:` masking, and properties over generated and mangled text.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isAppError } from '../../../../../engine/index.ts';
import { dumpProtocol, loadProtocolYaml, maskSecrets, MAX_PROTOCOL_CHARS, PROTOCOL_VALUE_BUDGET } from '../../../../../api/compat/openpai/protocolYaml.ts';

const require = createRequire(import.meta.url);
const SDK = '@microsoft/openpai-js-sdk';
/** js-yaml 3.15, the SDK's (and the original server's) YAML. */
const yaml3 = require(require.resolve('js-yaml', { paths: [require.resolve(`${SDK}/package.json`)] })) as {
  safeDump(v: unknown): string;
  safeLoad(s: string): unknown;
};
const { testJobConfig } = require(`${SDK}/lib/tests/common/test_data/testJobConfig.js`) as { testJobConfig: Record<string, unknown> };

/** Generous for a loaded 2-core machine; decision 0011 measured these at 1–60 ms. */
const REFUSE_WITHIN_MS = 1000;

function refuses(text: string, reason: RegExp, withinMs = REFUSE_WITHIN_MS): string {
  const started = performance.now();
  let err: unknown;
  try {
    loadProtocolYaml(text);
  } catch (e) {
    err = e;
  }
  const ms = performance.now() - started;
  assert.ok(isAppError(err, 'VALIDATION_FAILED'), `${JSON.stringify(text.slice(0, 60))} should be refused, got ${String(err)}`);
  assert.match(err.message, reason, JSON.stringify(text.slice(0, 60)));
  assert.ok(ms < withinMs, `refused after ${ms.toFixed(0)} ms`);
  assert.equal(typeof (err.details as { field?: unknown }).field, 'string');
  return err.message;
}

describe('loadProtocolYaml: hostile input (decision 0011)', () => {
  it('billion laughs is refused by the value budget', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
    refuses(lines.join('\n'), new RegExp(`more than ${PROTOCOL_VALUE_BUDGET} values`));
  });

  it('100 aliases of a 10 KB list are refused by the budget; 101 plain aliases by maxAliases', () => {
    const list = `base: &b [${Array.from({ length: 2000 }, (_, i) => `v${i}`).join(', ')}]`;
    refuses(`${list}\nuse: [${Array.from({ length: 100 }, () => '*b').join(', ')}]`, /more than 100000 values/);
    refuses(`x: &x 1\nuse: [${Array.from({ length: 101 }, () => '*x').join(', ')}]`, /^line \d+, column \d+: .*alias/i);
    // Ordinary anchors still work.
    assert.deepEqual(loadProtocolYaml('res: &r {cpu: 1}\na: *r\nb: *r'), { res: { cpu: 1 }, a: { cpu: 1 }, b: { cpu: 1 } });
  });

  it('nesting: 63 collections load, 64 are refused (maxDepth 64 counts the document), 50,000 fast', () => {
    const flow = (n: number): string => `a: ${'['.repeat(n)}1${']'.repeat(n)}`;
    assert.doesNotThrow(() => loadProtocolYaml(flow(62))); // the root mapping is the 63rd
    refuses(flow(63), /^line 1, column \d+: nesting exceeded maxDepth/);
    refuses(flow(50_000), /^line 1, column \d+: nesting exceeded maxDepth/, 200); // 100,000 characters of brackets
    const block = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1';
    refuses(block, /^line \d+, column \d+: /);
  });

  it('aliases cannot nest deeper than 64 once expanded, nor make a cycle', () => {
    const lines = [`l0: &l0 ${'['.repeat(40)}1${']'.repeat(40)}`];
    lines.push(`l1: &l1 ${'['.repeat(40)}*l0${']'.repeat(40)}`);
    refuses(lines.join('\n'), /^l1(\[0\]){40}(\[0\]){22}: nested deeper than 63 levels once aliases are expanded/);
    refuses('a: &a [*a]', /nested deeper than 63/);
  });

  it('a merge chain is refused (maxTotalMergeKeys)', () => {
    const lines = ['a0: &a0 {k0: 0}'];
    for (let i = 1; i < 400; i++) lines.push(`a${i}: &a${i} {<<: *a${i - 1}, k${i}: ${i}}`);
    refuses(lines.join('\n'), /merge|alias/i);
  });

  it('every tag beyond JSON is refused, and %TAG', () => {
    for (const tag of ['!!js/function "x"', '!!js/regexp /x/', '!!js/undefined ""', '!!python/object:os.system x', '!foo bar', '!!binary aGk=', '!!timestamp 2020-01-01', '!!set {a: null}', '!!omap [a: 1]']) {
      refuses(`a: ${tag}`, /^line 1, column \d+: /);
    }
    refuses('%TAG !e! tag:example.com,2000:\n---\na: !e!x 1', /./);
  });

  it('__proto__, constructor and prototype are refused at any depth and through <<', () => {
    refuses('__proto__: {polluted: yes}', /^__proto__: the key __proto__ is not allowed/);
    refuses('a: {b: [{constructor: 1}]}', /^a\.b\[0\]\.constructor: the key constructor is not allowed/);
    refuses('x: {prototype: 1}', /prototype/);
    refuses('base: &b {__proto__: {x: 1}}\nc: {<<: *b}', /__proto__/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('duplicate keys, also 1 and "1", true and "true", are refused', () => {
    refuses('a: 1\na: 2', /^line 2, column 1: duplicated mapping key/);
    refuses('1: a\n"1": b', /duplicated mapping key/);
    refuses('true: a\n"true": b', /duplicated mapping key/);
  });

  it('two documents, an empty text, only a comment, a NUL byte and tab indentation are refused', () => {
    refuses('a: 1\n---\nb: 2', /single document/);
    refuses('', /empty/);
    refuses('# only a comment\n', /empty/);
    refuses('a: "x\0y"', /^line 1, column \d+: null byte/);
    refuses('a:\n\tb: 1', /^line 2, column 1: tab/);
  });

  it('errors read "line L, column C: reason" without the body excerpt', () => {
    const message = refuses('name: x\ntaskRoles: [1, 2\n', /^line \d+, column \d+: [^\n]+$/);
    assert.doesNotMatch(message, /\^|\|/);
  });

  it('numbers beyond a double stay strings; text over the limit is refused before parsing', () => {
    assert.deepEqual(loadProtocolYaml(`a: 1${'0'.repeat(400)}\nb: 1e400`), { a: `1${'0'.repeat(400)}`, b: '1e400' });
    refuses(`a: ${'x'.repeat(MAX_PROTOCOL_CHARS)}`, /^the protocol is longer than 102400 characters/, 50);
  });

  it('the copy shares no references and keeps key order', () => {
    const v = loadProtocolYaml('a: &x {k: [1]}\nb: *x\nz: 1\ny: 2') as Record<string, { k: number[] }>;
    assert.notEqual(v.a, v.b);
    assert.notEqual(v.a?.k, v.b?.k);
    assert.deepEqual(Object.keys(v), ['a', 'b', 'z', 'y']);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
  });
});

/** Strings a YAML 1.1 or 1.2 reader could take for something else (decision 0011's list). */
const AWKWARD = [
  'yes', 'no', 'on', 'off', 'y', 'n', 'True', 'FALSE', '~', 'null', 'Null', 'NULL', '', ' ', '0755', '0o17', '08', '09.5', '+.5',
  '1_000', '1:20', '1:20:30.5', '0x1F', '0b101', '.inf', '-.Inf', '.NaN', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '1e3', '-0',
  '<% $parameters.x %>', 'a: b', '- x', '# not a comment', '&anchor', '*alias', '!tag', '@at', '`tick', '"quoted"', "'single'",
  'multi\nline\n', 'trailing space ', '\ttab', 'key: [1, 2]', '{a: 1}', '%percent', '|', '>', '? q', '=', '<<', 'été ☃ 😀',
];

describe('reading what the SDK writes, writing what the SDK reads', () => {
  it("the SDK's testJobConfig, safeDump'ed, loads as js-yaml 3 loads it", () => {
    const text = yaml3.safeDump(testJobConfig);
    assert.deepEqual(loadProtocolYaml(text), yaml3.safeLoad(text));
    assert.deepEqual(loadProtocolYaml(text), testJobConfig);
  });

  it('safeDump of every awkward string and of numbers and literals loads unchanged', () => {
    const doc = { strings: AWKWARD, map: Object.fromEntries(AWKWARD.map((s, i) => [`k${i}`, s])), numbers: [0, -1, 1.5, 1e21, 2 ** 53, -0.001], literals: [true, false, null] };
    const text = yaml3.safeDump(doc);
    assert.deepEqual(loadProtocolYaml(text), yaml3.safeLoad(text));
    assert.deepEqual(loadProtocolYaml(text), doc);
  });

  it('dumpProtocol of every awkward string reads back unchanged with js-yaml 3 and with ours', () => {
    const doc = { name: '08', strings: AWKWARD, keys: Object.fromEntries(AWKWARD.filter((s) => s !== '').map((s) => [s, s])), n: [1, 0.5, -3], b: [true, false], z: null };
    const text = dumpProtocol(doc);
    assert.deepEqual(yaml3.safeLoad(text), doc);
    assert.deepEqual(loadProtocolYaml(text), doc);
  });

  it('dumpProtocol refuses what YAML cannot carry with a VALIDATION_FAILED', () => {
    assert.throws(() => dumpProtocol({ f: () => 1 }), (e: unknown) => isAppError(e, 'VALIDATION_FAILED'));
  });
});

describe('maskSecrets (utils/protocolSecret.js)', () => {
  it('masks the block from a top-level secrets: to the next top-level key', () => {
    const text = 'name: j\nsecrets:\n  token: abc\n  nested:\n    k: v\ntaskRoles: {}\n';
    assert.equal(maskSecrets(text), 'name: j\nsecrets: "******"\ntaskRoles: {}\n');
  });

  it('masks secrets as the last key, and leaves text without them alone', () => {
    // As the original: the trailing newline goes with the masked block.
    assert.equal(maskSecrets('name: j\nsecrets:\n  a: 1\n'), 'name: j\nsecrets: "******"');
    assert.equal(maskSecrets('name: j\nsecrets:\n  a: 1'), 'name: j\nsecrets: "******"');
    assert.equal(maskSecrets('name: j\nparameters:\n  secrets: 1\n'), 'name: j\nparameters:\n  secrets: 1\n');
  });

  it('what js-yaml 3 safeDump writes masks and still loads', () => {
    const text = yaml3.safeDump({ ...testJobConfig, secrets: { registry: { username: 'u', password: 'p4ss' } } });
    const masked = maskSecrets(text);
    assert.doesNotMatch(masked, /p4ss/);
    assert.equal((loadProtocolYaml(masked) as { secrets: unknown }).secrets, '******');
    assert.deepEqual({ ...(loadProtocolYaml(masked) as object), secrets: undefined }, { ...testJobConfig, secrets: undefined });
  });

  it('flow style and a quoted key, which the regex misses, are masked by writing the protocol again', () => {
    for (const text of ['{name: j, secrets: {pw: s3cret}}', '"secrets": {pw: s3cret}\nname: j', 'name: j\nsecrets: {pw: s3cret}']) {
      const masked = maskSecrets(text);
      assert.doesNotMatch(masked, /s3cret/, text);
      assert.deepEqual(loadProtocolYaml(masked), { name: 'j', secrets: '******' }, text);
    }
  });
});

describe('loadProtocolYaml: properties', () => {
  const json = fc.jsonValue({ maxDepth: 8 }).filter((v) => !JSON.stringify(v).includes('"__proto__"') && !/"(constructor|prototype)":/.test(JSON.stringify(v)));

  it('every JSON document parses to itself (JSON is YAML)', () => {
    fc.assert(
      fc.property(json, (v) => {
        assert.deepEqual(loadProtocolYaml(JSON.stringify(v)), JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('dumpProtocol reads back equal with js-yaml 3 and with ours', () => {
    fc.assert(
      fc.property(json, (v) => {
        const plain = JSON.parse(JSON.stringify(v)) as unknown;
        const text = dumpProtocol(plain);
        assert.deepEqual(yaml3.safeLoad(text), plain);
        if (text.trim() !== '') assert.deepEqual(loadProtocolYaml(text), plain);
      }),
      { numRuns: 300 },
    );
  });

  it('random and mangled text gives a value or VALIDATION_FAILED, nothing else', () => {
    const base = yaml3.safeDump(testJobConfig);
    const yamlish = fc.string({ unit: fc.constantFrom(...'ab:-[]{}&*!|>?#%@`\'",\n \t0~<=\\\0'.split('')), maxLength: 200 });
    const mangled = fc.tuple(fc.nat(base.length), fc.nat(40), fc.string({ maxLength: 20 })).map(([at, cut, insert]) => base.slice(0, at) + insert + base.slice(at + cut));
    fc.assert(
      fc.property(fc.oneof(yamlish, mangled, fc.string({ unit: 'binary', maxLength: 200 })), (text) => {
        try {
          loadProtocolYaml(text);
        } catch (e) {
          assert.ok(isAppError(e, 'VALIDATION_FAILED'), `${JSON.stringify(text)}: ${String(e)}`);
        }
        try {
          maskSecrets(text);
        } catch (e) {
          assert.fail(`maskSecrets threw on ${JSON.stringify(text)}: ${String(e)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
