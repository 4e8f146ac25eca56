/**
 * The route fuzz over the Alluxio facade (docs/compat/alluxio.md), against the real engine on a real
 * nats-server, over real HTTP: the job master, job worker and EE coordinator listeners and the
 * `/compat/alluxio/` mount on the API port. Generated requests over every facade route, unknown paths and wrong
 * methods: malformed query values (jobId, status, name; EE's id, alias, path, index), JobConfigs and
 * EE load bodies (`{paths, index, alias, options}`) valid and broken (the three `@type` spellings,
 * wrong types, deep nesting, huge strings, poisoning keys, non-JSON, wrong content types, empty
 * bodies) and Alluxio paths (relative, `..`, `alluxio://`, control characters, unicode).
 * OSS routes: every failure must be the original's HTTP 500 `{"status","message"}` with a status a
 * client may cause (never INTERNAL or UNKNOWN), or the 404 of an unknown path. EE routes (and any
 * path on the EE port): a 4xx with EE's `{"status"}`, never a 5xx (EE's 500 is a server fault).
 * No hung request; afterwards the server still answers and the jobs written are exactly those of
 * the `run`s and EE loads (one per path) that answered 200. Seeded: FUZZ_SEED=<n> replays the
 * requests (the seed is printed; the ids of jobs created during the run may differ); FUZZ_RUNS=<n>
 * changes the count.
 *
 * Tolerated and counted, not failed (reported): what Node's HTTP parser refuses before any route
 * (raw bytes above 0x7e in the request line: 400; a head over 16 KiB: 431, with a body even to a
 * HEAD); and the jobs of the earlier paths of a multi-path EE load that lost a race on a later path
 * (409), as documented. When a job is written that no 200 explains, the failure prints the requests
 * that could have written it (those naming its path, in flight when it was submitted) and their answers.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JobView } from '../../../engine/serviceTypes.ts';
import { identityPath, jobPath } from '../../../api/compat/alluxio/jobIdentity.ts';
import { FUZZ_METHODS, MALFORMED_JSON, OVERSIZE_BODY, SEED, allNativeJobs, contentType, createRequestJournal, evilString, fuzzExtraHeaders, headBytes, sendRaw, wirePath, wrongValue, type RawAnswer } from '../../helpers/routeFuzz.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);
/** FUZZ_BY_MESSAGE=1: outcomes counted by error message too (to see what the generators reach). */
const BY_MESSAGE = process.env['FUZZ_BY_MESSAGE'] !== undefined;
/** Requests in flight at once (well under the per-address connection cap of 256). */
const CONCURRENCY = 8;
/** A request without an answer this long is hung. */
const HUNG_MS = 15_000;
const MASTER = '/api/v1/master/job';
/** Statuses a client's request may bring about; INTERNAL and UNKNOWN mean our bug. */
const CLIENT_STATUSES = new Set(['NOT_FOUND', 'INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE']);

type Mount = 'master' | 'worker' | 'ee' | 'api';
type OssRoute = 'run' | 'get_status' | 'list' | 'cancel' | 'failure_history' | 'service_name' | 'service_version' | 'master_info' | 'worker_info';
type EeRoute = 'ee_submit' | 'ee_progress' | 'ee_stop' | 'ee_submit_ai' | 'ee_progress_ai';
type RouteName = OssRoute | EeRoute | 'stray';

interface Generated {
  mount: Mount;
  route: RouteName;
  method: string;
  /** Path and query as sent; `KNOWN_<k>_` stands for the k-th known job id, `UUID_<k>_` for the k-th known job UUID (resolved when sent). */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

type Answer = RawAnswer;

/** Every facade route, on the mounts that serve it; `weight`: how often the fuzz picks it. */
const ROUTES: readonly { route: OssRoute | EeRoute; method: string; path: string; on: readonly Mount[]; weight: number }[] = [
  { route: 'run', method: 'POST', path: `${MASTER}/run`, on: ['master', 'api'], weight: 4 },
  { route: 'get_status', method: 'GET', path: `${MASTER}/get_status`, on: ['master', 'api'], weight: 2 },
  { route: 'list', method: 'GET', path: `${MASTER}/list`, on: ['master', 'api'], weight: 2 },
  { route: 'cancel', method: 'POST', path: `${MASTER}/cancel`, on: ['master', 'api'], weight: 2 },
  { route: 'failure_history', method: 'GET', path: `${MASTER}/failure_history`, on: ['master', 'api'], weight: 1 },
  { route: 'service_name', method: 'GET', path: `${MASTER}/service_name`, on: ['master', 'api'], weight: 1 },
  { route: 'service_version', method: 'GET', path: `${MASTER}/service_version`, on: ['master', 'api'], weight: 1 },
  { route: 'master_info', method: 'GET', path: '/api/v1/job_master/info', on: ['master', 'api'], weight: 1 },
  { route: 'worker_info', method: 'GET', path: '/api/v1/job_worker/info', on: ['worker', 'api'], weight: 1 },
  // the EE coordinator (its own port and /compat/alluxio/): EE's error shape
  { route: 'ee_submit', method: 'POST', path: '/api/v1/load', on: ['ee', 'api'], weight: 3 },
  { route: 'ee_progress', method: 'GET', path: '/api/v1/load', on: ['ee', 'api'], weight: 2 },
  { route: 'ee_stop', method: 'DELETE', path: '/api/v1/load', on: ['ee', 'api'], weight: 2 },
  { route: 'ee_submit_ai', method: 'POST', path: '/api/v1/master/submit_job/load', on: ['ee', 'api'], weight: 1 },
  { route: 'ee_progress_ai', method: 'GET', path: '/api/v1/master/progress_job/load', on: ['ee', 'api'], weight: 1 },
];
const EE_ROUTES = ROUTES.filter((r) => r.route.startsWith('ee_'));
const isEeRoute = (r: RouteName): r is EeRoute => r.startsWith('ee_');
const isSubmit = (r: RouteName) => r === 'ee_submit' || r === 'ee_submit_ai';

// ---- values ----------------------------------------------------------------------------------

const TYPES = [
  'alluxio.job.plan.load.LoadConfig', 'alluxio.job.load.LoadConfig', 'Load',
  'alluxio.job.plan.migrate.MigrateConfig', 'alluxio.job.migrate.MigrateConfig', 'Migrate', 'Move',
  'alluxio.job.plan.persist.PersistConfig', 'alluxio.job.persist.PersistConfig', 'Persist',
];
const BAD_TYPES = [
  'load', 'LoadConfig', 'alluxio.job.plan.load.LoadConfigX', ' Load', 'Load ', 'LOAD', 'alluxio.job.plan.replicate.ReplicateConfig',
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', 'x'.repeat(10_000),
];

/** Alluxio paths: good ones (the files the setup writes), relative, escaping, schemes, odd characters. */
const PATHS = [
  '/', '/data', '/data/d1', '/data/d2', '/data/d1/f0.txt', '/nope', '/nope/deeper', '//data', '/data/', '/data/./d1',
  'alluxio://master:19998/data/d1', 'alluxio:///data', 'alluxio://', 'alluxio://host', 'alluxio://host:1/../..', 'alluxio://h/../etc',
  'data/d1', '.', './data', '..', '/..', '/../outside', '/data/../../etc/passwd', '/data/%2e%2e/%2e%2e', '/data/..\\..\\x',
  'hdfs://nn/x', 's3://bucket/x', 'file:///etc/passwd', '/etc/passwd', '~/x', 'C:\\Windows', '\\\\server\\share',
  '/a\u0000b', '/a\nb', '/a\rb', '/a\u007fb', '/a\tb', '/\u202eevil', '/zero\u200bwidth', '/données/é', '/😀', '/ｆｕｌｌ', '/\ud800',
  '/job.*', '/job.>', '/ space', '/a:b', '/a?b#c', `/${'x'.repeat(4095)}`, `/${'x'.repeat(5000)}`, `/${'a/'.repeat(2000)}`,
];
const alluxioPath: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 2, arbitrary: evilString.map((s) => `/${s}`) },
  { weight: 1, arbitrary: evilString },
  { weight: 1, arbitrary: fc.webPath() },
  { weight: 2, arbitrary: wrongValue },
);

/** A JobConfig object: mostly well-typed, often with one field wrong, a field missing or extra ones. */
const jobConfig: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      '@type': fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_TYPES) }, { weight: 1, arbitrary: wrongValue }),
      filePath: alluxioPath,
      source: alluxioPath,
      destination: alluxioPath,
      overwrite: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: wrongValue }),
      deleteSource: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: wrongValue }),
      replication: fc.oneof(fc.integer({ min: -2, max: 5 }), wrongValue),
      workerSet: fc.oneof(fc.constantFrom('', 'w1,w2'), wrongValue),
      writeType: fc.oneof(fc.constantFrom('CACHE_THROUGH', 'MUST_CACHE', 'THROUGH'), wrongValue),
      batchSize: fc.oneof(fc.integer(), wrongValue),
    },
    { requiredKeys: ['@type'] },
  )
  .chain((cfg) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(cfg) },
      { weight: 1, arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => ({ ...cfg, [k]: v })) },
      { weight: 1, arbitrary: fc.constantFrom(...Object.keys(cfg)).map((k) => Object.fromEntries(Object.entries(cfg).filter(([x]) => x !== k))) },
    ),
  );

/** JobConfigs the facade accepts (so runs, cancels and get_status of real jobs happen too). */
const goodConfig: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ '@type': fc.constantFrom(...TYPES.slice(0, 3)), filePath: fc.constantFrom('/', '/data', '/data/d1', '/data/d2/f1.txt', '/nope', 'alluxio://m:19998/data/d2') }),
  fc.record(
    {
      '@type': fc.constantFrom(...TYPES.slice(3, 7)),
      source: fc.constantFrom('/data/d1', '/data/d2', '/nope', 'alluxio:///data/d1/f0.txt'),
      destination: fc.nat(20).map((i) => `/out/c${i}`),
      overwrite: fc.boolean(),
      deleteSource: fc.constant(false),
      replication: fc.constant(1),
    },
    { requiredKeys: ['@type', 'source', 'destination'] },
  ),
);

/** Raw JSON with a poisoning key spliced in (JSON.stringify would drop `__proto__`). */
const POISON = [
  '"__proto__":{"@type":"Load","filePath":"/data"}', '"constructor":{"prototype":{"filePath":"/data"}}', '"__proto__":{"isAdmin":true}',
  '"filePath":{"__proto__":{"x":1}}', '"constructor":"x"', '"__proto__":null', '"prototype":{"@type":"Load"}',
];
const poisoned = fc.tuple(jobConfig, fc.constantFrom(...POISON)).map(([cfg, p]) => {
  const json = JSON.stringify(cfg);
  return json === '{}' ? `{${p}}` : `{${p},${json.slice(1)}`;
});
/** The same key twice: Jackson keeps the last, our parser refuses. */
const duplicated = fc.tuple(jobConfig, fc.constantFrom('@type', 'filePath', 'source')).map(([cfg, k]) => `{${JSON.stringify(k)}:"Load",${JSON.stringify(cfg).slice(1)}`);
const nested = fc.integer({ min: 2, max: 200 }).map((depth) => `{"@type":"Load","filePath":${'['.repeat(depth)}"/data"${']'.repeat(depth)}}`);
const huge = fc.constantFrom(
  JSON.stringify({ '@type': 'Load', filePath: `/${'h'.repeat(600_000)}` }),
  JSON.stringify({ '@type': 'Load', filePath: '/data', pad: 'p'.repeat(900_000) }),
  JSON.stringify({ '@type': 'x'.repeat(200_000) }),
);
const OVERSIZE = '<oversize body>';

const runBody: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 10, arbitrary: goodConfig.map((c) => JSON.stringify(c)) },
  { weight: 20, arbitrary: jobConfig.map((c) => JSON.stringify(c)) },
  { weight: 2, arbitrary: poisoned },
  { weight: 1, arbitrary: duplicated },
  { weight: 1, arbitrary: nested },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: fc.constant(OVERSIZE) },
  { weight: 2, arbitrary: fc.constantFrom(...MALFORMED_JSON, '{"@type":"Load","filePath":"/data"', '\ufeff{"@type":"Load","filePath":"/data"}') },
  { weight: 2, arbitrary: wrongValue.map((v) => JSON.stringify(v) ?? 'undefined') },
  { weight: 1, arbitrary: fc.array(jobConfig, { maxLength: 2 }).map((a) => JSON.stringify(a)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant('') },
);
/** Bodies where none is expected. */
const strayBody: fc.Arbitrary<string | undefined> = fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: runBody });

const JOB_IDS = [
  '1', '0', '-1', '-0', '1.5', '1e3', '0x10', '0b1', '+1', ' 1', '1 ', '00001', '１', '٣', 'abc', '', 'null', 'NaN', 'Infinity',
  '9007199254740991', '9007199254740993', '9223372036854775807', '9223372036854775808', '99999999999999999999', '9'.repeat(300), '-9223372036854775808',
];
const jobId = fc.oneof(
  { weight: 5, arbitrary: fc.nat(40).map((k) => `KNOWN_${k}_`) },
  { weight: 4, arbitrary: fc.constantFrom(...JOB_IDS) },
  { weight: 2, arbitrary: fc.oneof(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.bigInt({ min: 0n, max: 2000n })).map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: evilString },
);
const STATUSES = ['CREATED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'created', 'CANCELLED', 'COMPLETED,FAILED', 'WAITING', 'SUCCEEDED', 'STOPPED', '', '*'];
const statusValue = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...STATUSES) }, { weight: 1, arbitrary: evilString });
const nameValue = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('Load', 'Migrate', 'Persist', 'Move', 'load', 'Sleep', '') }, { weight: 1, arbitrary: evilString });
const anyValue = fc.oneof(
  { weight: 8, arbitrary: fc.oneof(jobId, statusValue, nameValue, fc.constantFrom('true', 'false', 'TRUE', '1')) },
  { weight: 1, arbitrary: fc.constantFrom('v'.repeat(2000), 'w'.repeat(8000)) },
);

// ---- EE coordinator values -------------------------------------------------------------------

/** Aliases: good job names, and names the facade must refuse. */
const aliasValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('Load', 'warmup', 'nightly.load', 'a b', 'user@x:1/2+3-4_5') },
  { weight: 1, arbitrary: fc.constantFrom('', ' lead', 'trail ', 'a\nb', 'x'.repeat(201), '__proto__', 'constructor', 'job.>', '😀') },
  { weight: 1, arbitrary: evilString },
  { weight: 1, arbitrary: wrongValue },
);
const GOOD_EE_PATHS = ['/', '/data', '/data/d1', '/data/d2', '/data/d2/f1.txt', '/nope', '//data/d1/', 'alluxio://m:19998/data/d2'];
/** EE load options: mostly well-typed, sometimes one wrong, refused or extra. */
const eeOptions: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        batchSize: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 200 }) }, { weight: 1, arbitrary: wrongValue }),
        replicas: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: wrongValue }),
        skipIfExists: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: wrongValue }),
        loadPolicy: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('ALL', 'NONE', '') }, { weight: 1, arbitrary: wrongValue }),
        loadMetadataOnly: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: wrongValue }),
        fileFilterRegex: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('.*\\.txt', '(', '[a-') }, { weight: 1, arbitrary: wrongValue }),
        verify: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: wrongValue }),
        bandwidth: fc.oneof(fc.constantFrom('1MB', 1024), wrongValue),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: wrongValue },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
/** An EE load body object: mostly paths and options, often broken. */
const eeLoad: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      paths: fc.oneof(
        { weight: 8, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...GOOD_EE_PATHS) }, { weight: 1, arbitrary: alluxioPath }), { minLength: 1, maxLength: 4 }) },
        { weight: 1, arbitrary: fc.constantFrom([], Array.from({ length: 101 }, (_, i) => `/data/p${i}`), Array.from({ length: 100 }, () => '/data/d1')) },
        { weight: 1, arbitrary: wrongValue },
      ),
      index: fc.oneof({ weight: 1, arbitrary: fc.constantFrom('/index.txt', null) }, { weight: 1, arbitrary: wrongValue }),
      alias: aliasValue,
      options: eeOptions,
    },
    { requiredKeys: [] },
  )
  .chain((body) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(body) },
      { weight: 1, arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => ({ ...body, [k]: v })) },
    ),
  );
/** EE load bodies the facade accepts (or refuses with 409 when one of a path is active). */
const goodEeLoad: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    paths: fc.uniqueArray(fc.constantFrom(...GOOD_EE_PATHS, '/data/d1/f0.txt', '/data/d1/f2.txt'), { minLength: 1, maxLength: 3 }),
    alias: fc.constantFrom('Load', 'warmup', 'nightly.load'),
    options: fc.record({ batchSize: fc.integer({ min: 1, max: 50 }), verify: fc.boolean(), replicas: fc.constant(1), skipIfExists: fc.boolean(), loadMetadataOnly: fc.constant(false), fileFilterRegex: fc.constant('') }, { requiredKeys: [] }),
  },
  { requiredKeys: ['paths'] },
);
const EE_POISON = [
  '"__proto__":{"paths":["/data"]}', '"constructor":{"prototype":{"paths":["/data"]}}', '"__proto__":{"isAdmin":true}',
  '"options":{"__proto__":{"verify":false,"loadMetadataOnly":true}}', '"options":{"constructor":{"prototype":{"x":1}}}', '"__proto__":null', '"prototype":{"paths":["/x"]}',
];
const eePoisoned = fc.tuple(eeLoad, fc.constantFrom(...EE_POISON)).map(([b, p]) => {
  const json = JSON.stringify(b);
  return json === '{}' ? `{${p}}` : `{${p},${json.slice(1)}`;
});
const eeBody: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: goodEeLoad.map((b) => JSON.stringify(b)) },
  { weight: 16, arbitrary: eeLoad.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: eePoisoned },
  { weight: 1, arbitrary: fc.constantFrom('{"paths":["/data"],"paths":["/nope"]}', `{"paths":${'['.repeat(150)}"/data"${']'.repeat(150)}}`) },
  { weight: 1, arbitrary: fc.constantFrom(JSON.stringify({ paths: [`/${'h'.repeat(600_000)}`] }), JSON.stringify({ paths: ['/data'], alias: 'a'.repeat(300_000) }), JSON.stringify({ paths: Array.from({ length: 50_000 }, () => '/data') })) },
  { weight: 1, arbitrary: fc.constant(OVERSIZE) },
  { weight: 2, arbitrary: fc.constantFrom(...MALFORMED_JSON, '{"paths":["/data"]', '\ufeff{"paths":["/data"]}') },
  { weight: 2, arbitrary: wrongValue.map((v) => JSON.stringify(v) ?? 'undefined') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant('') },
);
const UUIDS = ['00000000-0000-0000-0000-000000000000', '0B6A3C1E-1111-4222-8333-444455556666', '0b6a3c1e-1111-4222-8333-44445555666', '{0b6a3c1e-1111-4222-8333-444455556666}', 'urn:uuid:0b6a3c1e-1111-4222-8333-444455556666'];
const eeId = fc.oneof(
  { weight: 6, arbitrary: fc.nat(40).map((k) => `UUID_${k}_`) },
  { weight: 2, arbitrary: fc.uuid().map(String) },
  { weight: 1, arbitrary: fc.constantFrom(...UUIDS, ...JOB_IDS.slice(0, 8)) },
  { weight: 1, arbitrary: evilString },
);
const eeAliasQuery = aliasValue.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? ''));
const eePathQuery = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...GOOD_EE_PATHS) }, { weight: 2, arbitrary: alluxioPath.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')) });

/** The route's own parameters (each mostly there once), then maybe unknown ones, repeats and prototype names. */
const queryPairs = (own: readonly [string, fc.Arbitrary<string>][]): fc.Arbitrary<[string, string][]> => {
  const keys = [...own.map(([k]) => k), 'jobId', 'status', 'name', 'raw_configuration', 'id', 'alias', 'path', 'index', '__proto__', '__proto__[jobId]', 'constructor[prototype][x]', 'toString', 'x'];
  const extra = fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), anyValue);
  return fc
    .tuple(fc.tuple(...own.map(([k, v]) => fc.option(v.map((x): [string, string] => [k, x]), { nil: undefined, freq: 8 }))), fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(extra, { minLength: 1, maxLength: 3 }) }))
    .map(([mine, more]) => [...mine.filter((p) => p !== undefined), ...more]);
};
/** A query string: encoded pairs, or now and then raw text with broken escapes. */
const queryString = (own: readonly [string, fc.Arbitrary<string>][]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 10, arbitrary: queryPairs(own).map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '?jobId=%ZZ', '?jobId=%', '?jobId=1%00', '?jobId=1&jobId=2', '?jobId[]=1', '?jobId[a]=1', '?jobId', '?=1', '?&&&', '?jobId=1;2',
        '?status=COMPLETED&status=%FF', '?jobId=%E2%80%AE1', '?jobId=\u00e91', '?name=\u00ff', '?__proto__=1&jobId=1', `?jobId=${'1'.repeat(20_000)}`,
        '?id=%ZZ', '?id=UUID_0_&id=UUID_1_', '?id[]=UUID_0_', '?alias[a]=Load', '?path=%2Fdata&path=%2Fnope', '?index=%2Fi.txt', '?id=&alias=&path=',
        '?path=%2F..%2F..%2Fetc', '?path=%00', `?path=%2F${'p'.repeat(12_000)}`, '?__proto__[id]=1', '?constructor[prototype][id]=1', '?alias=%E2%80%AE',
      ),
    },
  );
const eeQuery: readonly [string, fc.Arbitrary<string>][] = [['id', fc.oneof({ weight: 3, arbitrary: eeId }, { weight: 4, arbitrary: fc.constant('') })], ['alias', eeAliasQuery], ['path', eePathQuery]];
/** One of id, alias or path mostly (EE's ways to name a job), sometimes none, several or `index`. */
const eeNaming = fc.oneof(
  { weight: 2, arbitrary: fc.constant<[string, fc.Arbitrary<string>][]>([['id', eeId]]) },
  { weight: 1, arbitrary: fc.constant<[string, fc.Arbitrary<string>][]>([['alias', eeAliasQuery]]) },
  { weight: 2, arbitrary: fc.constant<[string, fc.Arbitrary<string>][]>([['path', eePathQuery]]) },
  { weight: 1, arbitrary: fc.constant<[string, fc.Arbitrary<string>][]>([]) },
  { weight: 1, arbitrary: fc.constant<[string, fc.Arbitrary<string>][]>([...eeQuery, ['index', fc.constantFrom('/i.txt', '')]]) },
);
const OWN_QUERY: Readonly<Record<OssRoute | EeRoute, readonly [string, fc.Arbitrary<string>][]>> = {
  run: [],
  get_status: [['jobId', jobId]],
  cancel: [['jobId', jobId]],
  list: [['status', statusValue], ['name', nameValue]],
  failure_history: [],
  service_name: [],
  service_version: [],
  master_info: [['raw_configuration', fc.constantFrom('true', 'false', 'yes', '')]],
  worker_info: [['raw_configuration', fc.constantFrom('true', 'false', 'yes', '')]],
  ee_submit: [],
  ee_submit_ai: [],
  // the naming parameters are chosen per request (eeNaming)
  ee_progress: [],
  ee_progress_ai: [],
  ee_stop: [],
};

const METHODS = FUZZ_METHODS;
/** Headers a client may add; the facade (auth none) must ignore credentials. */
const extraHeaders = fuzzExtraHeaders('YWxsdXhpbzphbGx1eGlv');

/** Unknown paths, near misses of real ones, traversal, encodings and characters the router must survive. */
const STRAY_PATHS = [
  `${MASTER}/nope`, `${MASTER}`, `${MASTER}/`, `${MASTER}/run/`, `${MASTER}/RUN`, `${MASTER}//run`, `${MASTER}/run;jsessionid=1`, `${MASTER}/list%00`,
  `${MASTER}/../job/list`, `${MASTER}/%2e%2e/job/list`, `${MASTER}/./list`, `/api/v1/master/../master/job/service_name`, '/api/v1/job_master/info/',
  '/api/v1/job_master/logLevel', '/api/v1/job_worker/logLevel', '/api/v1/job_master/logLevel?logName=alluxio&level=DEBUG',
  '/api/v1/loads', '/api/v1/master/submit_job', '/api/v1/master/progress_job', '/native/v1/jobs', '/healthz', '/metrics', '/docs',
  '/api/v1/load/', '/api/v1/LOAD', '/api/v1//load', '/api/v1/load/x', '/api/v1/load%00', '/api/v1/master/submit_job/load/', '/api/v1/master/submit_job/LOAD',
  '/api/v1/master/progress_job/free', '/api/v1/master/submit_job/../progress_job/load', '/api/v1/free', '/api/v1/copy', '/api/v1/job/list',
  '/', '', '/api', '/api/v1', '/%', '/%ZZ', '/%00', '/%E2%80%AE', '/\u00e9', '/..%2f..%2fetc%2fpasswd', '/../../etc/passwd', '\\..\\..\\windows',
  `/api/v1/master/job/l\u00efst`, `${MASTER}/get_status/KNOWN_0_`, `${MASTER}/${'x'.repeat(5000)}`,
];
const strayPath = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...STRAY_PATHS) },
  { weight: 2, arbitrary: fc.webPath() },
  { weight: 1, arbitrary: evilString.map((s) => `${MASTER}/${encodeURIComponent(s)}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => `/${s}`) },
);

const mountOf = (on: readonly Mount[]) => fc.constantFrom(...on);

const onRoute: fc.Arbitrary<Generated> = fc.oneof(...ROUTES.map((r) => ({ weight: r.weight, arbitrary: fc.constant(r) }))).chain((r) =>
  fc
    .record({
      mount: mountOf(r.on),
      // mostly the route's own method; sometimes a wrong one
      method: fc.oneof({ weight: 9, arbitrary: fc.constant(r.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      query: isEeRoute(r.route) && !isSubmit(r.route) ? eeNaming.chain((own) => queryString(own)) : queryString(OWN_QUERY[r.route]),
      body: r.route === 'run' ? runBody : isSubmit(r.route) ? eeBody : strayBody,
      ct: r.route === 'run' || isSubmit(r.route) ? fc.oneof({ weight: 3, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: contentType }) : contentType,
      extra: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: extraHeaders }),
      // a content type on a bodiless POST now and then (most clients send none)
      ctAlone: fc.nat(6).map((x) => x === 0),
    })
    .map(({ mount, method, query, body, ct, extra, ctAlone }): Generated => ({
      mount,
      // another method on an EE path may be another EE route (GET, POST, DELETE /api/v1/load)
      route: method === r.method ? r.route : (EE_ROUTES.find((e) => e.path === r.path && (e.method === method || (method === 'HEAD' && e.method === 'GET')))?.route ?? 'stray'),
      method,
      path: r.path + query,
      headers: { ...(extra ?? {}), ...(ct === undefined || (body === undefined && !ctAlone) ? {} : { 'content-type': ct }) },
      ...(body === undefined ? {} : { body }),
    })),
);
const stray: fc.Arbitrary<Generated> = fc
  .record({ mount: mountOf(['master', 'worker', 'ee', 'api']), method: fc.constantFrom(...METHODS), path: strayPath, query: queryString([]), body: strayBody, ct: contentType, ctAlone: fc.nat(6).map((x) => x === 0) })
  .map(({ mount, method, path, query, body, ct, ctAlone }): Generated => ({
    mount,
    route: 'stray',
    method,
    path: (path.startsWith('/') ? path : `/${path}`) + query,
    headers: ct === undefined || (body === undefined && !ctAlone) ? {} : ({ 'content-type': ct } as Record<string, string>),
    ...(body === undefined ? {} : { body }),
  }));

// ---- sending ---------------------------------------------------------------------------------

const send = (agent: Agent, origin: URL, g: Generated, path: string): Promise<Answer> =>
  sendRaw(agent, origin, { method: g.method, headers: g.headers, ...(g.body !== undefined ? { body: g.body === OVERSIZE ? OVERSIZE_BODY : g.body } : {}) }, path, HUNG_MS);

const describeRequest = (g: Generated, path: string) =>
  `${g.method} ${g.mount}${path.slice(0, 300)} [${JSON.stringify(g.headers).slice(0, 200)}] body=${g.body === undefined ? '(none)' : JSON.stringify(g.body.slice(0, 300))}`;


/** Whether the path part (before `?`) has a %-escape that is not valid UTF-8 percent-encoding. */
function hasBadPercent(path: string): boolean {
  try {
    decodeURIComponent(path.split('?')[0]!);
    return false;
  } catch {
    return true;
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PROGRESS_KEYS = [
  'id', 'startTime', 'state', 'runningState', 'errorMessage', 'failedFileListPath', 'paths', 'index', 'skipIfExists', 'loadMetadataOnly',
  'verify', 'bandwidth', 'timeElapsedMilliseconds', 'loadedBytes', 'skippedBytes', 'totalBytes', 'loadedNonEmptyFiles', 'failedFiles',
  'scannedFiles', 'quota', 'quotaCheckError',
].sort();

/** Whose error shape an answer has: EE's on its own port and on an EE route under /compat/alluxio/, else the OSS job master's. */
const shapeOf = (g: Generated): 'ee' | 'oss' => (g.mount === 'ee' || isEeRoute(g.route) ? 'ee' : 'oss');

/** Transport refusals before any route (Node's parser); undefined when the request reached the server's routing. */
function transport(g: Generated, path: string, a: Answer, where: string): string | undefined {
  if (a.status === 431) {
    // Node's parser refuses a request line and headers over 16 KiB before any route (in the native shape)
    assert.ok(headBytes(g, path) > 15_000, `431 for a ${headBytes(g, path)}-byte head: ${where}`);
    return 'transport 431';
  }
  if (a.status === 400 && /[^\u0021-\u007e]/.test(wirePath(path, g.method))) {
    // Node's parser refuses raw bytes above 0x7e in the request line (not HTTP) before any route
    assert.match(a.body, /not well-formed HTTP/, where);
    return 'transport 400';
  }
  return undefined;
}

/** A JSON object body, or the assertion fails. */
function jsonObject(a: Answer, where: string): Record<string, unknown> {
  assert.match(String(a.headers['content-type']), /^application\/json/, where);
  let body: unknown;
  assert.doesNotThrow(() => (body = JSON.parse(a.body)), `not JSON: ${where}`);
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `not an object: ${where}`);
  return body as Record<string, unknown>;
}

/** The facade's rules for one answer; returns the outcome to count. */
function check(g: Generated, path: string, a: Answer): string {
  const where = `${describeRequest(g, path)} → ${a.status} ${a.body.slice(0, 300)}`;
  const early = transport(g, path, a, where);
  if (early !== undefined) return early;
  return shapeOf(g) === 'ee' ? checkEe(g, path, a, where) : checkOss(g, path, a, where);
}

/** The OSS job master's rules: HTTP 500 `{status, message}` with a client status, or the 404 of an unknown path. */
function checkOss(g: Generated, path: string, a: Answer, where: string): string {
  assert.ok(a.status === 200 || a.status === 404 || a.status === 500, `unexpected HTTP status: ${where}`);
  if (g.method === 'HEAD') return `HEAD ${a.status}`;
  if (a.status === 200) {
    if (/json/.test(String(a.headers['content-type'])) && a.body !== '') JSON.parse(a.body);
    if (g.route === 'run') assert.match(a.body, /^\d+$/, `run answers a bare id: ${where}`);
    return '200';
  }
  const b = jsonObject(a, where);
  assert.deepEqual(Object.keys(b).sort(), ['message', 'status'], `not {status, message}: ${where}`);
  assert.equal(typeof b['message'], 'string', where);
  if (a.status === 404) {
    assert.equal(b['status'], 'NOT_FOUND', where);
    return '404';
  }
  assert.ok(CLIENT_STATUSES.has(String(b['status'])), `status ${String(b['status'])} for a client's request: ${where}`);
  // a broken %-escape in the path is refused by the router, before any route: still in Alluxio's shape
  if (hasBadPercent(path)) assert.equal(b['status'], 'INVALID_ARGUMENT', where);
  return `500 ${String(b['status'])}${BY_MESSAGE ? ` ${String(b['message']).slice(0, 50)}` : ''}`;
}

/** A progress JSON as EE's `GET /api/v1/load?id=` answers it. */
function assertProgress(p: unknown, where: string): void {
  assert.ok(p !== null && typeof p === 'object' && !Array.isArray(p), `progress not an object: ${where}`);
  const o = p as Record<string, unknown>;
  assert.deepEqual(Object.keys(o).sort(), PROGRESS_KEYS, `not EE's progress JSON: ${where}`);
  assert.match(String(o['id']), UUID_RE, where);
  assert.ok(['WAITING', 'RUNNING', 'VERIFYING', 'SUCCEEDED', 'FAILED', 'STOPPED'].includes(String(o['state'])), where);
}

/**
 * EE's rules: the HTTP status says what went wrong, a 4xx is `{status: string}`, and a client's
 * request never brings about a 5xx (EE's 500 is for faults of the server).
 */
function checkEe(g: Generated, _path: string, a: Answer, where: string): string {
  assert.ok(a.status === 200 || (a.status >= 400 && a.status < 500), `EE: HTTP ${a.status} for a client's request: ${where}`);
  if (g.method === 'HEAD') return `HEAD ${a.status}`;
  const b = jsonObject(a, where);
  if (a.status === 200) {
    if (isSubmit(g.route)) {
      assert.deepEqual(Object.keys(b).sort(), ['id', 'ids', 'paths'], `EE submit's 200: ${where}`);
      const ids = b['ids'] as unknown[];
      assert.ok(Array.isArray(ids) && ids.length >= 1 && ids.every((i) => UUID_RE.test(String(i))), where);
      assert.equal(b['id'], ids[0], where);
      assert.equal((b['paths'] as unknown[]).length, ids.length, where);
    } else if (g.route === 'ee_stop') {
      assertProgress(b, where);
      assert.equal(b['state'], 'STOPPED', where);
    } else if ('results' in b) {
      assert.deepEqual(Object.keys(b), ['results'], where);
      assert.ok(Array.isArray(b['results']), where);
      for (const p of b['results'] as unknown[]) assertProgress(p, where);
    } else {
      assertProgress(b, where);
    }
    return '200';
  }
  assert.deepEqual(Object.keys(b), ['status'], `not EE's {status}: ${where}`);
  assert.equal(typeof b['status'], 'string', where);
  return `${a.status}${BY_MESSAGE ? ` ${String(b['status']).slice(0, 50)}` : ''}`;
}

// ---- the suite -------------------------------------------------------------------------------

/** What an EE load body asks for, as far as its jobs show it. */
interface RacedLoad {
  paths: string[];
  name: string;
  batchSize: unknown;
  verify: unknown;
}

function parsedLoad(text: string): RacedLoad | undefined {
  try {
    const b = JSON.parse(text) as { paths?: unknown; alias?: unknown; options?: { batchSize?: unknown; verify?: unknown } | null };
    if (!Array.isArray(b.paths)) return undefined;
    const paths = b.paths.flatMap((p) => {
      try {
        return [identityPath('p', p)];
      } catch {
        return [];
      }
    });
    // an option given as null is absent, as the facade reads it (loadRequest.ts): `batchSize: null`
    // submits no batch size (a CI pair's loaded run left such a job and the oracle did not match it)
    return { paths, name: typeof b.alias === 'string' ? b.alias : 'Load', batchSize: b.options?.batchSize ?? undefined, verify: b.options?.verify ?? undefined };
  } catch {
    return undefined;
  }
}

/** Whether `job` is what one of the paths of `r` submits. */
const fromRacedLoad = (r: RacedLoad, job: JobView) =>
  job.type === 'load' && job.name === r.name && r.paths.includes(String(job.spec['path'])) && (r.batchSize === undefined || job.spec['batchSize'] === r.batchSize) && (job.spec['verify'] ?? true) === (r.verify ?? true);

/** The identity paths a request body names (EE's `paths`, a JobConfig's paths): what its jobs' paths would be. */
function namedPaths(text: string): string[] {
  let b: unknown;
  try {
    b = JSON.parse(text);
  } catch {
    return [];
  }
  if (b === null || typeof b !== 'object') return [];
  const o = b as Record<string, unknown>;
  const values = [...(Array.isArray(o['paths']) ? o['paths'] : []), o['filePath'], o['source'], o['destination']];
  return values.flatMap((p) => {
    try {
      return [identityPath('p', p)];
    } catch {
      return [];
    }
  });
}

/** The paths a job's requests would name: its identity path, and a copy's or move's destination. */
const pathsOf = (job: JobView) => [jobPath(job), ...namedPaths(JSON.stringify({ destination: `/${String(job.spec['dst'])}` }))];

/** Every job the admin sees (native API). */
const nativeJobs = (svc: TestService) => allNativeJobs(svc, 'active=all');

describe('route fuzz over the Alluxio facade (real engine, real HTTP, its three listeners and /compat/alluxio/)', () => {
  const env = useTestService();

  it(`${RUNS} generated requests: OSS errors only as HTTP 500 {status, message} with a client status, EE errors as 4xx {status}, no other 5xx, nothing hung, no write on refusal`, async (t) => {
    const svc = env.svc;
    const origins: Record<Mount, { url: URL; prefix: string }> = {
      master: { url: new URL(svc.facadeUrls['alluxio job master']!), prefix: '' },
      worker: { url: new URL(svc.facadeUrls['alluxio job worker']!), prefix: '' },
      ee: { url: new URL(svc.facadeUrls['alluxio EE coordinator']!), prefix: '' },
      api: { url: new URL(svc.baseUrl), prefix: '/compat/alluxio' },
    };
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    try {
      for (const d of ['data/d1', 'data/d2']) {
        await mkdir(join(svc.config.filesDir, d), { recursive: true });
        for (let i = 0; i < 3; i++) await writeFile(join(svc.config.filesDir, d, `f${i}.txt`), `file ${i}\n`);
      }
      // ids the generated jobIds point at: a job of the facade user and one of the admin (not visible to it)
      const known: number[] = [];
      const first = await send(agent, origins.master.url, { mount: 'master', route: 'run', method: 'POST', path: '', headers: { 'content-type': 'application/json' }, body: '{"@type":"Load","filePath":"/data/d1"}' }, `${MASTER}/run`);
      assert.equal(first.status, 200, first.body);
      known.push(Number(first.body));
      const native = await http<JobView>(svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'sleep', spec: { tasks: 1, ms: 60_000 } });
      assert.equal(native.status, 201, JSON.stringify(native.body));
      known.push(native.body.submitSeq);
      // UUIDs the generated EE ids point at: an EE load of the facade user, the admin's sleep job (not visible to it)
      const firstEe = await send(agent, origins.ee.url, { mount: 'ee', route: 'ee_submit', method: 'POST', path: '', headers: { 'content-type': 'application/json' }, body: '{"paths":["/data/d2"]}' }, '/api/v1/load');
      assert.equal(firstEe.status, 200, firstEe.body);
      const knownUuids: string[] = [(JSON.parse(firstEe.body) as { id: string }).id, native.body.id];
      const before = await nativeJobs(svc);
      const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

      t.diagnostic(`seed ${SEED} (replay with FUZZ_SEED=${SEED}); ${RUNS} requests, ${CONCURRENCY} at a time`);
      const runIds = new Set<number>();
      let runsOk = 0;
      const eeIds = new Set<string>();
      let eeOk = 0;
      let eeJobs = 0;
      /** Multi-path EE loads refused with 409: a concurrent one can have made them conflict after their first paths were submitted. */
      const raced: RacedLoad[] = [];
      /** Every request that could write (a body, a method that is not a read), with its answer: printed when a job is unexplained. */
      const journal = createRequestJournal();
      const seen = new Map<string, number>();
      const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
      const one = async (g: Generated) => {
        const path = origins[g.mount].prefix + g.path.replace(/KNOWN_(\d+)_/g, (_, k: string) => String(known[Number(k) % known.length])).replace(/UUID_(\d+)_/g, (_, k: string) => knownUuids[Number(k) % knownUuids.length]!);
        let a: Answer;
        const sentAt = Date.now();
        try {
          a = await send(agent, origins[g.mount].url, g, path);
        } catch (err) {
          // the parser's raw 431 carries a body even to a HEAD (reported), which Node's client cannot parse
          if (g.method === 'HEAD' && headBytes(g, path) > 15_000 && /Data after `Connection: close`/.test((err as Error).message)) {
            count(`${g.route} → transport 431 (HEAD, with a body)`);
            return;
          }
          assert.fail(`${describeRequest(g, path)}: ${(err as Error).message}`);
        }
        if (g.body !== undefined && g.method !== 'GET' && g.method !== 'HEAD') {
          journal.add({ request: describeRequest(g, path), status: a.status, answer: a.body.slice(0, 300), sentAt, answeredAt: Date.now(), keys: g.body === OVERSIZE ? [] : namedPaths(g.body) });
        }
        count(`${g.route} → ${check(g, path, a)}`);
        if (g.route === 'run' && a.status === 200) {
          runsOk++;
          runIds.add(Number(a.body));
          known.push(Number(a.body));
        }
        if (isSubmit(g.route) && a.status === 409 && g.body !== undefined) {
          const body = parsedLoad(g.body);
          if (body !== undefined && body.paths.length > 1) raced.push(body);
        }
        if (isSubmit(g.route) && a.status === 200) {
          eeOk++;
          for (const id of (JSON.parse(a.body) as { ids: string[] }).ids) {
            eeJobs++;
            eeIds.add(id);
            knownUuids.push(id);
          }
        }
      };
      const started = performance.now();
      try {
        const details = await fc.check(
          fc.asyncProperty(fc.array(fc.oneof({ weight: 17, arbitrary: onRoute }, { weight: 3, arbitrary: stray }), { minLength: CONCURRENCY, maxLength: CONCURRENCY }), async (batch) => {
            await Promise.all(batch.map(one));
          }),
          // the server's state moves on with every request: shrinking would replay against another one
          { numRuns: Math.ceil(RUNS / CONCURRENCY), seed: SEED, endOnFailure: true },
        );
        // the failing request is in the error; the whole batch (up to megabytes of bodies) is not worth printing
        if (details.failed) throw details.errorInstance ?? new Error(`failed at batch ${details.numRuns} (seed ${SEED})`);
      } finally {
        t.diagnostic(`${Math.round(performance.now() - started)} ms; outcomes: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
      }

      // The generator must reach both sides, or the property proves little.
      /** Answers of route `k`, or answers whose outcome starts with `k`. */
      const n = (k: string) => [...seen].reduce((sum, [key, c]) => sum + (key.startsWith(`${k} → `) || key.split(' → ')[1]!.startsWith(k) ? c : 0), 0);
      const scale = RUNS / 10_000;
      assert.ok(runsOk > 100 * scale, `too few runs accepted (${runsOk})`);
      assert.ok(eeOk > 50 * scale, `too few EE loads accepted (${eeOk})`);
      assert.ok(n('500 INVALID_ARGUMENT') > 600 * scale, 'too few INVALID_ARGUMENTs');
      assert.ok(n('500 NOT_FOUND') > 50 * scale, 'too few NOT_FOUNDs');
      assert.ok(n('404') > 100 * scale, 'too few unknown paths');
      for (const k of ['400', '409']) assert.ok(n(k) > 50 * scale, `too few EE ${k}s`);
      for (const route of ROUTES) assert.ok(n(route.route) > 50 * scale, `${route.route} hardly reached`);

      // Still standing, on both mounts.
      for (const base of [origins.master.url.origin, `${svc.baseUrl}/compat/alluxio`]) {
        const r = await fetch(`${base}${MASTER}/service_name`);
        assert.equal(r.status, 200);
        assert.equal(await r.json(), 'JobMasterClient');
      }
      for (const base of [origins.ee.url.origin, `${svc.baseUrl}/compat/alluxio`]) {
        const r = await fetch(`${base}/api/v1/load?id=${knownUuids[0]}`);
        assert.equal(r.status, 200, await r.text());
      }
      assert.equal((await fetch(`${origins.worker.url.origin}/api/v1/job_worker/info`)).status, 200);

      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeKeys, 'Object.prototype was polluted');

      // Written: exactly the runs and the EE loads that answered 200, each under the id it answered.
      const after = await nativeJobs(svc);
      const old = new Set(before.map((j) => j.id));
      const created = after.filter((j) => !old.has(j.id));
      const unexplained = created.filter((j) => !runIds.has(j.submitSeq) && !eeIds.has(j.id));
      // reported, documented (docs/compat/alluxio.md, POST /api/v1/load): a multi-path load that
      // loses a race on a later path answers 409 with its earlier paths submitted
      const partial = unexplained.filter((j) => raced.some((r) => fromRacedLoad(r, j)));
      t.diagnostic(`EE loads answered 200: ${eeOk} (${eeJobs} jobs); multi-path loads answered 409: ${raced.length}, leaving ${partial.length} jobs of their earlier paths (reported)`);
      const unasked = unexplained.filter((j) => !partial.includes(j));
      if (unasked.length > 0) {
        // what wrote each: the requests that could have, with their answers (status, body)
        const report = unasked.slice(0, 10).map((j) => ({
          job: { submitSeq: j.submitSeq, id: j.id, type: j.type, name: j.name, spec: j.spec, submittedAt: j.submittedAt },
          suspects: journal.suspects(pathsOf(j), Date.parse(j.submittedAt)),
        }));
        assert.fail(`jobs written by requests that did not answer 200 (${unasked.length}, the first 10 shown; seed ${SEED}): ${JSON.stringify(report, null, 1)}`);
      }
      assert.equal(runIds.size, runsOk, 'every accepted run has its own id');
      assert.equal(eeIds.size, eeJobs, 'every accepted EE load path has its own job');
      assert.ok(created.filter((j) => eeIds.has(j.id)).every((j) => j.type === 'load'), 'EE loads are load jobs');
      assert.equal(created.length, runsOk + eeJobs + partial.length, 'one job per accepted run and per path of an accepted EE load');
    } finally {
      agent.destroy();
    }
  });
});
