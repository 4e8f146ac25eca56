/**
 * The HOCON parser of the Spark Jobserver facade (docs/decisions/0010-hocon-parser.md): the cases of
 * docs/research/hocon-parsers.md (what Spark Jobserver users send, and the hostile inputs that made
 * every npm parser unsafe), error positions, and generated documents (JSON and HOCON renderings).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HoconError, MAX_HOCON_DEPTH, parseHocon } from '../../../../api/compat/spark/hocon.ts';

/** The result as ordinary JSON values (parseHocon's objects have a null prototype). */
function plain(text: string): unknown {
  return JSON.parse(JSON.stringify(parseHocon(text)));
}

/** Asserts that parsing fails with a HoconError whose reason matches and, if given, at line:col. */
function assertFails(text: string, reason: RegExp, at?: [line: number, col: number]): HoconError {
  let err: unknown;
  try {
    parseHocon(text);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof HoconError, `${JSON.stringify(text.slice(0, 80))} should fail with a HoconError, got ${String(err)}`);
  assert.match(err.reason, reason, JSON.stringify(text.slice(0, 80)));
  assert.equal(err.message, `line ${err.line}, column ${err.col}: ${err.reason}`);
  if (at) assert.deepEqual([err.line, err.col], at, `${JSON.stringify(text.slice(0, 80))}: ${err.message}`);
  return err;
}

const MB = 1024 * 1024;
const deepObject = (n: number): string => 'a = ' + '{b:'.repeat(n) + '1' + '}'.repeat(n);
const deepArray = (n: number): string => 'a = ' + '['.repeat(n) + '1' + ']'.repeat(n);

describe('parseHocon: what Spark Jobserver users send (research §2a)', () => {
  const cases: [name: string, text: string, expected: unknown][] = [
    ['sjs-canonical (the seed)', 'input.string = a b c a b see', { input: { string: 'a b c a b see' } }],
    ['dotted-merge', 'a.b = 1\na.c = 2', { a: { b: 1, c: 2 } }],
    ['nested-no-sep', 'a { b = 1, c { d: x } }', { a: { b: 1, c: { d: 'x' } } }],
    ['nested-with-sep', 'a = { b: 1 }\nc : { d = 2 }', { a: { b: 1 }, c: { d: 2 } }],
    ['unquoted-spaces', 'msg = hello   world  ', { msg: 'hello   world' }],
    ['quoted-escapes', 's = "tab\\there \\"q\\" \\u00e9 back\\\\slash"', { s: 'tab\there "q" \u00e9 back\\slash' }],
    ['comments', '# c1\na = 1 // c2\n// c3\nb = "x # not // comment" # c4', { a: 1, b: 'x # not // comment' }],
    ['arrays', 'xs = [1, 2, "three", [4], {f: 5}]\nys = [\n a\n b\n]', { xs: [1, 2, 'three', [4], { f: 5 }], ys: ['a', 'b'] }],
    ['multiline-string', 'm = """line1\n  "quoted" line2"""', { m: 'line1\n  "quoted" line2' }],
    ['scalars', 'i = 42\nf = 3.14\nneg = -7\nexp = 1e3\nt = true\nfa = false\nn = null\nyes = yes', { i: 42, f: 3.14, neg: -7, exp: 1000, t: true, fa: false, n: null, yes: 'yes' }],
    ['object-merge-override', 'a { x = 1 }\na { y = 2 }\nb = { x = 1 }\nb = 5\nc = 5\nc { z = 1 }', { a: { x: 1, y: 2 }, b: 5, c: { z: 1 } }],
    ['plus-equals', 'xs = [1]\nxs += 2', { xs: [1, 2] }],
    ['json-body', '{"input": {"string": "a b c", "n": [1, 2.5, true, null]}, "k.with.dot": 1}', { input: { string: 'a b c', n: [1, 2.5, true, null] }, 'k.with.dot': 1 }],
    ['json-sjs-style', '{"input.string": "a b c a b see"}', { 'input.string': 'a b c a b see' }],
    ['quoted-key-with-dot', '"a.b" = 1', { 'a.b': 1 }],
    ['include-as-value-text', 'input.string = include me please', { input: { string: 'include me please' } }],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.deepEqual(plain(text), expected));
  }

  it('substitutions, which Typesafe config resolves, are refused (research: resolving them read the environment)', () => {
    for (const text of ['a.b = 10\nc = ${a.b}\nd = "x"${a.b}', 'path = [a]\npath = ${path} [b]', 'x = ${?NOPE_NOT_SET_123}\ny = 1']) {
      assertFails(text, /^substitutions are not supported/);
    }
    assertFails('a.b = 10\nc = ${a.b}', /substitutions are not supported/, [2, 5]);
  });

  it('the seed body gives the seed JSON', () => {
    assert.equal(JSON.stringify(parseHocon('input.string = a b c a b see')), '{"input":{"string":"a b c a b see"}}');
  });
});

describe('parseHocon: the rest of the syntax', () => {
  const cases: [name: string, text: string, expected: unknown][] = [
    ['empty document', '', {}],
    ['only comments and blank lines', '# nothing\n\n// here\n', {}],
    ['root braces', '{ a = 1 }', { a: 1 }],
    ['root braces around several lines', '{\n  a = 1\n  b: [x]\n}\n# end', { a: 1, b: ['x'] }],
    ['commas, trailing comma, newlines', 'a = 1, b = 2,\nc = 3,', { a: 1, b: 2, c: 3 }],
    ['array trailing comma and newline-then-comma', 'xs = [1,\n2\n,3,\n]', { xs: [1, 2, 3] }],
    ['empty array and object', 'a = [], b = {}, c {}', { a: [], b: {}, c: {} }],
    ['value on the line after the separator', 'a =\n  5\nb :\n\n  x y', { a: 5, b: 'x y' }],
    ['key, newline, then the object', 'a\n{ b = 1 }', { a: { b: 1 } }],
    ['whitespace inside a key is kept', 'a b c = 1', { 'a b c': 1 }],
    ['quoted and unquoted key parts', '"a.b".c = 1\na."".d = 2', { 'a.b': { c: 1 }, a: { '': { d: 2 } } }],
    ['empty quoted key', '"" = 1', { '': 1 }],
    ['number-like keys are split at dots', '10.5 = x', { '10': { '5': 'x' } }],
    ['true/false/null as keys are strings', 'true = 1\nnull = 2', { true: 1, null: 2 }],
    ['a number followed by text is a string', 'a = 10 apples\nb = 10apples\nc = 1.2.3\nd = 2024-01-01\ne = -foo', { a: '10 apples', b: '10apples', c: '1.2.3', d: '2024-01-01', e: '-foo' }],
    ['numbers as Typesafe reads them', 'a = 007\nb = 1.\nc = -.5\nd = 1e+3\ne = -0.25E-2\nf = 9007199254740993', { a: 7, b: 1, c: -0.5, d: 1000, e: -0.0025, f: 9007199254740992 }],
    ['keywords inside a concatenation are text', 'a = true story\nb = null and void\nc = truex', { a: 'true story', b: 'null and void', c: 'truex' }],
    ['quoted and unquoted concatenate with the whitespace as written', 'a = "x"  y\t"z"\nb = "a""b"\nc = "" ""\nd = 1 "2"', { a: 'x  y\tz', b: 'ab', c: ' ', d: '1 2' }],
    ['quoted numbers and keywords stay strings', 'a = "1"\nb = "true"\nc = "null"', { a: '1', b: 'true', c: 'null' }],
    ['triple quotes: raw, multi-line, extra closing quotes kept', 'a = """x\\n "y"\n z""""\nb = """"""', { a: 'x\\n "y"\n z"', b: '' }],
    ['arrays concatenate, objects merge', 'a = [1] [2, 3]\nb = {x: 1} {y: 2}\nc = [{p: 1} {q: 2}]', { a: [1, 2, 3], b: { x: 1, y: 2 }, c: [{ p: 1, q: 2 }] }],
    ['later object merges into earlier, recursively', 'a { b { c = 1, d = 2 } }\na.b.d = 3\na { b { e = 4 } }', { a: { b: { c: 1, d: 3, e: 4 } } }],
    ['a non-object replaces, null resets', 'a { x = 1 }\na = null\na { y = 1 }\nb = [1]\nb = [2]\nc { x = 1 }\nc = 5', { a: { y: 1 }, b: [2], c: 5 }],
    ['a dotted key through a non-object replaces it', 'a = 5\na.b = 1', { a: { b: 1 } }],
    ['+= creates the array, appends values as elements', 'xs += 1\nxs += [2]\nxs += {k: v}\nys = []\nys += a b', { xs: [1, [2], { k: 'v' }], ys: ['a b'] }],
    ['+= inside a merged object sees the earlier array', 'x { a = [1] }\nx { a += 2 }\nx.a += 3', { x: { a: [1, 2, 3] } }],
    ['CRLF line endings', 'a = x y\r\nb = 2\r\n', { a: 'x y', b: 2 }],
    ['BOM and Unicode whitespace', '\uFEFFa\u00A0=\u2003x\u3000y', { a: 'x\u3000y' }],
    ['duplicate JSON keys: the last wins', '{"a": 1, "a": 2}', { a: 2 }],
    ['include as part of a key or quoted', 'include.x = 1\n"include" = 2\nincludes = 3', { include: 2, includes: 3 }],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.deepEqual(plain(text), expected));
  }

  it('unquoted text with slashes, dashes and pipes; a colon needs quotes', () => {
    assert.deepEqual(plain('p = /data/in.txt\nq = a|b\nr = my-app_v2.jar'), { p: '/data/in.txt', q: 'a|b', r: 'my-app_v2.jar' });
    assert.deepEqual(plain('u = "hdfs://host/x"'), { u: 'hdfs://host/x' });
    // As in Typesafe config: `//` starts a comment, so an unquoted URL is cut at "http" and the ':' is left over.
    assertFails('u = http://host/x', /expected ',' or a newline after the value, found ':'/, [1, 9]);
  });

  it('objects have no prototype, so __proto__/constructor/prototype keys are data', () => {
    const r = parseHocon('__proto__ { polluted = 1 }\nconstructor.prototype.x = 1');
    assert.equal(Object.getPrototypeOf(r), null);
    assert.equal(JSON.stringify(r), '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}');
    assert.equal(JSON.stringify(parseHocon('{"__proto__": 1}')), '{"__proto__":1}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});

describe('parseHocon: hostile inputs (research §3) touch no environment, file or network', () => {
  it('refuses include, substitution, transforms and @-files; reads nothing; pollutes nothing', async () => {
    const SECRET = 's3cr3t-value';
    const dir = mkdtempSync(join(tmpdir(), 'hocon-'));
    const probe = join(dir, 'probe.conf');
    writeFileSync(probe, `leaked = "probe-content-${SECRET}"\n`);
    writeFileSync(join(dir, 'evil.js'), `require('fs').writeFileSync(${JSON.stringify(join(dir, 'ran'))}, 'x')`);
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end('leaked = 1');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const url = `http://127.0.0.1:${address.port}`;
    const savedEnv = process.env.HOCON_SECRET;
    const savedCwd = process.cwd();
    process.env.HOCON_SECRET = SECRET;
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    try {
      process.chdir(dir); // a relative include would find probe.conf here
      const refused: [text: string, reason: RegExp][] = [
        ['home = ${HOME}', /substitutions are not supported/],
        ['s = ${?HOCON_SECRET}', /substitutions are not supported/],
        ['s = "leak:"${?HOCON_SECRET}', /substitutions are not supported/],
        ['include "probe.conf"', /^include is not supported$/],
        [`include file("${probe}")`, /^include is not supported$/],
        ['include file("/etc/passwd")', /^include is not supported$/],
        ['include required(file("/etc/passwd"))', /^include is not supported$/],
        ['a { include classpath("x.conf") }', /^include is not supported$/],
        [`include url("${url}/x.conf")`, /^include is not supported$/],
        [`include url("${url}/x.js")`, /^include is not supported$/],
        [`include file("${join(dir, 'evil.js')}")`, /^include is not supported$/],
        ['x = @"/etc/hostname"', /reserved character '@'/],
        ['x = @?"/etc/hostname"', /reserved character '@'/],
        ['v = 1 | eval { expr = "process.version" }', /cannot concatenate a string and an object/],
        ['v = [1, 2, 3] | filter { expr = "process.version" }', /cannot concatenate an array and a string/],
        ['b = 1\na = ${b;process.exit(42)}', /substitutions are not supported/],
        ['a = ${a}', /substitutions are not supported/],
        ['a = ${b}\nb = ${a}', /substitutions are not supported/],
        ['${x} = 1', /substitutions are not supported/],
      ];
      for (const [text, reason] of refused) {
        const err = assertFails(text, reason);
        assert.ok(!err.message.includes(SECRET) && !err.message.includes('probe-content'), err.message);
      }
      // Text that merely mentions these is a value like any other.
      assert.deepEqual(plain('x = include /etc/passwd'), { x: 'include /etc/passwd' });
      assert.deepEqual(plain('x = "${HOME} include file(\\"/etc/passwd\\")"'), { x: '${HOME} include file("/etc/passwd")' });
      for (const text of ['__proto__.polluted = 1', '__proto__ { polluted = 1 }', 'constructor.prototype.x = 1', '{"__proto__": {"polluted": 1}}']) {
        assert.doesNotThrow(() => parseHocon(text));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(requests, 0, 'no request reached the loopback server');
      assert.throws(() => readFileSync(join(dir, 'ran')), { code: 'ENOENT' });
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeKeys);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    } finally {
      process.chdir(savedCwd);
      if (savedEnv === undefined) delete process.env.HOCON_SECRET;
      else process.env.HOCON_SECRET = savedEnv;
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports nothing, so it cannot reach fs, network, child processes or the environment', () => {
    const source = readFileSync(new URL('../../../../api/compat/spark/hocon.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(source, /^\s*import\b/m);
    assert.doesNotMatch(source, /\b(require|process|eval|Function|globalThis|fetch)\s*[.(]/);
  });
});

describe('parseHocon: malformed input fails with a HoconError at the right place (research §2b)', () => {
  const cases: [text: string, reason: RegExp, at: [number, number]][] = [
    ['a = {', /this '\{' is never closed/, [1, 5]],
    ['a = [1, 2', /this '\[' is never closed/, [1, 5]],
    ['a = "unterminated', /quoted string is never closed/, [1, 5]],
    ['= 1', /expected a key, found '='/, [1, 1]],
    ['}', /unbalanced '\}'/, [1, 1]],
    ['a = }', /expected a value, found '\}'/, [1, 5]],
    ['a b c', /expected '=', ':' or '\{' after key "a b c", found the end of the input/, [1, 6]],
    ['a = ${nope}', /substitutions are not supported/, [1, 5]],
    ['{"a": 1,,}', /expected a key, found ','/, [1, 9]],
    ['x = 1\ny = 2\nsome key 3 }', /expected '=', ':' or '\{' after key "some key 3", found '\}'/, [3, 12]],
    ['a {\n  b = 1\n  c = [1,\n    2 3 x]\n  d = "bad \\q"\n}', /invalid escape \\'q'/, [5, 12]],
    ['a = 1 b = 2', /expected ',' or a newline after the value, found '='/, [1, 9]],
    ['a { b = 1 c = 2 }', /expected ',', a newline or '\}' after the value, found '='/, [1, 13]],
    ['a = [1 2, 3 = 4]', /expected ',', a newline or '\]' after an array element, found '='/, [1, 13]],
    ['a = [1,,2]', /expected a value, found ','/, [1, 8]],
    ['a = [,]', /expected a value, found ','/, [1, 6]],
    ['a = x\n\n  ok = "line\nbreak"', /cannot span lines/, [3, 13]],
    ['a = "tab\there"', /control character U\+0009/, [1, 9]],
    ['a = "\\u12"', /four hex digits/, [1, 6]],
    ['a = """never', /""" string is never closed/, [1, 5]],
    ['a = 1+2', /reserved character '\+'/, [1, 6]],
    ['a = hello!', /reserved character '!'/, [1, 10]],
    ['a + 1', /reserved character '\+'/, [1, 3]],
    ['a = 1e400', /number out of range/, [1, 5]],
    ['a..b = 1', /empty part/, [1, 1]],
    ['.a = 1', /empty part/, [1, 1]],
    ['a. = 1', /empty part/, [1, 1]],
    ['[1, 2]', /root must be an object, not an array/, [1, 1]],
    ['  \n [ ]', /root must be an object, not an array/, [2, 2]],
    ['{a = 1} {b = 2}', /unexpected '\{' after the root object/, [1, 9]],
    ['{a = 1},', /unexpected ',' after the root object/, [1, 8]],
    ['"just a string"', /expected '=', ':' or '\{' after key "just a string"/, [1, 16]],
    ['42', /expected '=', ':' or '\{' after key "42"/, [1, 3]],
    ['xs = 1\nxs += 2', /cannot append with '\+=' to "xs": it is not an array/, [2, 4]],
    ['a = {x: 1} [1]', /cannot concatenate an object and an array/, [1, 12]],
    ['a = [1] x', /cannot concatenate an array and a string/, [1, 9]],
    ['a = x [1]', /cannot concatenate a string and an array/, [1, 7]],
    ['a { b = 1 } { c = 2 }', /expected ',' or a newline after the value, found '\{'/, [1, 13]],
  ];
  for (const [text, reason, at] of cases) {
    it(JSON.stringify(text), () => {
      assertFails(text, reason, at);
    });
  }

  it('counts columns in code points, lines at \\n', () => {
    assertFails('s = "😀" !', /reserved character '!'/, [1, 9]);
    assertFails('a = 1\r\nb = 😀😀 ?', /reserved character '\?'/, [2, 8]);
  });

  it('quotes at most 40 characters of the input in a message', () => {
    const long = 'k'.repeat(5000);
    const err = assertFails(`${long} }`, /after key "k{40}…"/);
    assert.ok(err.message.length < 120, err.message);
    assert.ok(!err.message.includes('k'.repeat(41)));
  });
});

describe('parseHocon: limits (research §2c)', () => {
  it(`nesting: ${MAX_HOCON_DEPTH} levels parse, one more is a HoconError (objects, arrays, dotted keys, +=)`, () => {
    assert.doesNotThrow(() => parseHocon(deepObject(MAX_HOCON_DEPTH)));
    assertFails(deepObject(MAX_HOCON_DEPTH + 1), /deeper than 64 levels/, [1, 4 + 3 * MAX_HOCON_DEPTH + 1]);
    assert.doesNotThrow(() => parseHocon(deepArray(MAX_HOCON_DEPTH)));
    assertFails(deepArray(MAX_HOCON_DEPTH + 1), /deeper than 64 levels/);
    const json = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    assert.doesNotThrow(() => parseHocon(json(MAX_HOCON_DEPTH + 1))); // the root plus 64 below it
    assertFails(json(MAX_HOCON_DEPTH + 2), /deeper than 64 levels/);
    const path = (n: number): string => Array.from({ length: n }, () => 'a').join('.');
    assert.doesNotThrow(() => parseHocon(`${path(MAX_HOCON_DEPTH + 1)} = 1`));
    assertFails(`${path(MAX_HOCON_DEPTH + 2)} = 1`, /deeper than 64 levels/, [1, 1]);
    assertFails(`${path(500_000)} = 1`, /deeper than 64 levels/, [1, 1]);
    assert.doesNotThrow(() => parseHocon(`${path(MAX_HOCON_DEPTH)} = [1]`));
    assertFails(`${path(MAX_HOCON_DEPTH + 1)} = [1]`, /deeper than 64 levels/);
    assertFails(`${path(MAX_HOCON_DEPTH)} += [1]`, /deeper than 64 levels/);
  });

  it('10k-deep objects and arrays are a HoconError, not a stack overflow', () => {
    assertFails(deepObject(1000), /deeper than/);
    assertFails(deepObject(10_000), /deeper than/);
    assertFails(deepArray(10_000), /deeper than/);
    assertFails('a ' + '{ b '.repeat(100_000), /deeper than/);
  });

  it('1 MB inputs parse to the right value (timings: bench/hocon.ts)', () => {
    assert.deepEqual(parseHocon('s = "' + 'x'.repeat(MB) + '"').s, 'x'.repeat(MB));
    const words = 'word '.repeat(MB / 5).trim();
    assert.equal(parseHocon('s = ' + words).s, words);
    const lines: string[] = [];
    for (let i = 0, n = 0; n < MB; i++) {
      lines.push(`job${i}.input.string = a b c a b see\njob${i}.n = ${i}\njob${i}.list = [1, 2, 3]\n`);
      n += lines[i]!.length;
    }
    const conf = parseHocon(lines.join(''));
    assert.equal(Object.keys(conf).length, lines.length);
    assert.deepEqual(plain(`x = 1\n${lines[lines.length - 1]}`), { x: 1, [`job${lines.length - 1}`]: { input: { string: 'a b c a b see' }, n: lines.length - 1, list: [1, 2, 3] } });
    const json = JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, { s: 'a b c a b see', n: i, l: [1, 2, 3] }])));
    assert.ok(json.length > 0.9 * MB);
    assert.equal(JSON.stringify(parseHocon(json)), json);
    assert.deepEqual(Object.keys(parseHocon('# c\n'.repeat(MB / 4))), []);
  });
});

/** Deterministic choices for a rendering (no Math.random: the seed comes from fast-check). */
function chooser(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Writes a JSON object as HOCON in one of many equivalent spellings. */
function renderHocon(doc: { [k: string]: Json }, seed: number): string {
  const pick = chooser(seed);
  const key = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) && k !== 'include' && pick(3) > 0 ? k : JSON.stringify(k));
  const scalar = (v: Exclude<Json, Json[] | { [k: string]: Json }>): string => {
    if (typeof v !== 'string') return JSON.stringify(v);
    const choice = pick(4);
    if (choice === 1 && /^[A-Za-z_][A-Za-z0-9_]*(?: +[A-Za-z0-9_]+)*$/.test(v) && !/^(true|false|null)/.test(v)) return v;
    if (choice === 2 && !v.includes('"""')) return `"""${v}"""`;
    return JSON.stringify(v);
  };
  const value = (v: Json, indent: string): string => {
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const inner = indent + '  ';
      if (pick(2) === 0) return `[${v.map((x) => value(x, inner)).join(', ')}]`;
      const cut = pick(v.length + 1); // concatenation: [a, b] [c]
      const lines = (xs: Json[]): string => `[\n${xs.map((x) => inner + value(x, inner)).join(pick(2) ? '\n' : ',\n')}\n${indent}]`;
      return cut === 0 || cut === v.length ? lines(v) : `${lines(v.slice(0, cut))} ${lines(v.slice(cut))}`;
    }
    if (v !== null && typeof v === 'object') return `{${fields(v, indent + '  ')}${indent}}`;
    return scalar(v);
  };
  const fields = (obj: { [k: string]: Json }, indent: string): string => {
    let out = '\n';
    for (const [k, v] of Object.entries(obj)) {
      let path = key(k);
      let inner = v;
      // a { b { c = 1 } } as a.b.c = 1
      while (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length === 1 && pick(2) === 0) {
        const [k2, v2] = Object.entries(inner)[0]!;
        path += `.${key(k2)}`;
        inner = v2;
      }
      if (Array.isArray(inner) && inner.length > 0 && pick(3) === 0) {
        const keep = pick(inner.length + 1); // xs = [a], xs += b, xs += c
        if (keep > 0) out += `${indent}${path} = ${value(inner.slice(0, keep), indent)}\n`;
        for (const x of inner.slice(keep)) out += `${indent}${path} += ${value(x, indent)}\n`;
        continue;
      }
      const isObj = inner !== null && typeof inner === 'object' && !Array.isArray(inner);
      const sep = isObj && pick(2) === 0 ? ' ' : [' = ', ': ', '=', ' : '][pick(4)]!;
      const comment = ['', ' # note', ' // note'][pick(3)]!;
      out += `${indent}${path}${sep}${value(inner, indent)}${[',', ''][pick(2)]}${comment}\n`;
    }
    return out;
  };
  const body = fields(doc, '');
  return pick(2) === 0 ? body : `{${body}}`;
}

describe('parseHocon: generated documents', () => {
  const jsonObject = fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }), { maxKeys: 6 });

  it('any JSON object parses to itself (compact and indented)', () => {
    fc.assert(
      fc.property(jsonObject, fc.constantFrom(undefined, 2, '\t'), (x, indent) => {
        const compact = JSON.stringify(x);
        const text = JSON.stringify(x, null, indent);
        const parsed = parseHocon(text);
        assert.equal(JSON.stringify(parsed), compact);
        assert.deepEqual(JSON.parse(JSON.stringify(parsed)), JSON.parse(compact));
      }),
      { numRuns: 1000 },
    );
  });

  it('a JSON object written as HOCON (unquoted, dotted, +=, concatenations, comments) parses to the same value', () => {
    const word = fc.constantFrom('a', 'b', 'job', 'input', 'string', 'x y', 'include', 'true', '', 'a.b', 'k-1', 'é', '"q"', 'trailing"', 'a"""b');
    const small: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.oneof(word, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), fc.string({ unit: 'binary', maxLength: 5 })),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(word, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(word, small, { maxKeys: 5 }), fc.integer(), (x, seed) => {
        const expected = JSON.parse(JSON.stringify(x)) as unknown;
        const text = renderHocon(expected as { [k: string]: Json }, seed);
        assert.deepEqual(plain(text), expected, text);
      }),
      { numRuns: 1000 },
    );
  });

  it('any text either parses or fails with a short HoconError at a position inside the input', () => {
    const hoconish = fc.string({ unit: fc.constantFrom('a', 'b', '1', '.', '-', ' ', '\n', '=', ':', ',', '{', '}', '[', ']', '"', '\\', '#', '/', '+', '$', 'e', '\t', 'é'), maxLength: 60 });
    fc.assert(
      fc.property(fc.oneof(hoconish, fc.string({ unit: 'binary', maxLength: 40 })), (text) => {
        try {
          JSON.stringify(parseHocon(text));
        } catch (e) {
          assert.ok(e instanceof HoconError, `${JSON.stringify(text)}: ${String(e)}`);
          assert.ok(e.message.length <= 160, e.message);
          const lines = text.split('\n');
          assert.ok(e.line >= 1 && e.line <= lines.length, `${JSON.stringify(text)}: ${e.message}`);
          assert.ok(e.col >= 1 && e.col <= [...lines[e.line - 1]!].length + 1, `${JSON.stringify(text)}: ${e.message}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
