/**
 * The requests of the Spark Jobserver facade's route fuzz (test/integration/compat/sparkFuzz.test.ts):
 * every route, valid and broken, each with an {@link Intent} saying what it is about, from which
 * the oracle (sparkFuzzOracle.ts) works out what Spark answers. Names come in kinds the oracle can
 * tell apart: binaries and contexts the fuzz creates and deletes, ones that never exist, ones the
 * name rules refuse, and raw path segments whose decoded value only the router knows.
 */
import fc from 'fast-check';
import { FUZZ_METHODS, MALFORMED_JSON, contentType, evilString, fuzzExtraHeaders } from './routeFuzz.ts';

/** The service's `binaryMaxBytes` in the fuzz (uploads just over it are 413). */
export const BINARY_MAX_BYTES = 64 * 1024;

/** The fuzz's own jobs: instant, a nap of at most 1.5 s, a throw, a validation. */
export const TINY_JOBS = `
export const Instant = { runJob(_context, config) { return config.answer ?? 'ok'; } };
export const Nap = { async runJob(_context, config) { await new Promise((r) => setTimeout(r, Math.min(Number(config.ms) || 100, 1500))); return 'napped'; } };
export const Fail = { runJob() { throw new RangeError('fuzz failure'); } };
export const Picky = { validate(_context, config) { return config.ok === true ? config : { problems: ['set ok = true'] }; }, runJob() { return 'picked'; } };
`;
/** The job that holds the one slot of context `full1` (and keeps binary `hold` in use). */
export const HOLD_JOB = `export const Hold = { async runJob() { await new Promise((r) => setTimeout(r, 600000)); return 'held'; } };\n`;

// ---- names -------------------------------------------------------------------------------------

/** Uploaded at the start, never uploaded or deleted by the fuzz. */
const SEEDED = ['tiny', 'wc'];
export const HOLD = 'hold';
export const FULL = 'full1';
/** Binaries the fuzz uploads and deletes. */
const POOL = ['up-a', 'up-b', 'up.c', '9up', 'UP_d'];
/** Binary names never uploaded; the valve's stand-in is one of them. */
const MISSING = ['nope', 'missing-bin', 'constructor', 'x'];
export const VALVE_BIN = 'missing-bin';
/** Binary names BINARY_NAME_RE refuses. */
const BAD_BINARY_NAMES = ['-lead', '.hidden', '_x', 'a b', 'a$b', 'x'.repeat(129), 'é', '😀', '__proto__', 'a:b', 'a*b', 'a,b'];
/** Path segments whose decoded value the router decides: never predicted. */
const RAW_SEGMENTS = ['..', '.', '%2e%2e', '%2F', 'a%2Fb', '%ZZ', '%', '%00', 'a%00b', '%C0%AE', '%E2%80%AE', '', '%20'];
export const BINARY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Contexts the fuzz creates and deletes. */
export const FUZZ_CONTEXTS = ['ca', 'cb', 'Cc.1', 'cd-x@y'];
const MISSING_CONTEXTS = ['nocontext', 'zz'];
const BAD_START_CONTEXTS = ['1ctx', '_ctx', '-ctx', '9', '.c', '@x', '$'];
/** Starting with a letter, but not 1-128 of letters, digits and `._:@+-`. */
const ODD_CONTEXTS = ['a b', 'a$b', 'a#b', 'aé', 'a😀', 'a'.repeat(129), 'a,b', 'a*', 'a\u202eb', 'a"b'];

const CLASSES = ['Instant', 'Nap', 'Fail', 'Picky', 'WordCountExample', 'spark.jobserver.WordCountExample', 'NoSuchClass', 'a.b.C', '$x', '_y'];
const BAD_CLASSES = ['1abc', 'a..b', 'a b', 'a.', '.a', 'x'.repeat(513), '../../etc/passwd', 'a-b', 'é'];

// ---- bodies ------------------------------------------------------------------------------------

/** Job configs that parse (HOCON and JSON). */
const GOOD_CONFIGS = [
  '', 'input.string = a b c a b see', 'ms = 200, answer = hi', 'a { b = 1, c = [1,2,3] }\nd = "x"', 'answer = """multi\nline"""',
  'input.string = "quoted # x"  # comment', 'ok = true', 'ok = false\nms = 50', '// c\nanswer = 1', 'ms = 1200', '\ufeffinput.string = a',
  'spark.context-settings { num-cpu-cores = 2 }', 'a.b.c = 1\na.b.d = [x, y]', 'answer = 1e3', 'x = null\ny = true',
];
const JSON_CONFIGS = ['{"input": {"string": "a b c a b see"}}', '{"ok": true, "answer": {"deep": [1, 2, {"x": null}]}}', '{}', '{"__proto__": {"polluted": 1}, "answer": 2}'];
/** Job configs Typesafe config refuses (and our parser: include, substitutions, nesting over 64, reserved characters, broken syntax). */
const BAD_CONFIGS = [
  'include "file.conf"', 'include required(file("/etc/passwd"))', 'a = ${HOME}', 'a = ${?PATH}', 'a += ${x}', 'a = {', 'a = [1, 2', '{{{{', 'a = }', '= 1',
  'a = "unterminated', 'a = """open', 'a = x^y', 'a = `x`', 'a.b = 1\na { include "x" }', '{"a":}', 'a = [1,,2]', '}', ']', 'a = 1 ]',
  'a { b { c = 1 }', 'a = "\\q"', 'a = \\', 'a=1, , b=2', 'a = b ? c', 'a = *', 'a = @x', '{"a":1}{"b":2}',
  `a = ${'['.repeat(100)}${']'.repeat(100)}`, `x = ${'{a:'.repeat(80)}1${'}'.repeat(80)}`, `deep ${'{ k '.repeat(70)}${'}'.repeat(70)}`,
];
/** Bodies no one can say anything about in advance. */
const garbageBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.constantFrom(Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('a = "\xff\xfe"', 'latin1'), Buffer.from([0xc0, 0xaf, 0x3d, 0x31]), Buffer.from('input.string = \ud800 x', 'utf8')),
  fc.constantFrom(...MALFORMED_JSON),
  fc.constant(`a = "${'x'.repeat(300_000)}"`),
  fc.constant(`pad = "${'p'.repeat(1024 * 1024 + 10)}"`),
);

/** The content types a config body comes with (python-sjsclient sends none). */
const configContentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant<string | undefined>(undefined) },
  { weight: 2, arbitrary: fc.constantFrom('text/plain', 'application/json', 'application/hocon', 'text/plain; charset=utf-8') },
  { weight: 1, arbitrary: contentType },
);

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
export type UploadContent = 'js' | 'junk' | 'zip' | 'nonzip' | 'empty' | 'oversize' | 'max';
export const ARCHIVE_TYPES = ['application/java-archive', 'application/python-egg', 'application/python-wheel', 'application/python-archive'];
export const SPARK_TYPES: Readonly<Record<string, string>> = {
  'application/java-archive': 'Jar', 'application/python-egg': 'Egg', 'application/python-wheel': 'Wheel', 'application/python-archive': 'Egg', 'application/javascript': 'JavaScript',
};
const UNSUPPORTED_TYPES = [
  'application/zip', 'application/octet-stream', 'text/plain', 'application/x-java-archive', 'application/jar', 'application/java-archive-x',
  'multipart/form-data; boundary=x', 'application/json', 'text/javascript', 'application/x-python-wheel', 'image/png',
];

function uploadBytes(content: UploadContent, seed: number): Buffer {
  switch (content) {
    case 'js':
      return Buffer.from(seed % 2 === 0 ? TINY_JOBS : 'export const X = 1;\n');
    case 'junk':
      return Buffer.from(`junk ${seed} {{{ \u0000\u00ff`);
    case 'zip':
      return Buffer.concat([ZIP_MAGIC, Buffer.alloc(seed % 2000, 7)]);
    case 'nonzip':
      return Buffer.concat([Buffer.from('PK\u0005\u0006'), Buffer.alloc(seed % 500, 1)]);
    case 'empty':
      return Buffer.alloc(0);
    case 'oversize':
      return Buffer.concat([ZIP_MAGIC, Buffer.alloc(BINARY_MAX_BYTES - ZIP_MAGIC.length + 1 + (seed % 8192), 0x78)]);
    case 'max':
      return Buffer.concat([ZIP_MAGIC, Buffer.alloc(BINARY_MAX_BYTES - ZIP_MAGIC.length, 0x78)]);
  }
}

// ---- requests ----------------------------------------------------------------------------------

export type Mount = 'own' | 'api';
export type RouteName =
  | 'binaries_list' | 'binary_get' | 'binary_upload' | 'binary_delete' | 'contexts_list' | 'context_get' | 'context_create' | 'context_delete'
  | 'contexts_reset' | 'jobs_list' | 'job_start' | 'job_get' | 'job_config' | 'job_kill' | 'healthz' | 'stray';

/** A job a request names: the k-th known one, the one holding `full1`, the admin's native job, or an id no job has (`unknown`: as the route sees it, when known). */
export type JobRef = { known: number } | { hold: true } | { native: true } | { unknown: string | undefined; seg: string };
export type StartFlaw = 'none' | 'sync' | 'timeout' | 'dup' | 'config' | 'noEntry' | 'noClass' | 'noMain' | 'badBin' | 'badClass' | 'callback' | 'proxy' | 'override' | 'chaos';
export type ContextFlaw = 'none' | 'badStart' | 'odd' | 'slots' | 'memory' | 'config' | 'chaos';

/** What a request is about; the oracle's expectation and the model's update come from it (`name` undefined: not predictable). */
export type Intent =
  | { kind: 'any' }
  | { kind: 'notFound' }
  | { kind: 'healthz' }
  | { kind: 'binaryList' }
  | { kind: 'binaryGet'; name: string | undefined }
  | { kind: 'upload'; name: string | undefined; type: string | undefined; content: UploadContent; chaos: boolean }
  | { kind: 'binaryDelete'; name: string | undefined }
  | { kind: 'contextList' }
  | { kind: 'contextGet'; name: string | undefined }
  | { kind: 'contextCreate'; name: string | undefined; flaw: ContextFlaw }
  | { kind: 'contextDelete'; name: string | undefined; badForce: boolean }
  | { kind: 'reset'; ok: boolean; async: boolean }
  | { kind: 'jobList'; ok: boolean; limit: number; status: string | undefined }
  | { kind: 'jobStart'; flaw: StartFlaw; context: string | undefined; sync: boolean; cpStyle: boolean }
  | { kind: 'jobRead'; ref: JobRef; config: boolean }
  | { kind: 'jobKill'; ref: JobRef };

export interface Generated {
  mount: Mount;
  route: RouteName;
  method: string;
  /** The path without its query; `{job}` stands for the job of `intent.ref` (resolved when its batch is formed). */
  path: string;
  /** Query pairs (a value may hold `@BIN@`, the binary a start names), or raw query text. */
  query: readonly (readonly [string, string])[] | string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The binary a job start names (`@BIN@`); the start valve may put a missing one in its place. */
  bin?: string;
  intent: Intent;
}

/** Lone surrogates (evil strings hold them) as the server reads them. */
const wellFormed = (s: string): string => s.replace(/[\ud800-\udfff]/gu, '\ufffd');
/** Percent-encoding that survives lone surrogates. */
export const enc = (s: string): string => encodeURIComponent(wellFormed(s));

interface Named {
  seg: string;
  name: string | undefined;
}
const named = (names: readonly string[]): fc.Arbitrary<Named> => fc.constantFrom(...names).map((n) => ({ seg: enc(n), name: n }));
const rawSegment: fc.Arbitrary<Named> = fc.constantFrom(...RAW_SEGMENTS).map((s) => ({ seg: s, name: undefined }));
const evilSegment: fc.Arbitrary<Named> = evilString.map((s) => ({ seg: enc(s), name: s === '' || s === '.' || s === '..' ? undefined : wellFormed(s) }));

const mount = fc.constantFrom<Mount>('own', 'api');
const extraHeaders = fuzzExtraHeaders('c3Bhcms6c3Bhcms=');

const jobRef = (holdWeight: number): fc.Arbitrary<JobRef> => fc.oneof(
  { weight: 40, arbitrary: fc.nat(1000).map((k): JobRef => ({ known: k })) },
  { weight: holdWeight, arbitrary: fc.constant<JobRef>({ hold: true }) },
  { weight: 3, arbitrary: fc.constant<JobRef>({ native: true }) },
  { weight: 10, arbitrary: fc.uuid().map((u): JobRef => ({ unknown: u, seg: u })) },
  { weight: 7, arbitrary: fc.constantFrom('abc', '1', 'x'.repeat(200), 'not-a-uuid', '00000000-0000-0000-0000-00000000000g', '__proto__').map((s): JobRef => ({ unknown: s, seg: enc(s) })) },
  { weight: 3, arbitrary: rawSegment.map((n): JobRef => ({ unknown: undefined, seg: n.seg })) },
);

// -- /binaries

const binaryGet: fc.Arbitrary<Generated> = fc
  .record({ mount, n: fc.oneof(named([...SEEDED, HOLD, ...POOL, ...MISSING]), named(BAD_BINARY_NAMES), rawSegment), head: fc.nat(9) })
  .map(({ mount, n, head }) => ({ mount, route: 'binary_get', method: head === 0 ? 'HEAD' : 'GET', path: `/binaries/${n.seg}`, query: '', headers: {}, intent: { kind: 'binaryGet', name: n.name } }));

const binaryUpload: fc.Arbitrary<Generated> = fc
  .record({
    mount,
    n: fc.oneof({ weight: 14, arbitrary: named(POOL) }, { weight: 3, arbitrary: named(BAD_BINARY_NAMES) }, { weight: 1, arbitrary: rawSegment }, { weight: 1, arbitrary: evilSegment }),
    type: fc.oneof(
      { weight: 6, arbitrary: fc.constant('application/javascript') },
      { weight: 6, arbitrary: fc.constantFrom(...ARCHIVE_TYPES) },
      { weight: 1, arbitrary: fc.constantFrom('APPLICATION/JAVA-ARCHIVE', 'application/javascript; charset=utf-8', 'Application/Python-Wheel ; x=1') },
      { weight: 3, arbitrary: fc.constantFrom<string | undefined>(...UNSUPPORTED_TYPES, '', undefined) },
    ),
    content: fc.constantFrom<UploadContent>('js', 'js', 'junk', 'zip', 'zip', 'nonzip', 'empty', 'oversize', 'max'),
    seed: fc.nat(100_000),
    chaos: fc.nat(12).map((x) => x === 0),
    extra: extraHeaders,
    query: fc.oneof({ weight: 8, arbitrary: fc.constant<[string, string][]>([]) }, { weight: 1, arbitrary: fc.constantFrom<[string, string][]>([['_method', 'POST']], [['x', '1']], [['_method', 'DELETE'], ['_method', 'DELETE']]) }),
  })
  .map(({ mount, n, type, content, seed, chaos, extra, query }): Generated => ({
    mount,
    route: 'binary_upload',
    method: 'POST',
    path: `/binaries/${n.seg}`,
    query,
    headers: { ...(chaos ? extra : {}), ...(type === undefined ? {} : { 'content-type': type }) },
    body: uploadBytes(content, seed),
    intent: { kind: 'upload', name: n.name, type, content, chaos: chaos || query.length > 0 },
  }));

/** `DELETE`, or `POST ?_method=DELETE` in any case (akka's overrideMethodWithParameter). */
const deleting = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ method: 'DELETE', override: undefined as string | undefined }) },
  { weight: 2, arbitrary: fc.constantFrom('DELETE', 'delete', 'Delete').map((o) => ({ method: 'POST', override: o as string | undefined })) },
);

const binaryDelete: fc.Arbitrary<Generated> = fc
  .record({
    mount,
    n: fc.oneof({ weight: 8, arbitrary: named(POOL) }, { weight: 3, arbitrary: named([HOLD]) }, { weight: 3, arbitrary: named(MISSING) }, { weight: 2, arbitrary: named(BAD_BINARY_NAMES) }, { weight: 1, arbitrary: rawSegment }),
    how: deleting,
  })
  .map(({ mount, n, how }) => ({
    mount, route: 'binary_delete', method: how.method, path: `/binaries/${n.seg}`, query: how.override === undefined ? [] : [['_method', how.override] as const],
    headers: {}, intent: { kind: 'binaryDelete', name: n.name },
  }));

// -- /contexts

const contextName = fc.oneof(
  { weight: 12, arbitrary: named(FUZZ_CONTEXTS) },
  { weight: 1, arbitrary: named([FULL]) },
  { weight: 2, arbitrary: named(BAD_START_CONTEXTS) },
  { weight: 2, arbitrary: named(ODD_CONTEXTS) },
  { weight: 1, arbitrary: rawSegment },
);

const GOOD_SLOTS = ['1', '1', '2', '2', '1000'];
const BAD_SLOTS = ['0', '-1', 'abc', '1001', '99999999999', '1.5', '', '1e3', '0x2', '+1'];
const GOOD_MEMORY = ['512m', '1g', '64m', '2048', '1G', '100mb'];
const BAD_MEMORY = ['abc', '0', '-5m', '2x', '', '1.5g', '99999999999g', 'm'];

const contextCreate: fc.Arbitrary<Generated> = fc
  .record({
    mount,
    n: contextName,
    flaw: fc.constantFrom<ContextFlaw>('none', 'none', 'none', 'none', 'badStart', 'odd', 'slots', 'memory', 'config', 'chaos'),
    slotsKey: fc.constantFrom('num-cpu-cores', 'num-cpu-cores', 'max-jobs-per-context'),
    slots: fc.option(fc.constantFrom(...GOOD_SLOTS), { nil: undefined, freq: 4 }),
    badSlots: fc.constantFrom(...BAD_SLOTS),
    memory: fc.option(fc.constantFrom(...GOOD_MEMORY), { nil: undefined, freq: 2 }),
    badMemory: fc.constantFrom(...BAD_MEMORY),
    inBody: fc.boolean(),
    body: fc.option(fc.constantFrom('', 'spark.context-settings { spark.executor.memory = 1g }', '{"spark": {"context-settings": {"x": 1}}}', 'other = 1'), { nil: undefined }),
    badBody: fc.constantFrom(...BAD_CONFIGS),
    junk: fc.array(fc.tuple(fc.constantFrom('spark.executor.memory', 'num-cpu-cores', 'context-factory', '__proto__', 'x', '_method', 'sync'), fc.oneof(evilString, fc.constantFrom('1', '2', 'true'))), { maxLength: 3 }),
    chaosBody: fc.option(garbageBody, { nil: undefined }),
    ct: configContentType,
    badStart: named(BAD_START_CONTEXTS),
    odd: named(ODD_CONTEXTS),
  })
  .map(({ mount, n: n0, flaw, slotsKey, slots, badSlots, memory, badMemory, inBody, body: body0, badBody, junk, chaosBody, ct, badStart, odd }): Generated => {
    // the name the flaw needs; else a well-formed one (any name for chaos)
    const wellNamed = n0.name !== undefined && (FUZZ_CONTEXTS.includes(n0.name) || n0.name === FULL);
    const n = flaw === 'badStart' ? badStart : flaw === 'odd' ? odd : flaw === 'chaos' || wellNamed ? n0 : { seg: 'ca', name: 'ca' };
    const settings: [string, string][] = [];
    if (slots !== undefined || flaw === 'slots') settings.push([slotsKey, flaw === 'slots' ? badSlots : slots!]);
    if (memory !== undefined || flaw === 'memory') settings.push(['memory-per-node', flaw === 'memory' ? badMemory : memory!]);
    let query: [string, string][] = [];
    let body: string | Buffer | undefined = body0;
    if (inBody && settings.length > 0 && flaw !== 'config') {
      body = `spark.context-settings {\n${settings.map(([k, v]) => `  ${k} = ${JSON.stringify(v)}`).join('\n')}\n}\n`;
    } else query = settings;
    if (flaw === 'config') body = badBody;
    if (flaw === 'chaos') {
      query = [...query, ...junk];
      body = chaosBody;
    }
    return {
      mount, route: 'context_create', method: 'POST', path: `/contexts/${n.seg}`, query,
      headers: body !== undefined && ct !== undefined ? { 'content-type': ct } : {},
      ...(body === undefined ? {} : { body }),
      intent: { kind: 'contextCreate', name: n.name, flaw },
    };
  });

const contextGet: fc.Arbitrary<Generated> = fc
  .record({ mount, n: fc.oneof(contextName, named(MISSING_CONTEXTS)), head: fc.nat(9) })
  .map(({ mount, n, head }) => ({ mount, route: 'context_get', method: head === 0 ? 'HEAD' : 'GET', path: `/contexts/${n.seg}`, query: '', headers: {}, intent: { kind: 'contextGet', name: n.name } }));

const contextDelete: fc.Arbitrary<Generated> = fc
  .record({
    mount,
    n: fc.oneof({ weight: 30, arbitrary: named(FUZZ_CONTEXTS) }, { weight: 1, arbitrary: named([FULL]) }, { weight: 9, arbitrary: named(MISSING_CONTEXTS) }, { weight: 2, arbitrary: fc.oneof(named(BAD_START_CONTEXTS), named(ODD_CONTEXTS), rawSegment) }),
    how: deleting,
    force: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<string | undefined>(undefined, 'true', 'false', 'TRUE', 'yes', '0') }, { weight: 1, arbitrary: fc.constantFrom('maybe', '', '2', 'truee') }),
  })
  .map(({ mount, n, how, force }) => {
    const query: [string, string][] = [];
    if (how.override !== undefined) query.push(['_method', how.override]);
    if (force !== undefined) query.push(['force', force]);
    const badForce = force !== undefined && !['true', 'false', 'yes', 'no', 'on', 'off', '1', '0'].includes(force.toLowerCase());
    return { mount, route: 'context_delete', method: how.method, path: `/contexts/${n.seg}`, query, headers: {}, intent: { kind: 'contextDelete', name: n.name, badForce } };
  });

const contextsReset: fc.Arbitrary<Generated> = fc
  .record({
    mount,
    reset: fc.constantFrom<string | undefined>('reboot', 'reboot', 'REBOOT', 'restart', '', undefined, 'reboot ', 'Reboot'),
    sync: fc.constantFrom<string | undefined>(undefined, undefined, 'true', 'false', 'maybe'),
  })
  .map(({ mount, reset, sync }) => {
    const query: [string, string][] = [];
    if (reset !== undefined) query.push(['reset', reset]);
    if (sync !== undefined) query.push(['sync', sync]);
    const ok = reset === 'reboot' && (sync === undefined || sync === 'true' || sync === 'false');
    return { mount, route: 'contexts_reset', method: 'PUT', path: '/contexts', query, headers: {}, intent: { kind: 'reset', ok, async: sync === 'false' } };
  });

// -- /jobs

export const JOB_STATUSES = ['STARTED', 'RUNNING', 'FINISHED', 'ERROR', 'KILLED', 'RESTARTING'];
const jobsList: fc.Arbitrary<Generated> = fc
  .record({
    mount,
    limit: fc.oneof({ weight: 3, arbitrary: fc.constantFrom<string | undefined>(undefined, '0', '1', '10', '50', '1000', '100000') }, { weight: 1, arbitrary: fc.constantFrom('-1', 'abc', '100001', '1.5', '99999999999', '', '1e3', ' 5') }),
    status: fc.oneof({ weight: 3, arbitrary: fc.constantFrom<string | undefined>(undefined, ...JOB_STATUSES, 'finished', 'Running', 'error') }, { weight: 1, arbitrary: fc.constantFrom('FOO', 'running,finished', '', 'SUCCEEDED', 'STOPPED') }),
    dup: fc.nat(10).map((x) => x === 0),
    head: fc.nat(19),
  })
  .map(({ mount, limit, status, dup, head }) => {
    const query: [string, string][] = [];
    if (limit !== undefined) query.push(['limit', limit]);
    if (status !== undefined) query.push(['status', status]);
    if (dup) {
      const [k, v] = limit !== undefined ? ['limit', '5'] : ['status', 'RUNNING'];
      query.push([k, v]);
      if (!query.some(([x], n) => x === k && n < query.length - 1)) query.push([k, 'ERROR']);
    }
    const limitOk = limit === undefined || (/^\d{1,10}$/.test(limit) && Number(limit) <= 100_000);
    return {
      mount, route: 'jobs_list', method: head === 0 ? 'HEAD' : 'GET', path: '/jobs', query, headers: {},
      intent: { kind: 'jobList', ok: limitOk && !dup, limit: limit === undefined ? 50 : Number(limit), status: status?.toUpperCase() },
    };
  });

const GOOD_TIMEOUTS = ['0', '0', '1', '1', '2', '60', '86400'];
const BAD_TIMEOUTS = ['-1', 'abc', '1.5', '86401', '99999999999', '', '1e3', ' 1', '0x10'];
const BAD_SYNC = ['maybe', '2', 'TRUE!', '', 'yess', 'null'];
const GOOD_SYNC = ['true', 'false', 'yes', 'on', '1', 'TRUE', 'off', '0', 'No'];
/** `@CB@`: the local callback receiver. */
const GOOD_CALLBACKS = ['@CB@', '@CB@?x=1', 'http://127.0.0.1:9/unreachable'];
const BAD_CALLBACKS = [
  'ftp://127.0.0.1/x', 'javascript:alert(1)', 'file:///etc/passwd', 'http%3A%2F%2F127.0.0.1%2F%ZZ', '%ZZ', '', 'not a url', `http://${'h'.repeat(2100)}.com/`,
  'data:text/plain,hi', '//127.0.0.1/x', 'httpx://127.0.0.1/',
];

const jobStart: fc.Arbitrary<Generated> = fc
  .record({
    mount,
    flaw: fc.constantFrom<StartFlaw>(...(['none', 'none', 'none', 'sync', 'timeout', 'dup', 'config', 'config', 'noEntry', 'noClass', 'noMain', 'badBin', 'badClass', 'callback', 'proxy', 'override', 'chaos', 'chaos', 'chaos'] as const)),
    style: fc.constantFrom('appName', 'appName', 'cp', 'cpConfig'),
    bin: fc.oneof({ weight: 4, arbitrary: fc.constant('tiny') }, { weight: 2, arbitrary: fc.constant('wc') }, { weight: 6, arbitrary: fc.constantFrom(...POOL) }, { weight: 1, arbitrary: fc.constant(HOLD) }, { weight: 7, arbitrary: fc.constantFrom(...MISSING) }),
    cls: fc.constantFrom(...CLASSES),
    sync: fc.option(fc.constantFrom(...GOOD_SYNC), { nil: undefined, freq: 2 }),
    // 0 often: a sync start whose ask times out at once answers Spark's 500 ERROR (with a timeout of 0 in 1 of 7
    // starts it came 2-8 times a run); it matters to sync starts only
    timeout: fc.option(fc.oneof(fc.constant('0'), fc.constantFrom(...GOOD_TIMEOUTS)), { nil: undefined, freq: 3 }),
    // full1, whose one slot the hold job keeps: 503 NO SLOTS AVAILABLE (at weight 2 it came 3-19 times a run)
    context: fc.oneof({ weight: 14, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 3, arbitrary: fc.constantFrom(...FUZZ_CONTEXTS) }, { weight: 4, arbitrary: fc.constant(FULL) }, { weight: 1, arbitrary: fc.constantFrom(...MISSING_CONTEXTS, '') }),
    callback: fc.option(fc.constantFrom(...GOOD_CALLBACKS), { nil: undefined, freq: 6 }),
    encodeCallback: fc.boolean(),
    proxy: fc.option(fc.constantFrom('alice', 'bob@EXAMPLE.COM'), { nil: undefined, freq: 8 }),
    config: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...GOOD_CONFIGS) }, { weight: 1, arbitrary: fc.constantFrom(...JSON_CONFIGS) }, { weight: 1, arbitrary: fc.object({ maxDepth: 2, maxKeys: 4 }).map((o) => JSON.stringify(o)) }),
    ct: configContentType,
    badSync: fc.constantFrom(...BAD_SYNC),
    badTimeout: fc.constantFrom(...BAD_TIMEOUTS),
    dupKey: fc.constantFrom('sync', 'timeout', 'context', 'appName', 'classPath', 'cp', 'mainClass', 'callbackUrl', 'spark.proxy.user'),
    badConfig: fc.constantFrom(...BAD_CONFIGS),
    badBin: fc.oneof(named(BAD_BINARY_NAMES).map((n) => n.name!), fc.constantFrom('tiny,wc', 'a,b', 'file:///tmp/x.jar', 'http://h/x.jar', 'tiny,,wc')),
    badClass: fc.constantFrom(...BAD_CLASSES),
    badCallback: fc.constantFrom(...BAD_CALLBACKS),
    override: fc.constantFrom('DELETE', 'delete', 'Delete'),
    chaosPairs: fc.array(
      fc.tuple(
        fc.constantFrom('appName', 'classPath', 'cp', 'mainClass', 'context', 'sync', 'timeout', 'callbackUrl', 'spark.proxy.user', '_method', '__proto__', 'x'),
        fc.oneof(evilString, fc.constantFrom('@BIN@', 'Instant', 'true', '0', '1', 'ca', FULL, '-5', '99999999999')),
      ),
      { maxLength: 6 },
    ),
    chaosBody: fc.option(fc.oneof(garbageBody, fc.constantFrom(...BAD_CONFIGS, ...GOOD_CONFIGS)), { nil: undefined }),
    chaosCt: fc.option(contentType, { nil: undefined }),
    extra: fc.option(extraHeaders, { nil: undefined, freq: 3 }),
  })
  .map((r): Generated => {
    const q: [string, string][] = [];
    let body: string | Buffer | undefined = r.config === '' ? undefined : r.config;
    if (r.flaw === 'chaos') {
      return {
        mount: r.mount, route: 'job_start', method: 'POST', path: '/jobs', query: r.chaosPairs,
        headers: { ...(r.extra ?? {}), ...(r.chaosCt === undefined || r.chaosBody === undefined ? {} : { 'content-type': r.chaosCt }) },
        ...(r.chaosBody === undefined ? {} : { body: r.chaosBody }), bin: r.bin,
        intent: { kind: 'jobStart', flaw: 'chaos', context: undefined, sync: false, cpStyle: false },
      };
    }
    const style = r.flaw === 'noClass' ? 'appName' : r.flaw === 'noMain' ? 'cp' : r.style;
    const cls = r.flaw === 'badClass' ? r.badClass : r.cls;
    const bin = r.flaw === 'badBin' ? r.badBin : '@BIN@';
    if (r.flaw === 'noEntry') body = undefined;
    else {
      if (style === 'appName') {
        q.push(['appName', bin]);
        if (r.flaw !== 'noClass') q.push(['classPath', cls]);
      } else if (style === 'cp') {
        q.push(['cp', bin]);
        if (r.flaw !== 'noMain') q.push(['mainClass', cls]);
      } else {
        // the entry point in the config (only the HOCON configs: a JSON one has its braces at the root)
        const rest = body !== undefined && !body.trimStart().startsWith('{') ? body : '';
        body = `cp = ${JSON.stringify(bin)}\nmainClass = ${JSON.stringify(cls)}\n${rest}`;
      }
    }
    const sync = r.flaw === 'sync' ? r.badSync : r.sync;
    if (sync !== undefined) q.push(['sync', sync]);
    const timeout = r.flaw === 'timeout' ? r.badTimeout : r.timeout;
    if (timeout !== undefined) q.push(['timeout', timeout]);
    if (r.context !== undefined) q.push(['context', r.context]);
    const callback = r.flaw === 'callback' ? r.badCallback : r.callback;
    if (callback !== undefined) q.push(['callbackUrl', r.encodeCallback ? enc(callback).replace(/%40CB%40/g, '@CB@') : callback]);
    const proxy = r.flaw === 'proxy' ? 'p'.repeat(257) : r.proxy;
    if (proxy !== undefined) q.push(['spark.proxy.user', proxy]);
    if (r.flaw === 'override') q.push(['_method', r.override]);
    if (r.flaw === 'config') body = r.badConfig;
    // no entry point in the config either
    if (r.flaw === 'noEntry' || r.flaw === 'noMain') body = 'input.string = a b';
    if (r.flaw === 'dup') {
      const present = q.find(([k]) => k === r.dupKey);
      q.push(present !== undefined ? [present[0], present[1]] : [r.dupKey, r.dupKey === 'sync' ? 'false' : r.dupKey === 'timeout' ? '1' : 'x'], [r.dupKey, r.dupKey === 'timeout' ? '2' : 'y']);
    }
    const isSync = sync !== undefined && ['true', 'yes', 'on', '1'].includes(sync.toLowerCase());
    return {
      mount: r.mount, route: 'job_start', method: 'POST', path: '/jobs', query: q,
      headers: body !== undefined && r.ct !== undefined ? { 'content-type': r.ct } : {},
      ...(body === undefined ? {} : { body }),
      bin: r.bin,
      intent: { kind: 'jobStart', flaw: r.flaw, context: r.context === '' ? undefined : r.context, sync: isSync, cpStyle: style !== 'appName' },
    };
  });

const jobRead: fc.Arbitrary<Generated> = fc
  .record({ mount, ref: jobRef(4), config: fc.nat(3).map((x) => x === 0), head: fc.nat(19) })
  .map(({ mount, ref, config, head }) => ({
    mount, route: config ? 'job_config' : 'job_get', method: head === 0 ? 'HEAD' : 'GET', path: `/jobs/{job}${config ? '/config' : ''}`, query: '', headers: {},
    intent: { kind: 'jobRead', ref, config },
  }));

const jobKill: fc.Arbitrary<Generated> = fc
  .record({ mount, ref: jobRef(1), how: deleting })
  .map(({ mount, ref, how }) => ({
    mount, route: 'job_kill', method: how.method, path: '/jobs/{job}', query: how.override === undefined ? [] : [['_method', how.override] as const], headers: {},
    intent: { kind: 'jobKill', ref },
  }));

const simple = (route: RouteName, path: string, intent: Intent): fc.Arbitrary<Generated> =>
  fc.record({ mount, head: fc.nat(9), junk: fc.option(fc.constantFrom('?x=1', '?limit=abc', '?__proto__[a]=1', '?a=1&a=2'), { nil: undefined, freq: 5 }) }).map(({ mount, head, junk }) => ({
    mount, route, method: head === 0 ? 'HEAD' : 'GET', path, query: junk ?? '', headers: {}, intent,
  }));

// -- unknown paths and wrong methods

/** Paths no route takes, with any method. */
const UNKNOWN_PATHS = ['/jars', '/jars/x', '/nope', '/binaries/x/y', '/contexts/a/b/c', '/jobs/x/y', '/data', '/data/x', '/api/v1', '/healthz/x', '/jobs/x/config/y', '/BINARIES', '/Jobs', '/contexts/a/b'];
/** Real paths with a method they do not take. */
const WRONG_METHODS: readonly (readonly [string, string])[] = [
  ['PATCH', '/binaries'], ['PUT', '/binaries'], ['POST', '/binaries'], ['DELETE', '/binaries'], ['PUT', '/binaries/up-a'], ['PATCH', '/binaries/up-a'],
  ['PUT', '/jobs'], ['PATCH', '/jobs'], ['DELETE', '/jobs'], ['PUT', '/jobs/x'], ['PATCH', '/jobs/x'], ['POST', '/jobs/x/config'], ['DELETE', '/jobs/x/config'],
  ['POST', '/contexts'], ['DELETE', '/contexts'], ['PATCH', '/contexts/ca'], ['PUT', '/contexts/ca'], ['POST', '/healthz'], ['DELETE', '/healthz'], ['PUT', '/healthz'],
  ['OPTIONS', '/jobs'], ['OPTIONS', '/binaries'], ['POST', '/jobs/00000000-0000-0000-0000-000000000000'],
];
const STRAY_PATHS = [
  '/', '/binaries/', '/jobs/', '/contexts/', '//jobs', '/jobs//x', '/binaries/%ZZ', '/jobs/%', '/%2e%2e/jobs', '/../jobs', '/jobs/../binaries', '/jobs;x=1',
  '/contexts/%00', '/\u00e9', '/%E2%80%AE', '/\\..\\..\\windows', `/jobs/${'x'.repeat(5000)}`, `/binaries/${'b'.repeat(20_000)}`, '/native/v1/jobs', '/metrics', '/compat/spark/jobs',
];

const stray: fc.Arbitrary<Generated> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ mount, method: fc.constantFrom(...FUZZ_METHODS.filter((m) => m !== 'HEAD')), path: fc.constantFrom(...UNKNOWN_PATHS) }).map(
      ({ mount, method, path }): Generated => ({ mount, route: 'stray', method, path, query: '', headers: {}, intent: { kind: 'notFound' } }),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({ mount, mp: fc.constantFrom(...WRONG_METHODS), body: fc.option(fc.constantFrom('a = 1', '{}'), { nil: undefined }) }).map(
      ({ mount, mp, body }): Generated => ({ mount, route: 'stray', method: mp[0], path: mp[1], query: '', headers: body === undefined ? {} : { 'content-type': 'text/plain' }, ...(body === undefined ? {} : { body }), intent: { kind: 'notFound' } }),
    ),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        mount,
        method: fc.constantFrom(...FUZZ_METHODS),
        path: fc.oneof(fc.constantFrom(...STRAY_PATHS), fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)), evilString.map((s) => `/jobs/${enc(s)}`)),
        query: fc.oneof(fc.constant(''), fc.constantFrom('?_method=DELETE', '?_method=PUT', '?_method=junk', '?a=%ZZ', '?a=1&a=2', '?\u00ff', `?x=${'q'.repeat(20_000)}`)),
        body: fc.option(garbageBody, { nil: undefined, freq: 4 }),
        ct: contentType,
      })
      .map(({ mount, method, path, query, body, ct }): Generated => ({
        mount, route: 'stray', method, path, query, headers: body === undefined || ct === undefined ? {} : { 'content-type': ct }, ...(body === undefined ? {} : { body }), intent: { kind: 'any' },
      })),
  },
);

/** One request of the fuzz: the routes weighted, and stray ones. */
export const sparkRequest: fc.Arbitrary<Generated> = fc.oneof(
  { weight: 96, arbitrary: jobStart },
  { weight: 40, arbitrary: binaryUpload },
  { weight: 20, arbitrary: binaryDelete },
  { weight: 16, arbitrary: binaryGet },
  { weight: 8, arbitrary: simple('binaries_list', '/binaries', { kind: 'binaryList' }) },
  { weight: 8, arbitrary: simple('contexts_list', '/contexts', { kind: 'contextList' }) },
  { weight: 16, arbitrary: contextGet },
  { weight: 32, arbitrary: contextCreate },
  { weight: 20, arbitrary: contextDelete },
  { weight: 1, arbitrary: contextsReset },
  { weight: 20, arbitrary: jobsList },
  { weight: 28, arbitrary: jobRead },
  { weight: 20, arbitrary: jobKill },
  { weight: 8, arbitrary: simple('healthz', '/healthz', { kind: 'healthz' }) },
  { weight: 48, arbitrary: stray },
);
