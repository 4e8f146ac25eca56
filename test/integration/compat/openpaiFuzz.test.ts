/**
 * The route fuzz over the OpenPAI REST server facade (docs/research/openpai-facade-plan.md §9),
 * against the real engine on a real nats-server and real processes, over real HTTP: the facade's own
 * port and `/compat/openpai/` on the API port, each at `` and `/rest-server`. Generated requests
 * over every route the facade serves (and the out-of-scope ones), with random methods: `user~job`
 * variants (`~`, `a~`, `~b`, `a~b~c`, `%7E`, over-long, `..`, NATS subject characters), names
 * outside the patterns, v1 configs as JSON, as qs forms (broken bracket keys, depth 6, index 100,
 * 2,001 parameters, `__proto__`, repeated keys, `%` escapes cut short, invalid UTF-8) and as YAML,
 * JSON with duplicate keys and deep nesting, hostile YAML and generated protocols with one field
 * broken, bodies over each limit, wrong content types and encodings, tokens missing, forged,
 * malformed, expired, revoked, of an application, of a viewer, of users the fuzz itself creates,
 * deletes and re-passwords, `executionType` values of any case and type, v2 list queries out of
 * range or unencoded (as the SDK sends them), task and log paths.
 *
 * The oracle, per answer: no 5xx, ever; every body JSON (but a v2 `/config`, YAML that js-yaml 3
 * reads, and a log, text); errors on `/api/v1/…` paths `{error, message}`, elsewhere
 * `{code, message}`, the name from the generation's table below (plan §1.4, and what errors.ts and
 * the route files use); `NoApiError` for a path no route takes; success bodies in the shapes of plan
 * §2, `/config` what was submitted (secrets masked), no secret in a log. Status, name and (where a
 * client compares it) message come from a model of users (role, password, grants, profile), tokens
 * (live or not, per user) and jobs by (user, name) with their VC, roles and tags, so the oracle knows
 * created vs duplicate, 200 vs 404, 401 vs 403. Requests that touch one user or one job name run one
 * after another in the order generated (as the Spark fuzz does); at checkpoints the jobs (native
 * API), users and grants (native API), profiles, tags and listings (the facade's reads) and every
 * user's token ids (the identity) are exactly the model's: a refused write changed nothing.
 *
 * What stays fixed, so the model stays exact: the principals (admin, alice, bob, vera) keep their
 * roles, grants and passwords (a write that would change them is aimed at `ghost0` or made a no-op
 * when sent) and their own and application tokens are never revoked; the fuzz's own users (fz0,
 * fz1, Fz0, constructor) and the tokens made during the run come and go. The login rate limits are
 * set out of reach (openpaiIdentity.test.ts tests them). v1 reads are public here (loopback:
 * anonymous reads on), with or without a token.
 *
 * Valves keep the 2-core machine quiet: at most START_CAP jobs are written (instant commands); a
 * submission that would make one more names an unknown virtual cluster instead (refused, counted).
 * At most HASH_CAP requests reach a password hash (scrypt, ~0.1 s of CPU each); later ones are sent
 * without their password (refused before any hash, counted). Afterwards every job ends (or is
 * stopped through the facade) and a fresh two-role job still succeeds on both listeners.
 *
 * Tolerated and counted, not failed: what Node's HTTP parser refuses before any route (a raw byte
 * above 0x7e in the request line: 400, on its own port in the facade's rawErrorShape
 * `{code: UnknownError}`, on the API port in the native shape, which knows no facade). Seeded:
 * FUZZ_SEED=<n> replays the requests (the seed is printed; tokens and job ids differ, and which
 * requests a valve catches may differ with timing); FUZZ_RUNS=<n> changes the count; FUZZ_TRACE=1
 * prints every request and answer, FUZZ_OUTCOMES=1 the count of each route's statuses.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify as qsStringify } from 'qs';
import { VERSION } from '../../../engine/index.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { MALFORMED_JSON, SEED, allNativeJobs, groupByKeys, sendRaw, type RawAnswer } from '../../helpers/routeFuzz.ts';
import { http, useTestService, type TestService } from '../../helpers/service.ts';
import { waitFor } from '../../helpers/wait.ts';

const requireFromSdk = createRequire(createRequire(import.meta.url).resolve('@microsoft/openpai-js-sdk/package.json'));
/** The SDK's YAML (js-yaml 3): it writes the protocols the SDK submits and reads `/config`. */
const yaml3 = requireFromSdk('js-yaml') as { safeLoad(text: string): unknown; safeDump(obj: unknown): string };

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);
const TRACE = process.env['FUZZ_TRACE'] !== undefined;
/** Requests in flight at once. */
const CONCURRENCY = 8;
/** A request without an answer this long is hung. */
const HUNG_MS = 15_000;
/** Jobs a run writes at most (each runs processes). */
const START_CAP = 100;
/** Requests that may reach a password hash or check (scrypt). */
const HASH_CAP = 300;
/** Batches between two checks of everything written against the model. */
const CHECK_EVERY = 40;

const PASSWORD = 'fuzz-password-of-users';
const ADMIN_PASSWORD = 'fuzz-admin-password';
const SECRET = 'hunter2-never-shown';
const VALVE_VC = 'valve-vc-that-does-not-exist';
/** The facade's names in a message are cut at these lengths. */
const ECHO = 64;

// ---- names ------------------------------------------------------------------------------------

type Gen = 'v1' | 'v2';
type Role = 'admin' | 'operator' | 'viewer';
const PRINCIPALS = ['admin', 'alice', 'bob', 'vera'] as const;
/** Users the fuzz creates, changes and deletes (`constructor`: a prototype's name as a user name). */
const SCRATCH = ['fz0', 'fz1', 'Fz0', 'constructor'] as const;
/** Valid names never created (`ghost0`: where a write aimed at a principal goes instead). */
const GHOSTS = ['ghost0', 'nobody', 'Alice'];
const BAD_USERS = ['bad.name', '1abc', 'system', 'System', 'a'.repeat(33), 'a b', '__proto__', 'é', '-x'];
const JOB_NAMES = ['j0', 'j1', 'j2', 'J0', '__proto__', 'constructor', 'a-b_c', 'labelled'];
const BAD_JOB_NAMES = ['bad.name', 'a b', 'a~b', '..', 'ü', 'x'.repeat(129), 'a/b', 'job.*', 'job.>'];
const VCS = ['default', 'vc1', 'vc2'];
const GRANTS: Record<string, string[]> = { admin: [], alice: ['vc1'], bob: [], vera: [] };
const USER_RE = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const JOB_RE = /^[A-Za-z0-9_-]{1,128}$/;
const TAG_RE = /^[\x21-\x7e]{1,256}$/;
const MAX_TAGS = 64;
const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;
const GROUP_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_PROFILE_BYTES = 16 * 1024;
/** The body limits: text (a protocol) and the rest. */
const MAX_TEXT_BYTES = 100 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;
/** find-my-way's limit on a decoded path parameter. */
const MAX_PARAM = 100;

// ---- the error tables (plan §1.4; errors.ts and the route files) -----------------------------

const V1_NAMES = new Set(['NotAuthorized', 'AuthenticationFailed', 'UpdateFailed', 'RemoveFailed', 'UpdateVcFailed', 'JobNotFound', 'JobUpdateError', 'JobExecuteError', 'VirtualClusterNotFound', 'InvalidParametersError', 'TooManyRequests', 'NoApiError']);
const V2_NAMES = new Set(['NoUserError', 'IncorrectPasswordError', 'UnauthorizedUserError', 'ForbiddenUserError', 'NoJobError', 'NoJobConfigError', 'NoVirtualClusterError', 'ConflictJobError', 'ConflictUserError', 'RemoveAdminError', 'InvalidProtocolError', 'InvalidParametersError', 'NoTagError', 'NoTaskLogError', 'UnknownError', 'NoApiError']);

/** One acceptable answer: status, error name, message; a check of the body; what it did to the model. */
interface Want {
  status: number;
  name?: string;
  message?: string | RegExp;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- OpenPAI's wire, asserted field by field
  check?: (json: any, a: RawAnswer) => void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- idem
  effect?: (json: any) => void | Promise<void>;
}
const W = (status: number, name?: string, message?: string | RegExp, extra: Partial<Want> = {}): Want => ({ status, ...(name === undefined ? {} : { name }), ...(message === undefined ? {} : { message }), ...extra });
const cut = (s: string, n = ECHO) => s.slice(0, n);
const GUEST = (g: Gen) => (g === 'v1' ? W(401, 'NotAuthorized', 'not authorized') : W(401, 'UnauthorizedUserError', 'Guest is not allowed to do this operation.'));
const BAD_TOKEN = (g: Gen) => (g === 'v1' ? W(401, 'NotAuthorized', 'not authorized') : W(401, 'UnauthorizedUserError', 'Your token is invalid.'));
const NON_ADMIN = (g: Gen) => (g === 'v1' ? W(403, 'NotAuthorized', 'not authorized: only an admin may do this') : W(403, 'ForbiddenUserError', 'Non-admin is not allow to do this operation.'));
const APP = (g: Gen) => (g === 'v1' ? W(403, 'NotAuthorized', 'not authorized: applications are not allowed to do this operation') : W(403, 'ForbiddenUserError', 'Applications are not allowed to do this operation.'));
const FORBID = (g: Gen, why: string) => (g === 'v1' ? W(403, 'NotAuthorized', `not authorized: ${why}`) : W(403, 'ForbiddenUserError', why));
const IPE = (message?: string | RegExp) => W(400, 'InvalidParametersError', message);
const NO_JOB = (g: Gen, user: string, name: string) => (g === 'v1' ? W(404, 'JobNotFound', `could not find job ${name}`) : W(404, 'NoJobError', `Job ${user}~${name} is not found.`));
const NO_USER = (name: string) => W(404, 'NoUserError', `User ${cut(name)} is not found.`);
const NO_VC = (g: Gen, vc: string) => (g === 'v1' ? W(404, 'VirtualClusterNotFound', `could not find virtual cluster ${cut(vc)}`) : W(404, 'NoVirtualClusterError', `Virtual cluster ${cut(vc)} is not found.`));
const BAD_URL = [IPE(/^(The URL has an invalid percent-encoding|A path parameter is too long)\.$/)];

// ---- the model --------------------------------------------------------------------------------

interface TokenM { value: string; id: string; user: string; app: boolean; /** a principal's own: never revoked by the fuzz */ keep: boolean; live: boolean }
interface UserM { role: Role; password: string; vcs: string[]; email: string; extension: Record<string, unknown>; grouplist: string[] }
interface JobM {
  owner: string;
  name: string;
  active: boolean;
  seq: number;
  /** Which generation submitted it; `native`: the native API, with an OpenPAI name label but no source. */
  gen: Gen | 'native';
  vc: string;
  tags: string[];
  /** Instances by role. */
  roles: Record<string, number>;
  /** What was submitted: the protocol (v2) or the config (v1), placeholders filled. */
  submitted: Record<string, unknown>;
}
interface Model {
  users: Map<string, UserM>;
  tokens: TokenM[];
  /** The token each principal acts with, by caller kind (`alice`, `aliceApp`, `expired`, …). */
  fixed: Map<string, string>;
  /** The token a scratch user acts with (the newest one the run made for it). */
  current: Map<string, string>;
  jobs: JobM[];
  seq: number;
}

const tokenId = (t: string) => createHash('sha256').update(t).digest('hex');
const sorted = (xs: Iterable<string>) => [...xs].sort();

interface Caller { user: string; role: Role; app: boolean }
/** The anonymous v1 reader (SYSTEM_CALLER): sees every job. */
const SYSTEM: Caller = { user: 'system', role: 'admin', app: false };
interface Auth { header?: string; as: Caller | 'anon' | 'bad'; token?: string }

const FORGED = ['jjt_' + 'A'.repeat(43), 'jjt_forged', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', `${TEST_ADMIN_TOKEN.slice(0, -1)}x`];
const MALFORMED = ['', 'Bearer', 'bearer x y', 'Basic YWRtaW46eA==', 'Token abc', `Bearer ${'x'.repeat(3000)}`];

function liveToken(m: Model, value: string | undefined): TokenM | undefined {
  const t = value === undefined ? undefined : m.tokens.find((x) => x.value === value);
  return t !== undefined && t.live && m.users.has(t.user) ? t : undefined;
}

/** Who a request is, now. */
function authOf(who: string, m: Model): Auth {
  const as = (value: string | undefined): Auth => {
    const t = liveToken(m, value);
    if (value === undefined) return { header: `Bearer ${FORGED[0]}`, as: 'bad' };
    if (t === undefined) return { header: `Bearer ${value}`, as: 'bad', token: value };
    return { header: `Bearer ${value}`, as: { user: t.user, role: m.users.get(t.user)!.role, app: t.app }, token: value };
  };
  const [k, v] = who.split(':') as [string, string | undefined];
  switch (k) {
    case 'none':
      return { as: 'anon' };
    case 'forged':
      return { header: `Bearer ${FORGED[Number(v)]}`, as: 'bad' };
    case 'malformed':
      return { header: MALFORMED[Number(v)]!, as: 'bad' };
    case 'admin':
      return { header: `Bearer ${TEST_ADMIN_TOKEN}`, as: { user: 'admin', role: 'admin', app: false }, token: TEST_ADMIN_TOKEN };
    case 'd': {
      // a token the run made for a principal: the newest live one, else a dead one
      const mine = m.tokens.filter((t) => t.user === v && !t.keep);
      return as((mine.filter((t) => t.live).at(-1) ?? mine.at(-1))?.value);
    }
    case 's':
      return as(m.current.get(SCRATCH[Number(v)]!));
    default:
      return as(m.fixed.get(k));
  }
}

/** The user a `who` acts as (its key), if any. */
function whoUser(who: string): string | undefined {
  const [k, v] = who.split(':') as [string, string | undefined];
  if (k === 'd') return v;
  if (k === 's') return SCRATCH[Number(v)];
  if (k === 'admin' || k === 'adminApp') return 'admin';
  if (k === 'alice' || k === 'aliceApp' || k === 'expired') return 'alice';
  if (k === 'bob' || k === 'revoked') return 'bob';
  if (k === 'vera') return 'vera';
  return undefined;
}

// ---- routes -----------------------------------------------------------------------------------

const ROUTES = [
  ['info_v1', 'GET', '/api/v1'], ['info_v1', 'GET', '/api/v1/'], ['info_v2', 'GET', '/api/v2/info'], ['authn_info', 'GET', '/api/v2/authn/info'],
  ['login_v1', 'POST', '/api/v1/token'], ['login_v2', 'POST', '/api/v2/authn/basic/login'], ['logout', 'DELETE', '/api/v2/authn/basic/logout'],
  ['tokens_list', 'GET', '/api/v1/token'], ['tokens_list', 'GET', '/api/v2/tokens'],
  ['token_app', 'POST', '/api/v1/token/application'], ['token_app', 'POST', '/api/v2/tokens/application'],
  ['token_revoke', 'DELETE', '/api/v1/token/:token'], ['token_revoke', 'DELETE', '/api/v2/tokens/:token'],
  ['user_put_v1', 'PUT', '/api/v1/user'], ['user_delete_v1', 'DELETE', '/api/v1/user'], ['user_vcs_v1', 'PUT', '/api/v1/user/:username/virtualClusters'],
  ['users_list', 'GET', '/api/v2/users'], ['users_list', 'GET', '/api/v2/users/'], ['user_create', 'POST', '/api/v2/users'], ['user_create', 'POST', '/api/v2/users/'],
  ['user_update', 'PUT', '/api/v2/users'], ['user_me', 'PUT', '/api/v2/users/me'], ['user_get', 'GET', '/api/v2/users/:username'], ['user_delete', 'DELETE', '/api/v2/users/:username'],
  ['group_add', 'PUT', '/api/v2/users/:username/group'], ['group_add', 'PUT', '/api/v2/users/:username/group/'],
  ['group_del', 'DELETE', '/api/v2/users/:username/group'], ['group_del', 'DELETE', '/api/v2/users/:username/group/'],
  ['grouplist', 'PUT', '/api/v2/users/:username/grouplist'], ['grouplist', 'PUT', '/api/v2/users/:username/grouplist/'],
  ['vcs_v1', 'GET', '/api/v1/virtual-clusters'], ['vc_v1', 'GET', '/api/v1/virtual-clusters/:vc'],
  ['vcs_v2', 'GET', '/api/v2/virtual-clusters'], ['vc_v2', 'GET', '/api/v2/virtual-clusters/:vc'], ['vc_sku', 'GET', '/api/v2/virtual-clusters/:vc/sku-types'],
  ['jobs_v1', 'GET', '/api/v1/jobs'], ['submit_v1', 'POST', '/api/v1/jobs'], ['seed_get', 'GET', '/api/v1/jobs/:job'], ['seed_put', 'PUT', '/api/v1/jobs/:job'],
  ['seed_delete', 'DELETE', '/api/v1/jobs/:job'], ['seed_config', 'GET', '/api/v1/jobs/:job/config'], ['seed_ssh', 'GET', '/api/v1/jobs/:job/ssh'], ['seed_exec', 'PUT', '/api/v1/jobs/:job/executionType'],
  ['ujobs', 'GET', '/api/v1/user/:user/jobs'], ['usubmit', 'POST', '/api/v1/user/:user/jobs'], ['uget', 'GET', '/api/v1/user/:user/jobs/:job'],
  ['udelete', 'DELETE', '/api/v1/user/:user/jobs/:job'], ['uexec', 'PUT', '/api/v1/user/:user/jobs/:job/executionType'], ['ussh', 'GET', '/api/v1/user/:user/jobs/:job/ssh'],
  ['uconfig', 'GET', '/api/v1/jobs/:user/jobs/:job/config'],
  ['submit_v2', 'POST', '/api/v2/jobs'], ['jobs_v2', 'GET', '/api/v2/jobs'], ['get_v2', 'GET', '/api/v2/jobs/:fw'], ['attempt_v2', 'GET', '/api/v2/jobs/:fw/attempts/:n'],
  ['config_v2', 'GET', '/api/v2/jobs/:fw/config'], ['exec_v2', 'PUT', '/api/v2/jobs/:fw/executionType'], ['tag_add', 'PUT', '/api/v2/jobs/:fw/tag'], ['tag_del', 'DELETE', '/api/v2/jobs/:fw/tag'],
  ['task_v2', 'GET', '/api/v2/jobs/:fw/attempts/:n/taskRoles/:role/taskIndex/:i/attempts'],
  ['task_logs', 'GET', '/api/v2/jobs/:fw/attempts/:n/taskRoles/:role/taskIndex/:i/attempts/:ta/logs'], ['task_log', 'GET', '/api/v2/jobs/:fw/attempts/:n/taskRoles/:role/taskIndex/:i/attempts/:ta/logs/:stream'], ['events', 'GET', '/api/v2/jobs/:fw/events'], ['healthz', 'GET', '/api/v2/jobs/:fw/job-attempts/healthz'], ['attempts', 'GET', '/api/v2/jobs/:fw/job-attempts'], ['attempt_i', 'GET', '/api/v2/jobs/:fw/job-attempts/:n'],
] as const;
type Kind = (typeof ROUTES)[number][0] | 'unknown' | 'stray';
/** Routes that look at no credentials (a stale token sent along is ignored). */
const CREDENTIALS_IGNORED = new Set<Kind>(['info_v1', 'info_v2', 'authn_info', 'login_v1', 'login_v2']);
const BODY_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** The route a method and path (below the mount, no query) reach, with its decoded parameters; 'badUrl' for a router refusal. */
function matchRoute(method: string, path: string): { kind: Kind; params: Record<string, string> } | 'badUrl' | undefined {
  const segs = path.split('/');
  const candidates: { kind: Kind; params: Record<string, string>; statics: number; bad: boolean }[] = [];
  for (const [kind, m, tpl] of ROUTES) {
    if (m !== method && !(method === 'HEAD' && m === 'GET')) continue;
    const t = tpl.split('/');
    if (t.length !== segs.length || t.some((x, i) => !x.startsWith(':') && x !== segs[i])) continue;
    const params: Record<string, string> = {};
    let bad = false;
    t.forEach((x, i) => {
      if (!x.startsWith(':')) return;
      try {
        params[x.slice(1)] = decodeURIComponent(segs[i]!);
        bad ||= params[x.slice(1)]!.length > MAX_PARAM;
      } catch {
        bad = true;
      }
    });
    candidates.push({ kind, params, statics: t.filter((x) => !x.startsWith(':')).length, bad });
  }
  // the router prefers static segments (`/job-attempts/healthz` over `/job-attempts/:n`)
  const best = candidates.sort((a, b) => b.statics - a.statics)[0];
  if (best === undefined) return undefined;
  return best.bad ? 'badUrl' : { kind: best.kind, params: best.params };
}

/** The four places the facade answers: its own port at `` and `/rest-server`, the API port under `/compat/openpai/`, with and without. */
const MOUNT_PREFIXES = ['', '/rest-server', '/compat/openpai', '/compat/openpai/rest-server'];
/** The path a request's generation is read from: `/compat/openpai` and `/rest-server` stripped (plan §1.4). */
function facadePath(full: string): string {
  let path = full.split('?', 1)[0]!;
  if (path.startsWith('/compat/openpai')) path = path.slice('/compat/openpai'.length);
  if (path.startsWith('/rest-server')) path = path.slice('/rest-server'.length);
  return path;
}
/** v1 for `/api/v1` and below (the shape of errors), v2 for every other path. */
const generationOf = (full: string): Gen => (/^\/api\/v1(\/|$)/.test(facadePath(full)) ? 'v1' : 'v2');
/** The path a listener's routes see: below its mount (`/compat/openpai` on the API port), one `/rest-server` taken off. */
function routePath(mount: number, path: string): string {
  let p = (MOUNT_PREFIXES[mount]! + path).split('?', 1)[0]!;
  if (mount >= 2) p = p.slice('/compat/openpai'.length);
  if (p === '/rest-server' || p.startsWith('/rest-server/')) p = p.slice('/rest-server'.length);
  return p;
}

// ---- generated requests -----------------------------------------------------------------------

/** A body as generated: a value sent as JSON, a form or YAML (placeholders filled when sent), or raw bytes with what the parser makes of them. */
type BodySpec =
  | { t: 'value'; as: 'json' | 'form' | 'yaml'; ct: string; v: unknown; valid?: boolean }
  | { t: 'raw'; ct?: string; enc?: string; text: string; parse: 'bad' | 'big' | 'media' | 'either' | 'value'; value?: unknown };

interface Req {
  kind: Kind;
  mount: number;
  method: string;
  /** Below the mount; `{T}` is the token target and `{U}` a user that is resolved when sent. */
  path: string;
  query: string;
  who: string;
  body?: BodySpec;
  /** What the request is about (decoded). */
  p: {
    user?: string; job?: string; fw?: string; vc?: string; n?: string; target?: string; tgtUser?: string; byId?: boolean;
    /** A clean submission's roles and their instances, and (v1) its config as an object, also when sent as a form. */
    roles?: Record<string, number>;
    config?: Record<string, unknown>;
    /** v2 list: the query's validity. */
    q?: 'ok' | 'bad' | 'either'; qUsernames?: string[] | null; qStates?: string[] | null; qVcs?: string[] | null; qLimit?: number; qTotal?: boolean | undefined;
    /** v1 list: `username` query. */
    username?: string | string[];
    /** The method was swapped for one no route takes there. */
    offRoute?: boolean;
  };
  keys: string[];
}

const enc = encodeURIComponent;
const mountArb = fc.integer({ min: 0, max: 3 });
const whoArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('admin', 'alice') },
  { weight: 3, arbitrary: fc.constantFrom('bob', 'vera', 'aliceApp', 'adminApp') },
  { weight: 2, arbitrary: fc.constantFrom('d:admin', 'd:alice', 'd:bob', 'd:vera', 's:0', 's:1', 's:2', 's:3') },
  { weight: 1, arbitrary: fc.constantFrom('none', 'expired', 'revoked') },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 0, max: FORGED.length - 1 }).map((i) => `forged:${i}`), fc.integer({ min: 0, max: MALFORMED.length - 1 }).map((i) => `malformed:${i}`)) },
);

/** A path segment: raw (as sent) and decoded (null: undecodable). */
interface Seg { raw: string; dec: string | null }
const segOf = (dec: string): Seg => ({ raw: enc(dec), dec });
const SPECIAL_SEGS: Seg[] = [{ raw: '%ZZ', dec: null }, { raw: '%C0%AE', dec: null }, { raw: '..', dec: '..' }, { raw: '%2e%2e', dec: '..' }, { raw: 'a%00b', dec: 'a\0b' }, { raw: '%E2%80%AE', dec: '\u202e' }, { raw: 'x'.repeat(MAX_PARAM + 1), dec: 'x'.repeat(MAX_PARAM + 1) }];
const userSeg = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PRINCIPALS, ...SCRATCH).map(segOf) },
  { weight: 2, arbitrary: fc.constantFrom(...GHOSTS, ...BAD_USERS).map(segOf) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_SEGS) },
);
/** The caller's own user name (filled in when sent): its own jobs are found far more often than others'. */
const ME = '@ME@';
/** The first task role of the job a path names (filled in when sent). */
const ROLE = '@ROLE@';
const jobUserSeg = fc.oneof({ weight: 3, arbitrary: fc.constant(segOf(ME)) }, { weight: 2, arbitrary: userSeg });
const jobName = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...JOB_NAMES) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 1e6 }).map((i) => `n${i}`) });
const jobSeg = fc.oneof({ weight: 8, arbitrary: jobName.map(segOf) }, { weight: 2, arbitrary: fc.constantFrom(...BAD_JOB_NAMES).map(segOf) }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_SEGS) });
/** A v2 `user~job` id. */
const fwSeg: fc.Arbitrary<Seg> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(fc.constantFrom(ME, ME, ME, ME, ME, ME, ...PRINCIPALS, ...SCRATCH, 'ghost0'), fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...JOB_NAMES) }, { weight: 1, arbitrary: jobName })).map(([u, n]) => segOf(`${u}~${n}`)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('alice', 'bob'), jobName).map(([u, n]) => ({ raw: `${u}%7E${n}`, dec: `${u}~${n}` })) },
  { weight: 2, arbitrary: fc.constantFrom('~', 'alice~', '~j0', 'alice~j0~c', 'alice', 'alice~..', 'a.b~c', 'alice~j0.*', 'alice~>', 'alice~j0 ', `alice~${'x'.repeat(94)}`, 'System~j0', '1a~j0', 'alice~bad.name').map(segOf) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_SEGS) },
);
const vcSeg = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...VCS, 'nope').map(segOf) }, { weight: 1, arbitrary: fc.constantFrom('VC1', 'vc1.x', '*', '__proto__', 'x'.repeat(70)).map(segOf) }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_SEGS) });

/** Splits a decoded `user~job` as the facade does (at the first `~`). */
function splitFw(fw: string): { user: string; name: string } | undefined {
  const at = fw.indexOf('~');
  if (at <= 0) return undefined;
  const user = fw.slice(0, at);
  const name = fw.slice(at + 1);
  return USER_RE.test(user) && JOB_RE.test(name) ? { user, name } : undefined;
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'];
const FORM = 'application/x-www-form-urlencoded';
const jsonCt = fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom(...JSON_TYPES) });
const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

/** Bodies no route can use: what the parsers refuse, or values of the wrong kind. */
const garbage: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...MALFORMED_JSON.filter((s) => s !== '1e99999')).map((text): BodySpec => ({ t: 'raw', ct: 'application/json', text, parse: 'bad' })) },
  { weight: 2, arbitrary: fc.constantFrom('{"a":1,"a":2}', '{"username":"alice","username":"bob"}', '{"value":"STOP","value":"START"}', deep(65), `${'['.repeat(70)}${']'.repeat(70)}`, '{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"x":1}}}').map((text): BodySpec => ({ t: 'raw', ct: 'application/json', text, parse: 'bad' })) },
  { weight: 1, arbitrary: fc.constantFrom(['application/json', 1024 * 1024 + 100], [FORM, 1024 * 1024 + 100], ['text/yaml', 100 * 1024 + 10]).map(([ct, n]): BodySpec => ({ t: 'raw', ct: ct as string, text: `${ct === FORM ? 'a=' : ct === 'text/yaml' ? 'a: ' : '"'}${'z'.repeat(n as number)}${ct === 'application/json' ? '"' : ''}`, parse: 'big' })) },
  { weight: 2, arbitrary: fc.constantFrom('application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'image/png', '', 'application/jsonx').map((ct): BodySpec => ({ t: 'raw', ct, text: '<a>1</a>', parse: 'media' })) },
  { weight: 1, arbitrary: fc.constant<BodySpec>({ t: 'raw', text: '{"value":"STOP"}', parse: 'media' }) },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'br', 'deflate').map((e): BodySpec => ({ t: 'raw', ct: 'application/json', enc: e, text: '{"a":1}', parse: 'media' })) },
  { weight: 2, arbitrary: fc.constantFrom<[string, unknown]>(['[]', []], ['"str"', 'str'], ['5', 5], ['null', null], ['true', true], ['1e99999', Infinity], ['[{"value":"STOP"}]', [{ value: 'STOP' }]]).map(([text, value]): BodySpec => ({ t: 'raw', ct: 'application/json', text, parse: 'value', value })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((text): BodySpec => ({ t: 'raw', ct: 'text/plain', text, parse: 'value', value: text })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('a[=1', 'a]]=1', 'a[b][c][d][e][f][g]=1', 'x[100]=1', 'x[101]=1', Array.from({ length: 2001 }, (_, i) => `k${i}=1`).join('&'), '__proto__[x]=1', 'constructor[prototype][x]=1', 'k=1&k=2', 'k=%E0%A4%A', 'k=%FF%FE', '%=x', '&&&', '=1')
      .map((text): BodySpec => ({ t: 'raw', ct: FORM, text, parse: 'either' })),
  },
);

/** Method and path for a route, now and then with a method no route takes there (404 NoApiError). */
function methodFor(method: string, path: string): fc.Arbitrary<[string, boolean]> {
  // what a placeholder may become: a name, or a static segment of another route (`/api/v2/tokens/application`)
  const shapes = ['x', 'application'].map((v) => path.split('?')[0]!.replace(/\{[TU]\}/g, v));
  const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((x) => x !== method && shapes.every((shape) => matchRoute(x, shape) === undefined));
  return fc.oneof({ weight: 14, arbitrary: fc.constant<[string, boolean]>([method, false]) }, { weight: 1, arbitrary: fc.constantFrom(...others).map((x): [string, boolean] => [x, true]) }, ...(method === 'GET' ? [{ weight: 1, arbitrary: fc.constant<[string, boolean]>(['HEAD', false]) }] : []));
}

interface Shape { kind: Kind; method: string; path: string; query?: string; who?: string; body?: BodySpec; p?: Req['p']; keys?: string[] }
/** A request of `shape` on a random mount, with a random caller unless given, and now and then a wrong method. */
function request(shape: fc.Arbitrary<Shape>): fc.Arbitrary<Req> {
  return shape.chain((s) =>
    fc.tuple(mountArb, s.who === undefined ? whoArb : fc.constant(s.who), methodFor(s.method, s.path)).map(([mount, who, [method, offRoute]]): Req => {
      const keys = new Set(s.keys ?? []);
      const u = whoUser(who);
      if (u !== undefined && (who.startsWith('s:') || who.startsWith('d:'))) keys.add(`user:${u}`);
      const p = { ...s.p, ...(offRoute ? { offRoute } : {}) };
      return { kind: s.kind, mount, method, path: s.path, query: s.query ?? '', who, ...(s.body === undefined ? {} : { body: s.body }), p, keys: [...keys] };
    }),
  );
}

const userKey = (u: string | null | undefined) => (u === null || u === undefined ? [] : [`user:${u}`]);

// -- info and tokens

const infoReq = request(fc.constantFrom<[Kind, string]>(['info_v1', '/api/v1'], ['info_v1', '/api/v1/'], ['info_v2', '/api/v2/info'], ['authn_info', '/api/v2/authn/info']).map(([kind, path]) => ({ kind, method: 'GET', path })));

/** Login bodies: a known or unknown user, its password or another, `expiration` valid or not. */
const loginBody: fc.Arbitrary<{ body: BodySpec; user?: string }> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        username: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PRINCIPALS, ...SCRATCH) }, { weight: 3, arbitrary: fc.constantFrom(...GHOSTS, ...BAD_USERS, 'x'.repeat(300)) }),
        password: fc.oneof({ weight: 3, arbitrary: fc.constant('@PW@') }, { weight: 3, arbitrary: fc.constantFrom('wrong-password-1234', 'short', PASSWORD.toUpperCase(), 'y'.repeat(300)) }),
        expiration: fc.option(fc.oneof({ weight: 3, arbitrary: fc.constantFrom<unknown>('4000', 4000, '86400', ' 7200 ', '999999999999', '') }, { weight: 2, arbitrary: fc.constantFrom<unknown>('0', '-5', 'abc', '1.5', '9999999999999', 0, -1, 1.5, 1e20, true, [], {}) }), { nil: undefined, freq: 2 }),
        form: fc.boolean(),
        ct: jsonCt,
      })
      .map(({ username, password, expiration, form, ct }) => {
        const v: Record<string, unknown> = { username, password, ...(expiration === undefined ? {} : { expiration }) };
        // a form's values are strings (qs writes arrays and objects its own way)
        const formable = typeof expiration !== 'object' && typeof expiration !== 'boolean';
        const body: BodySpec = form && formable ? { t: 'value', as: 'form', ct: FORM, v: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) } : { t: 'value', as: 'json', ct, v };
        return { body, user: username };
      }),
  },
  { weight: 2, arbitrary: fc.constantFrom<unknown>({}, { username: 'alice' }, { password: 'x' }, { username: '', password: 'x' }, { username: 5, password: 'x' }, { username: 'alice', password: ['a'] }, { username: ['alice'], password: 'p' }).map((v) => ({ body: { t: 'value', as: 'json', ct: 'application/json', v } as BodySpec })) },
  { weight: 2, arbitrary: garbage.map((body) => ({ body })) },
);
const loginReq = request(
  fc.tuple(fc.constantFrom<Kind>('login_v1', 'login_v2'), loginBody).map(([kind, { body, user }]) => ({ kind, method: 'POST', path: kind === 'login_v1' ? '/api/v1/token' : '/api/v2/authn/basic/login', body, keys: userKey(user) })),
);

const tokenBase = fc.constantFrom('/api/v1/token', '/api/v2/tokens');
/** Callers of token routes: principals and their tokens, scratch users, nobody, broken ones. */
const tokenWho = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('admin', 'alice', 'bob', 'vera', 'aliceApp', 'adminApp', 'd:alice', 'd:admin', 'd:bob', 's:0', 's:1') }, { weight: 1, arbitrary: whoArb });
const optionalEmptyBody = fc.option(fc.oneof({ weight: 3, arbitrary: fc.constant<BodySpec>({ t: 'value', as: 'json', ct: 'application/json', v: {} }) }, { weight: 1, arbitrary: garbage }), { nil: undefined, freq: 2 });
const tokenReq = request(
  fc.oneof(
    { weight: 3, arbitrary: fc.tuple(tokenBase, tokenWho).map(([base, who]): Shape => ({ kind: 'tokens_list', method: 'GET', path: base, who, keys: userKey(whoUser(who)) })) },
    { weight: 3, arbitrary: fc.tuple(tokenBase, tokenWho, optionalEmptyBody).map(([base, who, body]): Shape => ({ kind: 'token_app', method: 'POST', path: `${base}/application`, who, ...(body === undefined ? {} : { body }), keys: userKey(whoUser(who)) })) },
    {
      weight: 4,
      arbitrary: fc
        .record({
          base: tokenBase,
          who: tokenWho,
          // own: the caller's user's; a principal's: a token the run made for it; main: a principal's own (refused: not the caller's); dead; garbage
          target: fc.oneof({ weight: 4, arbitrary: fc.constant('own') }, { weight: 3, arbitrary: fc.constantFrom('d:admin', 'd:alice', 'd:bob', 'main:alice', 'main:bob', 'main:vera', 's:0', 'dead') }, { weight: 2, arbitrary: fc.constantFrom('garbage:jjt_nope', 'garbage:' + 'f'.repeat(64), 'garbage:application', 'garbage:..', 'garbage:%ZZ', 'garbage:' + 'x'.repeat(101)) }),
          byId: fc.boolean(),
          body: fc.option(garbage, { nil: undefined, freq: 8 }),
        })
        .map(({ base, who, target, byId, body }): Shape => {
          const tgtUser = target === 'own' ? whoUser(who) : target.startsWith('d:') || target.startsWith('main:') ? target.split(':')[1] : target === 's:0' ? SCRATCH[0] : undefined;
          return { kind: 'token_revoke', method: 'DELETE', path: `${base}/{T}`, who, ...(body === undefined ? {} : { body }), p: { target, byId, ...(tgtUser === undefined ? {} : { tgtUser }) }, keys: [...userKey(whoUser(who)), ...userKey(tgtUser)] };
        }),
    },
    // logout: never with a principal's own token (it would revoke it); the static admin token is no record and stays
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('admin', 'd:alice', 'd:bob', 'd:admin', 's:0', 's:1', 's:2', 'none', 'expired', 'revoked', 'forged:0', 'malformed:3'), optionalEmptyBody).map(([who, body]): Shape => ({ kind: 'logout', method: 'DELETE', path: '/api/v2/authn/basic/logout', who, ...(body === undefined ? {} : { body }), keys: userKey(whoUser(who)) })) },
  ),
);

// -- users

const targetUser = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...SCRATCH) }, { weight: 3, arbitrary: fc.constantFrom(...PRINCIPALS) }, { weight: 2, arbitrary: fc.constantFrom(...GHOSTS, ...BAD_USERS) });
const password = fc.oneof({ weight: 3, arbitrary: fc.constant('@PW@') }, { weight: 3, arbitrary: fc.constantFrom('@NEWPW@', PASSWORD) }, { weight: 1, arbitrary: fc.constantFrom('short', '', 'z'.repeat(257)) });
const adminFlag = fc.oneof({ weight: 4, arbitrary: fc.constantFrom<unknown>(true, false, 'true', 'false') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('yes', 1, null) });
const vcList = fc.oneof({ weight: 4, arbitrary: fc.subarray(['default', 'vc1', 'vc2']) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(['nope'], ['vc1', 'vc1'], 'vc1', [1], null) });
const email = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('', 'a@example.com', 'fz@test.org') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('not an email', 5, 'x'.repeat(250) + '@b.c') });
const extension = fc.oneof({ weight: 3, arbitrary: fc.constantFrom<unknown>({}, { team: 'x' }, { n: 1, deep: { a: [1, 2] } }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>([], 'str', null, { big: 'x'.repeat(17_000) }) });
const asBody = (v: unknown, formable: boolean, form: boolean, ct: string): BodySpec => (form && formable ? { t: 'value', as: 'form', ct: FORM, v } : { t: 'value', as: 'json', ct, v });
const stringsOnly = (v: Record<string, unknown>) => Object.values(v).every((x) => typeof x === 'string');

const userV1Req = request(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record({ username: targetUser, password: fc.option(password, { nil: undefined, freq: 2 }), admin: fc.option(adminFlag, { nil: undefined, freq: 2 }), modify: fc.constantFrom<unknown>(true, false, 'true', 'false', undefined, 'maybe'), form: fc.boolean(), ct: jsonCt })
        .map(({ form, ct, ...f }): Shape => {
          const v = Object.fromEntries(Object.entries(f).filter(([, x]) => x !== undefined));
          return { kind: 'user_put_v1', method: 'PUT', path: '/api/v1/user', body: asBody(v, stringsOnly(v), form, ct), keys: userKey(f.username) };
        }),
    },
    { weight: 1, arbitrary: garbage.map((body): Shape => ({ kind: 'user_put_v1', method: 'PUT', path: '/api/v1/user', body })) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.oneof({ weight: 5, arbitrary: targetUser.map((username): unknown => ({ username })) }, { weight: 1, arbitrary: fc.constantFrom<unknown>({}, { username: 5 }, { username: '' }) }), fc.boolean(), jsonCt).map(([v, form, ct]): Shape => ({
        kind: 'user_delete_v1', method: 'DELETE', path: '/api/v1/user', body: asBody(v, stringsOnly(v as Record<string, unknown>), form, ct), keys: [...userKey((v as { username?: string }).username), 'user:ghost0'],
      })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(userSeg, fc.oneof({ weight: 4, arbitrary: fc.subarray(['default', 'vc1', 'vc2']).map((l): unknown => l.join(',')) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(' vc1 , vc2 ', 'nope', 'vc1,,', ['vc2'], [5], undefined, null, {}) }), fc.boolean(), jsonCt).map(([seg, list, form, ct]): Shape => {
        const v = list === undefined ? {} : { virtualClusters: list };
        return { kind: 'user_vcs_v1', method: 'PUT', path: `/api/v1/user/${seg.raw}/virtualClusters`, body: asBody(v, typeof list === 'string', form, ct), p: { ...(seg.dec === null ? {} : { user: seg.dec }) }, keys: userKey(seg.dec) };
      }),
    },
  ),
);

const slash = fc.constantFrom('', '/');
const userV2Req = request(
  fc.oneof(
    { weight: 2, arbitrary: slash.map((s): Shape => ({ kind: 'users_list', method: 'GET', path: `/api/v2/users${s}` })) },
    {
      weight: 4,
      arbitrary: fc
        // mostly the admin's own session: only an admin's create reaches the conflict (409 ConflictUserError),
        // and only within HASH_CAP (with any caller it came 2-21 times a run, in 12 seeds)
        .record({ s: slash, who: fc.oneof({ weight: 2, arbitrary: fc.constant('admin') }, { weight: 1, arbitrary: whoArb }), username: targetUser, password: fc.option(password, { nil: undefined, freq: 6 }), admin: fc.option(adminFlag, { nil: undefined, freq: 2 }), virtualCluster: fc.option(vcList, { nil: undefined, freq: 2 }), email: fc.option(email, { nil: undefined, freq: 2 }), extension: fc.option(extension, { nil: undefined, freq: 2 }) })
        .map(({ s, who, ...f }): Shape => ({ kind: 'user_create', method: 'POST', path: `/api/v2/users${s}`, who, body: { t: 'value', as: 'json', ct: 'application/json', v: Object.fromEntries(Object.entries(f).filter(([, x]) => x !== undefined)) }, keys: userKey(f.username) })),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({ patch: fc.constantFrom<unknown>(true, true, false, 'true', undefined, 'no'), username: targetUser, password: fc.option(password, { nil: undefined, freq: 2 }), admin: fc.option(adminFlag, { nil: undefined, freq: 2 }), virtualCluster: fc.option(vcList, { nil: undefined, freq: 2 }), email: fc.option(email, { nil: undefined, freq: 2 }), extension: fc.option(extension, { nil: undefined, freq: 2 }) })
        .map(({ patch, ...data }): Shape => ({ kind: 'user_update', method: 'PUT', path: '/api/v2/users', body: { t: 'value', as: 'json', ct: 'application/json', v: { ...(patch === undefined ? {} : { patch }), data: Object.fromEntries(Object.entries(data).filter(([, x]) => x !== undefined)) } }, keys: userKey(data.username) })),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({ who: fc.constantFrom('alice', 'bob', 'vera', 'admin', 'aliceApp', 's:0', 's:1', 's:2', 's:3', 'none'), self: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), patch: fc.constantFrom<unknown>(true, false, undefined), newPassword: fc.option(fc.constantFrom('@NEWPW@', '@PW@', 'short'), { nil: undefined, freq: 2 }), oldPassword: fc.option(fc.constantFrom('@PW@', 'wrong-password-123'), { nil: undefined, freq: 4 }), email: fc.option(email, { nil: undefined, freq: 2 }), extension: fc.option(extension, { nil: undefined, freq: 2 }) })
        .map(({ who, self, patch, ...data }): Shape => {
          const me = whoUser(who);
          const username = self && me !== undefined ? me : 'bob';
          return { kind: 'user_me', method: 'PUT', path: '/api/v2/users/me', who, body: { t: 'value', as: 'json', ct: 'application/json', v: { ...(patch === undefined ? {} : { patch }), data: { username, ...Object.fromEntries(Object.entries(data).filter(([, x]) => x !== undefined)) } } }, keys: userKey(me) };
        }),
    },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom<Kind>('user_create', 'user_update', 'user_me'), garbage).map(([kind, body]): Shape => ({ kind, method: kind === 'user_create' ? 'POST' : 'PUT', path: kind === 'user_create' ? '/api/v2/users' : kind === 'user_me' ? '/api/v2/users/me' : '/api/v2/users', body })) },
    { weight: 3, arbitrary: userSeg.map((seg): Shape => ({ kind: 'user_get', method: 'GET', path: `/api/v2/users/${seg.raw}`, p: { ...(seg.dec === null ? {} : { user: seg.dec }) }, keys: userKey(seg.dec) })) },
    { weight: 2, arbitrary: fc.tuple(userSeg, fc.option(garbage, { nil: undefined, freq: 8 })).map(([seg, body]): Shape => ({ kind: 'user_delete', method: 'DELETE', path: `/api/v2/users/{U}`, ...(body === undefined ? {} : { body }), p: { ...(seg.dec === null ? { target: seg.raw } : { user: seg.dec, target: seg.raw }) }, keys: [...userKey(seg.dec), 'user:ghost0'] })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(userSeg, fc.constantFrom<Kind>('group_add', 'group_del', 'grouplist'), slash, fc.oneof({ weight: 4, arbitrary: fc.constantFrom<unknown>('g1', 'g2', 'a.b-c_d', 'default') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('', 'a b', 'x'.repeat(65), 5, null) }), fc.oneof({ weight: 4, arbitrary: fc.subarray(['g1', 'g2', 'g3', 'g1']) as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.constantFrom<unknown>('g1', [5], ['bad name'], Array.from({ length: 257 }, (_, i) => `g${i}`)) }), fc.option(garbage, { nil: undefined, freq: 8 }))
        .map(([seg, kind, s, groupname, grouplist, junk]): Shape => ({
          kind, method: kind === 'group_del' ? 'DELETE' : 'PUT', path: `/api/v2/users/${seg.raw}/${kind === 'grouplist' ? 'grouplist' : 'group'}${s}`,
          body: junk ?? { t: 'value', as: 'json', ct: 'application/json', v: kind === 'grouplist' ? { grouplist } : { groupname } }, p: { ...(seg.dec === null ? {} : { user: seg.dec }) }, keys: userKey(seg.dec),
        })),
    },
  ),
);

// -- virtual clusters

const vcReq = request(
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom<Kind>('vcs_v1', 'vcs_v2').map((kind): Shape => ({ kind, method: 'GET', path: kind === 'vcs_v1' ? '/api/v1/virtual-clusters' : '/api/v2/virtual-clusters' })) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom<Kind>('vc_v1', 'vc_v2', 'vc_sku'), vcSeg).map(([kind, seg]): Shape => ({ kind, method: 'GET', path: kind === 'vc_v1' ? `/api/v1/virtual-clusters/${seg.raw}` : `/api/v2/virtual-clusters/${seg.raw}${kind === 'vc_sku' ? '/sku-types' : ''}`, p: { ...(seg.dec === null ? {} : { vc: seg.dec }) } })) },
  ),
);

// -- jobs: v1 configs and v2 protocols, clean or broken

const roleNames = fc.uniqueArray(fc.constantFrom('main', 'worker', 'ps', 'w_1'), { minLength: 1, maxLength: 2 });
/** Instant commands; one prints the secret (the logs must show it masked). */
const COMMANDS = ['true', 'exit 0', 'echo <% $parameters.p %> > /dev/null', ': <% $secrets.key %>', 'echo "<% $secrets.key %>"'];
const vcChoice = fc.oneof({ weight: 6, arbitrary: fc.constant('default') }, { weight: 2, arbitrary: fc.constantFrom('vc1', 'vc2') });

function protocolOf(name: string, roles: string[], instances: number, command: string, version: number | string, secrets: boolean): Record<string, unknown> {
  const taskRoles = Object.fromEntries(roles.map((r) => [r, { instances, dockerImage: 'img', resourcePerInstance: { cpu: 1, memoryMB: 256, gpu: 0 }, commands: [command] }]));
  return { protocolVersion: version, name, type: 'job', prerequisites: [{ name: 'img', type: 'dockerimage', uri: 'ubuntu:22.04' }], parameters: { p: 'v' }, ...(secrets ? { secrets: { key: SECRET } } : {}), taskRoles, defaults: { virtualCluster: '@VC@' } };
}

type Mutator = (p: Record<string, unknown>) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a protocol being broken on purpose
const role0 = (p: Record<string, unknown>): any => Object.values(p['taskRoles'] as Record<string, unknown>)[0];
/** One field broken, each surely refused (plan §4.2). */
const PROTOCOL_BREAKERS: Mutator[] = [
  (p) => (role0(p).instances = 0), (p) => (role0(p).instances = -1), (p) => (role0(p).instances = 10_001), (p) => (role0(p).instances = '3'), (p) => (role0(p).instances = 1.5),
  (p) => (p['surprise'] = 1), (p) => (role0(p).surprise = 1), (p) => (role0(p).completion = { minFailedInstances: 0 }), (p) => (role0(p).completion = { minSucceededInstances: 'x' }),
  (p) => (role0(p).commands = []), (p) => (role0(p).commands = ['']), (p) => (role0(p).commands = ['a\0b']), (p) => (role0(p).commands = 'true'), (p) => (role0(p).commands = ['echo <% $parameters.p']),
  (p) => (role0(p).dockerImage = 'missing'), (p) => (p['prerequisites'] = [...(p['prerequisites'] as unknown[]), { name: 'img', type: 'dockerimage', uri: 'x' }]),
  (p) => (p['taskRoles'] = { 'wor.ker': role0(p) }), (p) => (p['taskRoles'] = { '1abc': role0(p) }), (p) => (p['taskRoles'] = {}), (p) => (p['taskRoles'] = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`r${i}`, role0(p)]))),
  (p) => (p['name'] = 'bad.name'), (p) => (p['name'] = 'x'.repeat(129)), (p) => (p['name'] = ''), (p) => (p['name'] = 5), (p) => (p['protocolVersion'] = 3), (p) => (p['type'] = 'service'),
  (p) => (role0(p).taskRetryCount = 11), (p) => (p['jobRetryCount'] = -1), (p) => delete role0(p).resourcePerInstance.gpu, (p) => (role0(p).resourcePerInstance.memoryMB = 0),
  (p) => (p['defaults'] = { virtualCluster: '@VC@', deployment: 'nope' }), (p) => (p['taskRoles'] = [role0(p)]), (p) => ((p['prerequisites'] as Record<string, unknown>[])[0]!['extra'] = 1), (p) => delete p['taskRoles'],
];
/** Hostile YAML (decision 0011) and text that is no protocol. */
const HOSTILE_YAML = [
  ['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array.from({ length: 9 }, () => `*a${i}`).join(', ')}]`)].join('\n'),
  `a: ${'['.repeat(70)}1${']'.repeat(70)}`, `x: &x 1\nuse: [${Array.from({ length: 101 }, () => '*x').join(', ')}]`, 'f: !!js/function "function () {}"', 'r: !!js/regexp /x/',
  '__proto__: {x: 1}\nname: a', 'name: a\nname: b', 'name: [unclosed', '\tname: tab', '<<: *nope', 'a: *undefined_alias', '%YAML 9.9\n---\na: 1', '- just\n- a\n- list', '"a string"', '', '~', '---\na: 1\n---\nb: 2',
  `base: &b [${Array.from({ length: 2000 }, (_, i) => `v${i}`).join(', ')}]\nuse: [${Array.from({ length: 60 }, () => '*b').join(', ')}]`, 'protocolVersion: 2\nname: j0\ntype: job\ntaskRoles: {m: {commands: [true]}}',
];

const cleanProtocol = fc.record({ roles: roleNames, instances: fc.integer({ min: 1, max: 2 }), command: fc.constantFrom(...COMMANDS), version: fc.constantFrom<number | string>(2, '2'), secrets: fc.boolean() });
const submitV2Req = request(
  fc.tuple(jobName, vcChoice, cleanProtocol, fc.oneof({ weight: 8, arbitrary: fc.constant(-1) }, { weight: 4, arbitrary: fc.integer({ min: 0, max: PROTOCOL_BREAKERS.length - 1 }) }, { weight: 2, arbitrary: fc.integer({ min: 100, max: 100 + HOSTILE_YAML.length - 1 }) }, { weight: 1, arbitrary: fc.constantFrom(-2, -3, -4) }), fc.oneof({ weight: 6, arbitrary: fc.constant('text/yaml') }, { weight: 1, arbitrary: fc.constantFrom('text/x-yaml', 'text/plain', 'TEXT/YAML', 'application/json') }))
    .map(([name, vc, c, breaker, ct]): Shape => {
      const keys = [`name:${name}`];
      if (breaker === -2) return { kind: 'submit_v2', method: 'POST', path: '/api/v2/jobs', body: { t: 'raw', ct: 'application/json', text: '{"protocolVersion":2,"name":"j0","name":"j1"}', parse: 'bad' }, keys };
      if (breaker >= 100) return { kind: 'submit_v2', method: 'POST', path: '/api/v2/jobs', body: { t: 'raw', ct: 'text/yaml', text: HOSTILE_YAML[breaker - 100]!, parse: 'value', value: '(hostile)' }, keys };
      const proto = protocolOf(name, c.roles, c.instances, c.command, c.version, c.secrets);
      if (breaker >= 0) PROTOCOL_BREAKERS[breaker]!(proto);
      // large: 60 KB is kept; 150 KB is over the text body's 100 KiB (413) and, as JSON, over what a job keeps of its source (400)
      if (breaker === -3 || breaker === -4) proto['description'] = 'd'.repeat(breaker === -3 ? 60_000 : 150_000);
      const asJson = ct === 'application/json';
      return { kind: 'submit_v2', method: 'POST', path: '/api/v2/jobs', body: { t: 'value', as: asJson ? 'json' : 'yaml', ct, v: proto, valid: breaker === -1 || breaker === -3 }, p: { job: name, vc, roles: Object.fromEntries(c.roles.map((r) => [r, c.instances])) }, keys };
    }),
);

/** A v1 config (the seed's JSON, PAIV1's form): name, VC placeholder, one or two roles. */
function v1ConfigOf(name: string | undefined, roles: string[], taskNumber: number, nulls: boolean): Record<string, unknown> {
  return {
    ...(name === undefined ? {} : { jobName: name }), image: 'ubuntu:22.04', virtualCluster: '@VC@', retryCount: 0,
    taskRoles: roles.map((r) => ({ name: r, taskNumber, command: 'true', ...(nulls ? { minSucceededTaskCount: null, minFailedTaskCount: 1, portList: [] } : { memoryMB: 256, cpuNumber: 1 }) })),
  };
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a config being broken on purpose
const v1role = (c: Record<string, unknown>): any => (c['taskRoles'] as unknown[])[0];
const V1_BREAKERS: Mutator[] = [
  (c) => (c['jobName'] = 'bad.name'), (c) => (c['jobName'] = ''), (c) => (c['jobName'] = 'x'.repeat(129)), (c) => (v1role(c).taskNumber = 0), (c) => (v1role(c).taskNumber = 'abc'), (c) => (v1role(c).taskNumber = 10_001),
  (c) => (v1role(c).taskNumber = -1), (c) => (c['bogus'] = true), (c) => (v1role(c).bogus = 1), (c) => (v1role(c).name = 'a.b'), (c) => (v1role(c).name = '1a'), (c) => (v1role(c).command = ''), (c) => (v1role(c).command = 'a\0b'),
  (c) => Object.assign(v1role(c), { memoryMB: 64, shmMB: 128 }), (c) => (c['taskRoles'] = [v1role(c), { ...v1role(c) }]), (c) => (c['retryCount'] = -1), (c) => (c['retryCount'] = 11), (c) => (v1role(c).minFailedTaskCount = 0),
  (c) => (v1role(c).portList = [{ label: 'a', portNumber: 1 }, { label: 'a', portNumber: 2 }]), (c) => (c['taskRoles'] = []), (c) => delete c['image'], (c) => (c['taskRoles'] = 'main'), (c) => (c['__proto__x'] = 1),
];
/** Broken forms: appended to a clean form (each surely refused). */
const V1_FORM_BREAKERS = ['&taskRoles%5B0%5D%5Bname%5D=other', '&a%5B=1', '&constructor%5Bprototype%5D%5Bx%5D=1', '&taskRoles%5B0%5D%5BportList%5D%5B0%5D%5Bx%5D%5By%5D=1', '&a%5Bb%5D%5Bc%5D%5Bd%5D%5Be%5D%5Bf%5D%5Bg%5D=1', '&taskRoles%5B100%5D%5Bname%5D=x', `&${Array.from({ length: 2001 }, (_, i) => `k${i}=1`).join('&')}`, '&image=a&image=b'];

const v1Submit = (path: 'seed' | 'user' | 'put') =>
  fc
    .record({ name: jobName, vc: vcChoice, roles: roleNames, taskNumber: fc.integer({ min: 1, max: 2 }), nulls: fc.boolean(), form: fc.boolean(), ct: jsonCt, breaker: fc.oneof({ weight: 8, arbitrary: fc.constant(-1) }, { weight: 4, arbitrary: fc.integer({ min: 0, max: V1_BREAKERS.length - 1 }) }, { weight: 2, arbitrary: fc.integer({ min: 100, max: 100 + V1_FORM_BREAKERS.length - 1 }) }, { weight: 1, arbitrary: fc.constantFrom(200, 201, 202, 203, 300, 301, 302) }), omitName: fc.boolean() })
    .map((g) => {
      // PUT names the job in its path: the body's jobName is left out, or the same, or (broken) another
      const config = v1ConfigOf(path === 'put' && g.omitName ? undefined : g.name, g.roles, g.taskNumber, g.nulls);
      let valid = g.breaker === -1 || g.breaker === 300;
      if (g.breaker >= 0 && g.breaker < 100) V1_BREAKERS[g.breaker]!(config);
      // large: one 60 KB command is kept; two are more than a job keeps of its source (100 KiB as JSON)
      if (g.breaker === 300 || g.breaker === 301) config['taskRoles'] = ['main', 'w_2'].slice(0, g.breaker === 300 ? 1 : 2).map((name) => ({ name, taskNumber: g.taskNumber, command: `: ${'c'.repeat(60_000)}` }));
      if (path === 'put' && g.breaker === 0 && g.omitName) valid = false;
      const formable = g.form || (g.breaker >= 100 && g.breaker < 300);
      let body: BodySpec;
      if (g.breaker === 302) body = { t: 'value', as: 'yaml', ct: 'text/yaml', v: config, valid: false }; // YAML is no v1 config
      else if (g.breaker >= 200 && g.breaker < 300) {
        // a form whose only oddity is harmless (qs drops `__proto__[x]`; an encoded name; a null as request writes it): clean
        const extra = ['&__proto__%5Bx%5D=1', '', '', ''][g.breaker - 200]!;
        // 203: brackets unencoded, as a hand-written curl form
        const text = qsStringify(stringify(config), g.breaker === 203 ? { encode: false } : {}) + extra;
        body = { t: 'value', as: 'form', ct: FORM, v: text, valid: true };
        valid = true;
        const broken = text.replace(/^jobName=[^&]*/, g.breaker === 201 ? 'jobName=ab%2' : 'jobName=%FF%FE');
        if ((g.breaker === 201 || g.breaker === 202) && broken !== text) {
          // a cut-short escape / invalid UTF-8 in the job name: refused
          body = { t: 'value', as: 'form', ct: FORM, v: broken, valid: false };
          valid = false;
        }
      } else if (g.breaker >= 100 && g.breaker < 200) {
        body = { t: 'value', as: 'form', ct: FORM, v: qsStringify(stringify(config)) + V1_FORM_BREAKERS[g.breaker - 100]!, valid: false };
        valid = false;
      } else body = formable ? { t: 'value', as: 'form', ct: FORM, v: qsStringify(stringify(config)), valid } : { t: 'value', as: 'json', ct: g.ct, v: config, valid };
      const roles = Array.isArray(config['taskRoles']) ? Object.fromEntries((config['taskRoles'] as { name: string; taskNumber: number }[]).map((r) => [r.name, r.taskNumber])) : {};
      return { ...g, valid, body, roles, config };
    });
/** Form values as request writes them: strings; null as ''. */
function stringify(v: unknown): unknown {
  if (v === null) return '';
  if (Array.isArray(v)) return v.map(stringify);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, stringify(x)]));
  return String(v);
}

const submitV1Req = request(
  fc.oneof(
    { weight: 3, arbitrary: v1Submit('seed').map((g): Shape => ({ kind: 'submit_v1', method: 'POST', path: '/api/v1/jobs', body: g.body, p: { job: g.name, vc: g.vc, roles: g.roles, config: g.config }, keys: [`name:${g.name}`] })) },
    { weight: 3, arbitrary: fc.tuple(v1Submit('user'), jobUserSeg).map(([g, seg]): Shape => ({ kind: 'usubmit', method: 'POST', path: `/api/v1/user/${seg.raw}/jobs`, body: g.body, p: { job: g.name, vc: g.vc, roles: g.roles, config: g.config, ...(seg.dec === null ? {} : { user: seg.dec }) }, keys: [`name:${g.name}`] })) },
    {
      weight: 2,
      arbitrary: fc.tuple(v1Submit('put'), fc.oneof({ weight: 6, arbitrary: fc.constant<Seg | undefined>(undefined) }, { weight: 1, arbitrary: jobSeg })).map(([g, other]): Shape => {
        const seg = other ?? segOf(g.name);
        // a path name other than the body's: refused unless the body names none
        const valid = g.valid && seg.dec !== null && JOB_RE.test(seg.dec) && (seg.dec === g.name || g.omitName);
        const body = g.body.t === 'value' ? { ...g.body, valid } : g.body;
        return { kind: 'seed_put', method: 'PUT', path: `/api/v1/jobs/${seg.raw}`, body, p: { job: seg.dec ?? g.name, vc: g.vc, roles: g.roles, config: { ...g.config, jobName: seg.dec ?? g.name } }, keys: [`name:${g.name}`, ...(seg.dec === null ? [] : [`name:${seg.dec}`])] };
      }),
    },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom<Kind>('submit_v1', 'submit_v2'), garbage, jobName).map(([kind, body, name]): Shape => ({ kind, method: 'POST', path: kind === 'submit_v1' ? '/api/v1/jobs' : '/api/v2/jobs', body, keys: [`name:${name}`] })) },
  ),
);

/** The job name a seed path names (after `~` when there is one), for the key. */
const seedName = (dec: string | null) => (dec === null ? undefined : dec.includes('~') ? dec.slice(dec.indexOf('~') + 1) : dec);
const execBody = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<unknown>('START', 'STOP', 'start', 'Stop', 'sToP').map((value): BodySpec => ({ t: 'value', as: 'json', ct: 'application/json', v: { value } })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', 'PAUSE', 'STOPPED', 5, 0, null, true, ['STOP'], { v: 'STOP' }, ' STOP').map((value): BodySpec => ({ t: 'value', as: 'json', ct: 'application/json', v: { value } })) },
  { weight: 1, arbitrary: fc.constantFrom<BodySpec>({ t: 'value', as: 'json', ct: 'application/json', v: {} }, { t: 'value', as: 'form', ct: FORM, v: { value: 'STOP' } }) },
  { weight: 1, arbitrary: garbage },
);
const tagBody = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<unknown>('t1', 't2', 'a:b', '~x', 'x'.repeat(256)).map((value): BodySpec => ({ t: 'value', as: 'json', ct: 'application/json', v: { value } })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', 'a b', 'é', 'x'.repeat(257), 5, null, ['t1']).map((value): BodySpec => ({ t: 'value', as: 'json', ct: 'application/json', v: { value } })) },
  { weight: 1, arbitrary: garbage },
);

const jobV1Req = request(
  fc.oneof(
    { weight: 2, arbitrary: fc.option(fc.oneof({ weight: 4, arbitrary: fc.constantFrom<string | string[]>(...PRINCIPALS, ...SCRATCH, '', 'ghost0') }, { weight: 1, arbitrary: fc.constantFrom<string | string[]>(['alice', 'bob'], 'a b', 'bad.name', 'x'.repeat(40)) }), { nil: undefined, freq: 2 }).map((username): Shape => ({ kind: 'jobs_v1', method: 'GET', path: '/api/v1/jobs', query: username === undefined ? '' : `?${(Array.isArray(username) ? username : [username]).map((u) => `username=${enc(u)}`).join('&')}`, p: { ...(username === undefined ? {} : { username }) } })) },
    {
      weight: 5,
      arbitrary: fc.tuple(fc.constantFrom<Kind>('seed_get', 'seed_get', 'seed_config', 'seed_ssh', 'seed_delete', 'seed_exec', 'seed_exec'), fc.oneof({ weight: 3, arbitrary: jobSeg }, { weight: 1, arbitrary: fwSeg }), execBody).map(([kind, seg, body]): Shape => {
        const name = seedName(seg.dec);
        const method = kind === 'seed_delete' ? 'DELETE' : kind === 'seed_exec' ? 'PUT' : 'GET';
        const suffix = kind === 'seed_config' ? '/config' : kind === 'seed_ssh' ? '/ssh' : kind === 'seed_exec' ? '/executionType' : '';
        return { kind, method, path: `/api/v1/jobs/${seg.raw}${suffix}`, ...(kind === 'seed_exec' ? { body } : {}), p: { ...(seg.dec === null ? {} : { job: seg.dec }) }, keys: name === undefined ? [] : [`name:${name}`] };
      }),
    },
    { weight: 1, arbitrary: jobUserSeg.map((seg): Shape => ({ kind: 'ujobs', method: 'GET', path: `/api/v1/user/${seg.raw}/jobs`, p: { ...(seg.dec === null ? {} : { user: seg.dec }) } })) },
    {
      weight: 5,
      arbitrary: fc.tuple(fc.constantFrom<Kind>('uget', 'uget', 'udelete', 'uexec', 'uexec', 'ussh', 'uconfig'), jobUserSeg, jobSeg, execBody).map(([kind, u, j, body]): Shape => {
        const method = kind === 'udelete' ? 'DELETE' : kind === 'uexec' ? 'PUT' : 'GET';
        const path = kind === 'uconfig' ? `/api/v1/jobs/${u.raw}/jobs/${j.raw}/config` : `/api/v1/user/${u.raw}/jobs/${j.raw}${kind === 'uexec' ? '/executionType' : kind === 'ussh' ? '/ssh' : ''}`;
        return { kind, method, path, ...(kind === 'uexec' ? { body } : {}), p: { ...(u.dec === null ? {} : { user: u.dec }), ...(j.dec === null ? {} : { job: j.dec }) }, keys: j.dec === null ? [] : [`name:${j.dec}`] };
      }),
    },
  ),
);

/** A v2 list query as the SDK sends it (k=v joined by &, unencoded), each part valid or not. */
const listQuery = fc
  .array(
    fc.oneof(
      fc.constantFrom<[string, string, 'ok' | 'bad' | 'either']>(['username', 'alice', 'ok'], ['username', 'alice,bob', 'ok'], ['username', 'ghost0', 'ok'], ['vc', 'default', 'ok'], ['vc', 'vc1,vc2', 'ok'], ['keyword', 'j', 'ok'], ['tagsContain', 't1', 'ok'], ['tagsNotContain', 't2', 'ok']),
      fc.constantFrom<[string, string, 'ok' | 'bad' | 'either']>(['state', 'RUNNING', 'ok'], ['state', 'SUCCEEDED,FAILED,STOPPING', 'ok'], ['state', 'WAITING', 'ok'], ['state', 'UNKNOWN', 'ok'], ['state', 'running', 'bad'], ['state', 'BOGUS', 'bad']),
      fc.constantFrom<[string, string, 'ok' | 'bad' | 'either']>(['order', 'submissionTime,DESC', 'ok'], ['order', 'jobName,ASC', 'ok'], ['order', 'state', 'ok'], ['order', 'completionTime,asc', 'ok'], ['order', 'vc,DESC', 'ok'], ['order', 'name,ASC', 'bad'], ['order', 'jobName,UP', 'bad'], ['order', 'jobName,ASC,x', 'bad'], ['order', '', 'ok']),
      fc.constantFrom<[string, string, 'ok' | 'bad' | 'either']>(['offset', '0', 'ok'], ['offset', '3', 'ok'], ['offset', '9007199254740991', 'ok'], ['offset', '-1', 'bad'], ['offset', 'abc', 'bad'], ['offset', '1.5', 'bad'], ['offset', '99999999999999999', 'bad']),
      fc.constantFrom<[string, string, 'ok' | 'bad' | 'either']>(['limit', '0', 'ok'], ['limit', '1', 'ok'], ['limit', '50000', 'ok'], ['limit', '50001', 'bad'], ['limit', '-1', 'bad'], ['limit', 'x', 'bad'], ['limit', '1e3', 'bad']),
      fc.constantFrom<[string, string, 'ok' | 'bad' | 'either']>(['withTotalCount', 'true', 'ok'], ['withTotalCount', 'false', 'ok'], ['withTotalCount', 'TRUE', 'ok'], ['withTotalCount', 'yes', 'bad'], ['keyword', 'a b', 'ok'], ['keyword', 'a#b', 'either'], ['keyword', '%ZZ', 'ok'], ['username', 'a&b=c', 'either'], ['__proto__', 'x', 'ok']),
      fc.constantFrom<[string, string, 'ok' | 'bad' | 'either']>(['keyword', '(', 'ok'], ['keyword', '[a-', 'ok'], ['keyword', '.*', 'ok'], ['keyword', '\\', 'ok'], ['tagsContain', 't1,t2', 'ok'], ['tagsNotContain', 'a:b', 'ok'], ['vc', 'nope', 'ok'], ['constructor', 'x', 'ok']),
    ),
    { maxLength: 5 },
  )
  .map((parts) => {
    // a scalar given twice is an array: refused
    const scalars = new Map<string, number>();
    for (const [k] of parts) if (['offset', 'limit', 'order', 'withTotalCount', 'keyword'].includes(k)) scalars.set(k, (scalars.get(k) ?? 0) + 1);
    const twice = [...scalars.values()].some((n) => n > 1);
    const tags = parts.map(([, , ok]) => ok);
    const q: 'ok' | 'bad' | 'either' = tags.includes('either') ? 'either' : twice || tags.includes('bad') ? 'bad' : 'ok';
    const all = (k: string) => parts.filter(([x]) => x === k).flatMap(([, v]) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    const limit = parts.find(([k]) => k === 'limit')?.[1];
    const total = parts.find(([k]) => k === 'withTotalCount')?.[1];
    return {
      query: parts.length === 0 ? '' : `?${parts.map(([k, v]) => `${k}=${v}`).join('&')}`,
      p: { q, qUsernames: all('username').length > 0 ? all('username') : null, qStates: all('state').length > 0 ? all('state') : null, qVcs: all('vc').length > 0 ? all('vc') : null, ...(limit !== undefined && /^\d+$/.test(limit) ? { qLimit: Number(limit) } : {}), qTotal: total === undefined ? false : total.toLowerCase() === 'true' },
    };
  });

const jobV2Req = request(
  fc.oneof(
    { weight: 3, arbitrary: listQuery.map(({ query, p }): Shape => ({ kind: 'jobs_v2', method: 'GET', path: '/api/v2/jobs', query, p })) },
    {
      weight: 8,
      arbitrary: fc
        .tuple(
          fc.constantFrom<Kind>('get_v2', 'attempt_v2', 'config_v2', 'exec_v2', 'tag_add', 'tag_add', 'tag_del', 'tag_del', 'events', 'healthz', 'attempts', 'attempt_i', 'task_v2', 'task_logs', 'task_log', 'task_log'),
          fwSeg, fc.constantFrom('0', '0', '1', '-1', 'x', '00'), execBody, tagBody, fc.constantFrom('main', 'main', 'worker', 'ps', 'w_1', 'nope', '%2e'), fc.constantFrom('0', '0', '1', '2', '01', '-1', 'x'),
          fc.constantFrom('0', '0', '1', 'x', '-1'), fc.constantFrom('stdout', 'stderr', 'all', 'all', 'both', 'STDOUT'), fc.constantFrom('', '', '?tailMode=true', '?tailMode=false', '?tailMode=1'), fc.boolean(),
        )
        .map(([kind, seg, n, eb, tb, role, i, ta, stream, tail, first]): Shape => {
          // first: the job's first instance (its first role, filled in when sent), else any
          const task = first ? `/attempts/0/taskRoles/${ROLE}/taskIndex/0/attempts` : `/attempts/${n}/taskRoles/${role}/taskIndex/${i}/attempts`;
          const suffix = { get_v2: '', attempt_v2: `/attempts/${n}`, config_v2: '/config', exec_v2: '/executionType', tag_add: '/tag', tag_del: '/tag', events: '/events', healthz: '/job-attempts/healthz', attempts: '/job-attempts', attempt_i: `/job-attempts/${n}`, task_v2: task, task_logs: `${task}/${ta}/logs`, task_log: `${task}/${ta}/logs/${stream}` }[kind as 'get_v2']!;
          const method = kind === 'exec_v2' || kind === 'tag_add' ? 'PUT' : kind === 'tag_del' ? 'DELETE' : 'GET';
          const body = kind === 'exec_v2' ? eb : kind === 'tag_add' || kind === 'tag_del' ? tb : undefined;
          const name = seg.dec === null ? undefined : splitFw(seg.dec)?.name;
          return { kind, method, path: `/api/v2/jobs/${seg.raw}${suffix}`, ...(kind === 'task_log' ? { query: tail } : {}), ...(body === undefined ? {} : { body }), p: { ...(seg.dec === null ? {} : { fw: seg.dec }), n }, keys: name === undefined ? [] : [`name:${name}`] };
        }),
    },
  ),
);

// -- paths no route takes

const OUT_OF_SCOPE = ['/api/v2/groups', '/api/v2/groups/g1', '/api/v2/storages', '/api/v2/kubernetes/nodes', '/api/v2/authn/oidc/login', '/api/v2/authn/oidc/logout', '/api/v2/jobs/alice~j0/attempts/0/taskRoles/main/taskIndex/0', '/api/v3/jobs', '/api', '/', '/api/v1/jobz', '/api/v2/job', '/API/V2/INFO', '/api/v2/info/', '/api/v2/users/alice/x', '/api/v1/user/alice'];
const unknownReq = request(fc.tuple(fc.constantFrom(...OUT_OF_SCOPE), fc.constantFrom('GET', 'POST', 'DELETE')).map(([path, method]): Shape => ({ kind: 'unknown', method, path })));
const TRAVERSAL = ['/api/v2/../v1/jobs', '/api/v1/jobs/../../etc/passwd', '/%2e%2e/api/v2/info', '//api//v2//info', '/api/v2/jobs/%', '/api/v1/jobs/é', '/api/v2/users/..%2Fadmin', '/rest-server/api/v2/info', '/compat/openpai/api/v2/info', '/api/v2/jobs?limit=1&limit=2', '/api/v2/info?__proto__[x]=1'];
const strayReq = request(
  fc.tuple(fc.oneof(fc.constantFrom(...TRAVERSAL), fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)), fc.webPath().map((p) => `/api/v1${p.startsWith('/') ? p : `/${p}`}`)), fc.constantFrom('GET', 'HEAD', 'OPTIONS', 'PATCH')).map(([path, method]): Shape => ({ kind: 'stray', method, path })),
);

const anyRequest: fc.Arbitrary<Req> = fc.oneof(
  { weight: 2, arbitrary: infoReq },
  // logins: the only way to v1 401 AuthenticationFailed and v2 400 NoUserError (IncorrectPasswordError: also
  // user_me), only within HASH_CAP (at weight 3, 5 in 7 known users, 4 in 6 right passwords: 7-21 NoUserErrors a run)
  { weight: 5, arbitrary: loginReq },
  { weight: 10, arbitrary: tokenReq },
  { weight: 7, arbitrary: userV1Req },
  { weight: 16, arbitrary: userV2Req },
  { weight: 6, arbitrary: vcReq },
  { weight: 10, arbitrary: submitV2Req },
  { weight: 10, arbitrary: submitV1Req },
  { weight: 16, arbitrary: jobV1Req },
  { weight: 16, arbitrary: jobV2Req },
  { weight: 2, arbitrary: unknownReq },
  { weight: 2, arbitrary: strayReq },
);

// ---- sending: placeholders, valves, no-op rewrites --------------------------------------------

const BROKEN = Symbol('broken');
interface Sent {
  req: Req;
  gen: Gen;
  path: string;
  /** The route it reaches (undefined: none). */
  route: { kind: Kind; params: Record<string, string> } | 'badUrl' | undefined;
  auth: Auth;
  headers: Record<string, string>;
  text?: string;
  /** What the body parsers make of it. */
  parse: 'none' | 'ok' | 'bad' | 'big' | 'media' | 'either';
  value: unknown;
  valid?: boolean;
  /** The VC a clean submission names (after the valve), and what it submits (placeholders filled). */
  vc?: string;
  submitted?: Record<string, unknown>;
  /** The revoke target's token value, if it is one the model knows. */
  target?: TokenM;
}

let newPasswords = 0;

/** The request as it goes out now: placeholders filled from the model, principals' values made no-ops, valves applied. */
function prepare(req: Req, m: Model, opts: { valve: boolean; noHash: boolean }): Sent {
  const auth = authOf(req.who, m);
  const me = typeof auth.as === 'object' ? auth.as : undefined;
  let path = req.path.replaceAll(enc(ME), enc(me?.user ?? whoUser(req.who) ?? 'alice'));
  if (path.includes(ROLE)) {
    let fw: ReturnType<typeof splitFw>;
    try {
      fw = splitFw(decodeURIComponent(path.split('/')[4] ?? ''));
    } catch {
      fw = undefined; // a segment the router refuses anyway
    }
    const job = fw === undefined ? undefined : activeJob(m, fw.user, fw.name);
    path = path.replace(ROLE, Object.keys(job?.roles ?? {})[0] ?? 'main');
  }
  let target: TokenM | undefined;
  if (req.kind === 'token_revoke') {
    const t = req.p.target!;
    const mine = (u: string | undefined) => m.tokens.filter((x) => x.user === u && !x.keep);
    let value: string;
    if (t === 'own' || t.startsWith('d:') || t === 's:0') {
      const pool = mine(req.p.tgtUser);
      target = pool.filter((x) => x.live).at(-1) ?? pool.at(-1);
      value = target?.value ?? 'jjt_nope';
    } else if (t.startsWith('main:')) {
      target = m.tokens.find((x) => x.value === m.fixed.get(t.split(':')[1]!));
      // a principal's own token: only ever asked by someone who may not revoke it
      if (me !== undefined && (me.role === 'admin' || me.user === target?.user)) target = undefined;
      value = target?.value ?? 'jjt_nope';
    } else if (t === 'dead') {
      target = m.tokens.find((x) => !x.live && !x.keep) ?? m.tokens.find((x) => !x.live);
      value = target?.value ?? 'jjt_nope';
    } else value = t.slice('garbage:'.length);
    const raw = target !== undefined && req.p.byId === true ? target.id : target !== undefined ? target.value : value;
    path = path.replace('{T}', target === undefined && t.startsWith('garbage:') ? raw : enc(raw));
  }
  if (req.kind === 'user_delete') {
    // never a principal by someone who could delete it
    const u = req.p.user;
    path = path.replace('{U}', u !== undefined && (PRINCIPALS as readonly string[]).includes(u) && me?.role === 'admin' && !me.app ? 'ghost0' : req.p.target!);
  }
  const headers: Record<string, string> = {};
  if (auth.header !== undefined) headers['authorization'] = auth.header;
  const sent: Sent = { req, gen: generationOf(MOUNT_PREFIXES[req.mount]! + path), path, route: matchRoute(req.method, routePath(req.mount, path)), auth, headers, parse: 'none', value: undefined, ...(target === undefined ? {} : { target }) };
  const b = req.body;
  if (b === undefined) return sent;
  if (b.t === 'raw') {
    if (b.ct !== undefined) headers['content-type'] = b.ct;
    if (b.enc !== undefined) headers['content-encoding'] = b.enc;
    sent.text = b.text;
    sent.parse = b.parse === 'value' ? 'ok' : b.parse;
    sent.value = b.parse === 'value' ? b.value : BROKEN;
    if (req.kind === 'submit_v2' || req.kind === 'submit_v1') sent.valid = false;
    return sent;
  }
  headers['content-type'] = b.ct;
  let v: unknown = structuredClone(b.v);
  const targetName = req.kind === 'user_me' ? me?.user : (v as { username?: unknown; data?: { username?: unknown } } | null)?.username ?? (v as { data?: { username?: unknown } } | null)?.data?.username ?? req.p.user;
  const pw = typeof targetName === 'string' ? (m.users.get(targetName)?.password ?? 'no-such-user-pw1') : 'no-such-user-pw1';
  const fresh = () => `fresh-password-${++newPasswords}-xx`;
  const vc = opts.valve ? VALVE_VC : (req.p.vc ?? 'default');
  const fill = (x: unknown): unknown => {
    if (x === '@PW@') return pw;
    if (x === '@NEWPW@') return fresh();
    if (x === '@VC@') return vc;
    if (typeof x === 'string') return x.replaceAll('%40VC%40', enc(vc)).replaceAll('@VC@', vc);
    if (Array.isArray(x)) return x.map(fill);
    if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, fill(y)]));
    return x;
  };
  v = fill(v);
  if (b.valid !== undefined) {
    sent.valid = b.valid;
    sent.vc = vc;
    sent.submitted = fill(structuredClone(req.p.config ?? b.v)) as Record<string, unknown>;
  }
  noOpForPrincipals(req.kind, v, me, m, req.p.user);
  if (opts.noHash) dropPasswords(v);
  sent.text = b.as === 'json' ? JSON.stringify(v) : b.as === 'yaml' ? yaml3.safeDump(v) : typeof v === 'string' ? v : qsStringify(v);
  sent.parse = Buffer.byteLength(sent.text) > (/^text\//i.test(b.ct) ? MAX_TEXT_BYTES : MAX_BODY_BYTES) ? 'big' : 'ok';
  if (sent.parse === 'big') return sent;
  sent.value = b.as === 'yaml' ? sent.text : b.as === 'form' ? stringify(v) : v;
  // a form written as text (a v1 config): what qs makes of a broken one is its business (400 either way)
  if (b.as === 'form' && typeof v === 'string' && b.valid !== true) {
    sent.parse = 'either';
    sent.value = BROKEN;
  }
  return sent;
}

/** A write to a principal by one who may make it: the principal's current role, password and grants instead (a no-op). */
function noOpForPrincipals(kind: Kind, v: unknown, me: Caller | undefined, m: Model, pathUser: string | undefined): void {
  if (v === null || typeof v !== 'object' || me === undefined) return;
  const o = v as Record<string, unknown>;
  const isPrincipal = (u: unknown): u is string => typeof u === 'string' && (PRINCIPALS as readonly string[]).includes(u);
  const boolish = (x: unknown) => x === true || x === false || x === 'true' || x === 'false';
  const current = (u: string) => m.users.get(u)!;
  const pin = (d: Record<string, unknown>, u: string, keys: { admin?: string; password?: string; vcs?: string }) => {
    if (keys.admin !== undefined && boolish(d[keys.admin])) d[keys.admin] = typeof d[keys.admin] === 'string' ? String(current(u).role === 'admin') : current(u).role === 'admin';
    if (keys.password !== undefined && typeof d[keys.password] === 'string') d[keys.password] = current(u).password;
    if (keys.vcs !== undefined && Array.isArray(d[keys.vcs])) d[keys.vcs] = [...current(u).vcs];
    if (keys.vcs !== undefined && typeof d[keys.vcs] === 'string') d[keys.vcs] = current(u).vcs.join(',');
  };
  if (kind === 'user_put_v1' && isPrincipal(o['username'])) pin(o, o['username'], { admin: 'admin', password: 'password' });
  if (kind === 'user_update' && o['data'] !== null && typeof o['data'] === 'object' && isPrincipal((o['data'] as Record<string, unknown>)['username'])) {
    const d = o['data'] as Record<string, unknown>;
    pin(d, d['username'] as string, { admin: 'admin', password: 'password', vcs: 'virtualCluster' });
  }
  if (kind === 'user_me' && isPrincipal(me.user) && o['data'] !== null && typeof o['data'] === 'object') pin(o['data'] as Record<string, unknown>, me.user, { password: 'newPassword' });
  if (kind === 'user_delete_v1' && isPrincipal(o['username']) && me.role === 'admin' && !me.app) o['username'] = 'ghost0';
  if (kind === 'user_vcs_v1' && isPrincipal(pathUser)) pin(o, pathUser, { vcs: 'virtualClusters' });
}

/** Past HASH_CAP: the same request without the fields that would be hashed or checked. */
function dropPasswords(v: unknown): void {
  if (v === null || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  delete o['password'];
  if (o['data'] !== null && typeof o['data'] === 'object') {
    delete (o['data'] as Record<string, unknown>)['password'];
    delete (o['data'] as Record<string, unknown>)['newPassword'];
  }
}

/** Whether a request may reach scrypt (a login, a new user, a password set or checked). */
function mayHash(s: Sent): boolean {
  if (s.auth.as === 'bad' && !CREDENTIALS_IGNORED.has(s.req.kind)) return false;
  const v = s.value as Record<string, unknown> | null;
  if (v === null || typeof v !== 'object') return false;
  const d = v['data'] as Record<string, unknown> | undefined;
  switch (s.req.kind) {
    case 'login_v1':
    case 'login_v2':
    case 'user_put_v1':
    case 'user_create':
      return typeof v['password'] === 'string' && v['password'] !== '';
    case 'user_update':
      return typeof d?.['password'] === 'string';
    case 'user_me':
      return typeof d?.['newPassword'] === 'string';
    default:
      return false;
  }
}

// ---- the oracle -------------------------------------------------------------------------------

const V1_ITEM = ['name', 'username', 'state', 'subState', 'executionType', 'retries', 'createdTime', 'completedTime', 'appExitCode', 'virtualCluster'];
const V1_APP = ['appId', 'appProgress', 'appTrackingUrl', 'appLaunchedTime', 'appCompletedTime', 'appExitCode', 'appExitDiagnostics'];
const V2_SUMMARY = [...V1_ITEM, 'submissionTime', 'launchedTime', 'tags', 'retryDetails', 'retryDelayTime', 'totalGpuNumber', 'totalTaskNumber', 'totalTaskRoleNumber', 'debugId'];
const V2_STATUS = ['username', 'state', 'subState', 'executionType', 'retries', 'retryDetails', 'submissionTime', 'createdTime', 'launchedTime', 'completedTime', 'attemptId', 'attemptState', 'appId', 'appCreatedTime', 'appLaunchedTime', 'appCompletedTime', 'appExitCode', 'appExitDiagnostics', 'appExitType', 'virtualCluster', 'debugId'];
const ATTEMPT = ['jobName', 'frameworkName', 'uid', 'userName', 'state', 'originState', 'attemptIndex', 'jobStartedTime', 'attemptStartedTime', 'attemptCompletedTime', 'exitCode', 'exitPhrase', 'exitType', 'exitDiagnostics', 'isLatest', 'taskRoles'];
const VC_V1 = ['capacity', 'maxCapacity', 'numActiveJobs', 'numJobs', 'numPendingJobs', 'resourcesUsed', 'usedCapacity'];
const VC_V2 = ['capacity', 'dedicated', 'maxCapacity', 'nodeList', 'numActiveJobs', 'numJobs', 'numPendingJobs', 'resourcesGuaranteed', 'resourcesTotal', 'resourcesUsed', 'status', 'usedCapacity'];
const USER_INFO = ['admin', 'email', 'extension', 'grouplist', 'storageConfig', 'username', 'virtualCluster'];
const V1_STATES = ['WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'STOPPED'];
const V2_STATES = [...V1_STATES, 'STOPPING'];

function hasKeys(o: unknown, keys: readonly string[], what: string): void {
  assert.ok(o !== null && typeof o === 'object', `${what}: not an object`);
  const missing = keys.filter((k) => !(k in (o as object)));
  assert.deepEqual(missing, [], `${what} lacks ${missing.join(', ')}`);
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- OpenPAI's wire
function taskRolesShape(tr: any, what: string): void {
  assert.ok(tr !== null && typeof tr === 'object' && !Array.isArray(tr), `${what}: taskRoles`);
  for (const [r, v] of Object.entries(tr as Record<string, { taskRoleStatus: { name: string }; taskStatuses: unknown[] }>)) {
    assert.equal(v.taskRoleStatus.name, r, what);
    for (const t of v.taskStatuses) {
      hasKeys(t, ['taskIndex', 'taskState', 'containerPorts', 'containerExitCode'], `${what} task of ${r}`);
      assert.ok((t as { containerPorts: unknown }).containerPorts !== null && typeof (t as { containerPorts: unknown }).containerPorts === 'object', `${what}: containerPorts is an object (the CLI's ssh reads it)`);
    }
  }
}

const userInfoOf = (name: string, u: UserM) => ({ username: name, grouplist: u.grouplist, email: u.email, extension: u.extension, admin: u.role === 'admin', virtualCluster: ['default', ...u.vcs.filter((v) => v !== 'default')], storageConfig: [] });
const visibleVcs = (c: Caller, m: Model) => (c.role === 'admin' ? VCS : ['default', ...(m.users.get(c.user)?.vcs ?? [])]);
const activeJob = (m: Model, owner: string, name: string) => m.jobs.find((j) => j.active && j.owner === owner && j.name === name);

/** The job a user-and-name lookup finds for `c` (jobIdentity.findJob). */
function findJob(m: Model, c: Caller, user: string, name: string): JobM | undefined {
  if (!USER_RE.test(user) || !JOB_RE.test(name)) return undefined;
  if (c.role !== 'admin' && c.user !== user) return undefined;
  return activeJob(m, user, name);
}
/**
 * The seed's name lookup: `user~job`, or the job of that name of `me` (the caller; on a public read
 * the token's user), or (admins, the public reader) the newest of any user.
 */
function findSeed(m: Model, c: Caller, jobName: string, me = c.user): { job?: JobM; user: string; name: string } {
  const split = jobName.includes('~') ? splitFw(jobName) : undefined;
  if (split !== undefined) return { ...split, job: findJob(m, c, split.user, split.name) };
  if (!JOB_RE.test(jobName)) return { user: me, name: jobName };
  const named = m.jobs.filter((j) => j.active && j.name === jobName).sort((a, b) => b.seq - a.seq);
  const job = named.find((j) => j.owner === me) ?? (c.role === 'admin' ? named[0] : undefined);
  return { user: me, name: jobName, ...(job === undefined ? {} : { job }) };
}

type Gate = Caller | Want;
const isWant = (g: Gate): g is Want => 'status' in g;
const tokenGate = (s: Sent): Gate => (s.auth.as === 'anon' ? GUEST(s.gen) : (s.auth.as as Caller));
const sessionGate = (s: Sent): Gate => {
  const c = tokenGate(s);
  return !isWant(c) && c.app ? APP(s.gen) : c;
};
const adminGate = (s: Sent): Gate => {
  const c = tokenGate(s);
  if (isWant(c)) return c;
  if (c.role !== 'admin') return NON_ADMIN(s.gen);
  return c.app ? APP(s.gen) : c;
};
const submitGate = (s: Sent): Gate => {
  const c = tokenGate(s);
  return !isWant(c) && c.role === 'viewer' ? FORBID(s.gen, 'viewers cannot submit or control jobs.') : c;
};
/** A v1 read: public while anonymous reads are on (they are here: loopback), with or without a token (docs/compat/openpai.md). */
const readerGate = (_s: Sent): Caller => SYSTEM;

/** A body as the routes read it: `{}` for none, 'no' for a value that is no object, BROKEN for one no route can use. */
function objectOf(v: unknown): Record<string, unknown> | 'no' | typeof BROKEN {
  if (v === BROKEN) return BROKEN;
  if (v === undefined || v === null) return {};
  return typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : 'no';
}
class Refused {
  constructor(readonly want: Want) {}
}
/** userRoutes.ts's `text`: a string (non-empty when required). */
function text(o: Record<string, unknown> | typeof BROKEN, key: string, required: boolean, fail: Want): string | undefined {
  if (o === BROKEN) throw new Refused(fail);
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || (required && v === '')) throw new Refused(fail);
  return v;
}
function flag(o: Record<string, unknown>, key: string, fail: Want): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new Refused(fail);
}
/** v2 grants: an array of names; `default` dropped; each must exist. */
function grantsOf(names: unknown, fail: Want, unknown: (vc: string) => Want): string[] {
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new Refused(fail);
  const out = [...new Set(names as string[])].filter((vc) => vc !== 'default');
  const missing = out.find((vc) => !VCS.includes(vc));
  if (missing !== undefined) throw new Refused(unknown(missing));
  return sorted(out);
}
const checkEmail = (v: unknown): string => {
  if (typeof v !== 'string' || v.length > 254 || (v !== '' && !EMAIL_RE.test(v))) throw new Refused(IPE());
  return v;
};
const checkExtension = (v: unknown): Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Refused(IPE());
  return v as Record<string, unknown>;
};
const checkSize = (p: { email: string; extension: unknown; grouplist: string[] }) => {
  if (Buffer.byteLength(JSON.stringify(p)) > MAX_PROFILE_BYTES) throw new Refused(IPE());
};
const policyOk = (pw: string) => pw.length >= 12 && pw.length <= 256;
const roleFor = (admin: boolean, current?: Role): Role => (admin ? 'admin' : current === 'viewer' ? 'viewer' : 'operator');

/** What the test does after a write the model follows. */
interface Effects {
  createUser(name: string, u: UserM): Promise<void>;
  setPassword(name: string, pw: string): Promise<void>;
  deleteUser(name: string): void;
  newToken(value: string, user: string, app: boolean): void;
  kill(value: string): void;
  created(job: JobM): void;
}

/** Every acceptable answer to a request, from the model (the handlers' order of checks, plan §1.4 and §2). */
function expectations(s: Sent, m: Model, fx: Effects): Want[] {
  const { req, gen } = s;
  const route = s.route;
  if (req.kind === 'stray') return [];
  // a parameter the router cannot decode, or too long: its 400, before anything else (with a method no route takes there, the 404 route may answer instead)
  const badUrl = route === 'badUrl' || s.path.split('?', 1)[0]!.split('/').some((seg) => {
    try {
      return decodeURIComponent(seg).length > MAX_PARAM;
    } catch {
      return true;
    }
  });
  if (badUrl && route !== undefined) return BAD_URL;
  if (badUrl) return [...BAD_URL, ...expectations({ ...s, path: '/' }, m, fx)];
  // a path no route takes is the facade's 404 route: the token is checked, the body read, first
  if (route !== undefined) assert.equal(route.kind, req.kind, `${req.method} ${s.path} reaches ${route.kind}, generated as ${req.kind}`);
  if (s.auth.as === 'bad' && (route === undefined || !CREDENTIALS_IGNORED.has(req.kind))) return [BAD_TOKEN(gen)];
  const notFound = W(404, 'NoApiError', /^API .* is not found\.$/s);
  if (BODY_METHODS.has(req.method) && s.text !== undefined) {
    const refused = { bad: IPE(), big: W(413, 'InvalidParametersError'), media: W(415, 'InvalidParametersError'), either: IPE() }[s.parse as 'bad'];
    // the 404 route reads a body it can parse (a body without a type it leaves alone)
    if (route === undefined && refused !== undefined) return [notFound, refused];
    if (refused !== undefined && s.parse !== 'either') return [refused];
  }
  if (route === undefined) return [notFound];
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : s.value;
  try {
    const out = handler(s, m, fx, body === undefined && s.parse === 'either' ? BROKEN : body);
    return s.parse === 'either' ? [IPE(), ...out] : out;
  } catch (e) {
    if (e instanceof Refused) return s.parse === 'either' ? [IPE(), e.want] : [e.want];
    throw e;
  }
}

function handler(s: Sent, m: Model, fx: Effects, body: unknown): Want[] {
  const { req, gen } = s;
  const p = s.route !== undefined && s.route !== 'badUrl' ? s.route.params : {};
  const gate = (g: Gate): Caller => {
    if (isWant(g)) throw new Refused(g);
    return g;
  };
  const obj = (fail = IPE('The body must be a JSON object or a form.')) => {
    const o = objectOf(body);
    if (o === 'no') throw new Refused(fail);
    return o;
  };
  switch (req.kind) {
    case 'info_v1':
      return [W(200, undefined, undefined, { check: (j) => assert.deepEqual(j, { name: 'PAI RESTful API', version: `v${VERSION}` }) })];
    case 'info_v2':
      return [W(200, undefined, undefined, { check: (j) => assert.deepEqual(j, { name: 'PAI RESTful API', version: `v${VERSION}`, launcherType: 'k8s', authnMethod: 'basic' }) })];
    case 'authn_info':
      return [W(200, undefined, undefined, { check: (j) => assert.deepEqual(j, { authn_type: 'basic', loginURI: '/api/v2/authn/basic/login', loginURIMethod: 'post' }) })];

    case 'login_v1':
    case 'login_v2': {
      const o = obj();
      const username = text(o, 'username', true, IPE('username is required.'))!;
      const pw = text(o, 'password', true, IPE('password is required.'))!;
      const exp = (o as Record<string, unknown>)['expiration'];
      if (exp !== undefined && exp !== '') {
        const secs = typeof exp === 'number' ? exp : typeof exp === 'string' && /^\d{1,12}$/.test(exp.trim()) ? Number(exp) : NaN;
        if (!Number.isSafeInteger(secs) || secs < 1) return [IPE('expiration must be a positive whole number of seconds.')];
      }
      const u = m.users.get(username);
      const ok = u !== undefined && u.password === pw;
      const issued = (j: { token: string }) => fx.newToken(j.token, username, false);
      if (req.kind === 'login_v1') {
        return ok ? [W(200, undefined, undefined, { check: (j) => assert.deepEqual([Object.keys(j).sort(), j.user], [['token', 'user'], username]), effect: issued })] : [W(401, 'AuthenticationFailed', 'authentication failed')];
      }
      if (u === undefined) return [W(400, 'NoUserError', `User ${cut(username)} is not found.`)];
      if (!ok) return [W(400, 'IncorrectPasswordError', 'Password is incorrect.')];
      return [W(200, undefined, undefined, { check: (j) => assert.deepEqual([Object.keys(j).sort(), j.user, j.admin], [['admin', 'token', 'user'], username, u.role === 'admin']), effect: issued })];
    }
    case 'logout': {
      gate(tokenGate(s));
      return [W(200, undefined, 'Logout successfully', { effect: () => (s.auth.token === undefined ? undefined : fx.kill(s.auth.token)) })];
    }
    case 'tokens_list': {
      const c = gate(sessionGate(s));
      const ids = sorted(m.tokens.filter((t) => t.user === c.user && t.live).map((t) => t.id));
      return [W(200, undefined, undefined, { check: (j) => assert.deepEqual(sorted(j.tokens), ids, `the live tokens of ${c.user}`) })];
    }
    case 'token_app': {
      const c = gate(sessionGate(s));
      return [W(200, undefined, undefined, { check: (j) => assert.deepEqual([Object.keys(j).sort(), j.application], [['application', 'token'], true]), effect: (j) => fx.newToken(j.token, c.user, true) })];
    }
    case 'token_revoke': {
      const c = gate(sessionGate(s));
      const t = s.target;
      if (t === undefined || !t.live || !m.users.has(t.user)) return [IPE('The token is unknown, expired or revoked.')];
      // the engine's FORBIDDEN: v1 shows its text without the table's `not authorized: ` (pinned by openpaiIdentity.test.ts; reported)
      if (t.user !== c.user && c.role !== 'admin') return [gen === 'v1' ? W(403, 'NotAuthorized', 'not authorized: You may revoke only your own tokens.') : FORBID(gen, 'You may revoke only your own tokens.')];
      assert.ok(!t.keep, `the fuzz would revoke ${t.user}'s own token`);
      return [W(200, undefined, 'revoke successfully', { effect: () => fx.kill(t.value) })];
    }

    case 'user_put_v1': {
      const c = gate(sessionGate(s));
      const o = obj();
      const uf = W(400, 'UpdateFailed', /^update failed: /);
      const name = text(o, 'username', true, uf)!;
      if (!USER_RE.test(name)) return [uf];
      const admin = flag(o as Record<string, unknown>, 'admin', uf);
      if (flag(o as Record<string, unknown>, 'modify', uf) !== true) {
        if (c.role !== 'admin') return [NON_ADMIN(gen)];
        const pw = text(o, 'password', true, uf)!;
        if (name.toLowerCase() === 'system' || !policyOk(pw)) return [uf];
        if (m.users.has(name)) return [W(400, 'UpdateFailed', `update failed: user ${cut(name)} exists`)];
        return [W(200, undefined, 'update successfully', { effect: () => fx.createUser(name, { role: roleFor(admin === true), password: pw, vcs: [], email: '', extension: {}, grouplist: [] }) })];
      }
      const pw = text(o, 'password', false, uf);
      if (pw === undefined && admin === undefined) return [W(400, 'UpdateFailed', 'update failed: give a password or admin to change.')];
      if (admin !== undefined && c.role !== 'admin') return [NON_ADMIN(gen)];
      if (pw !== undefined && c.user !== name && c.role !== 'admin') return [FORBID(gen, "only an admin may set another user's password.")];
      const u = m.users.get(name);
      if (u === undefined) return [W(400, 'UpdateFailed', `update failed: could not find user ${cut(name)}`)];
      if (pw !== undefined && pw !== u.password && !policyOk(pw)) return [uf];
      return [W(200, undefined, 'update successfully', {
        effect: async () => {
          if (pw !== undefined) await fx.setPassword(name, pw);
          if (admin !== undefined) u.role = roleFor(admin, u.role);
        },
      })];
    }
    case 'user_delete_v1': {
      const c = gate(sessionGate(s));
      if (c.role !== 'admin') return [W(401, 'NotAuthorized', 'not authorized')];
      const o = obj();
      const name = text(o, 'username', true, W(400, 'RemoveFailed', /^remove failed: /))!;
      if (!m.users.has(name)) return [W(404, 'RemoveFailed', `remove failed: could not find user ${cut(name)}`)];
      return [W(200, undefined, 'remove successfully', { effect: () => fx.deleteUser(name) })];
    }
    case 'user_vcs_v1': {
      gate(adminGate(s));
      const o = obj();
      if (o === BROKEN) return [W(400, 'UpdateVcFailed')];
      const raw = o['virtualClusters'];
      // required, as in the seed ("" removes every grant): a body without it changes nothing
      if (raw === undefined || raw === null) return [W(400, 'UpdateVcFailed', /^update user virtual cluster failed: virtualClusters is required/)];
      const list = typeof raw === 'string' ? raw.split(',').map((x) => x.trim()).filter((x) => x !== '') : raw;
      const vcs = grantsOf(list, W(400, 'UpdateVcFailed'), (vc) => W(400, 'UpdateVcFailed', `update user virtual cluster failed: could not find virtual cluster ${cut(vc)}`));
      const name = p['username']!;
      const u = m.users.get(name);
      if (u === undefined || !USER_RE.test(name)) return [W(404, 'UpdateVcFailed', `update user virtual cluster failed: could not find user ${cut(name)}`)];
      return [W(201, undefined, 'update user virtual clusters successfully', { effect: () => void (u.vcs = vcs) })];
    }

    case 'users_list': {
      gate(adminGate(s));
      return [W(200, undefined, undefined, {
        check: (j) => {
          assert.ok(Array.isArray(j));
          for (const u of j) hasKeys(u, USER_INFO, 'UserInfo');
          const names = j.map((u: { username: string }) => u.username);
          assert.deepEqual(names, [...names].sort((a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)), 'users by name');
          for (const pr of PRINCIPALS) assert.equal(j.find((u: { username: string }) => u.username === pr)?.admin, pr === 'admin', pr);
        },
      })];
    }
    case 'user_create': {
      gate(adminGate(s));
      const o = obj();
      const name = text(o, 'username', true, IPE('username must be a non-empty string.'))!;
      const r = o as Record<string, unknown>;
      const pw = text(r, 'password', true, IPE())!;
      const admin = flag(r, 'admin', IPE()) === true;
      const vcs = r['virtualCluster'] === undefined ? [] : grantsOf(r['virtualCluster'], IPE(), (vc) => NO_VC('v2', vc));
      const emailV = r['email'] === undefined ? '' : checkEmail(r['email']);
      const ext = r['extension'] === undefined ? {} : checkExtension(r['extension']);
      checkSize({ email: emailV, extension: ext, grouplist: [] });
      if (!USER_RE.test(name) || name.toLowerCase() === 'system' || !policyOk(pw)) return [IPE()];
      if (m.users.has(name)) return [W(409, 'ConflictUserError', `User name ${cut(name)} already exists.`)];
      return [W(201, undefined, 'User is created successfully', { effect: () => fx.createUser(name, { role: roleFor(admin), password: pw, vcs, email: emailV, extension: ext, grouplist: [] }) })];
    }
    case 'user_update': {
      gate(adminGate(s));
      const o = obj();
      if (o === BROKEN) return [IPE()];
      const data = o['data'];
      if (data === null || typeof data !== 'object' || Array.isArray(data)) return [IPE('data must be an object.')];
      const d = data as Record<string, unknown>;
      const name = text(d, 'username', true, IPE())!;
      const u = m.users.get(name);
      if (u === undefined || !USER_RE.test(name)) return [NO_USER(name)];
      const patch = flag(o, 'patch', IPE()) === true;
      if (!patch) {
        const missing = ['email', 'virtualCluster', 'admin', 'password', 'extension'].filter((k) => d[k] === undefined);
        if (missing.length > 0) return [IPE(`With patch false, data needs ${missing.join(', ')}.`)];
      }
      const admin = flag(d, 'admin', IPE());
      const vcs = d['virtualCluster'] === undefined ? undefined : grantsOf(d['virtualCluster'], IPE(), (vc) => NO_VC('v2', vc));
      const pw = text(d, 'password', false, IPE());
      const emailV = d['email'] === undefined ? undefined : checkEmail(d['email']);
      const ext = d['extension'] === undefined ? undefined : checkExtension(d['extension']);
      checkSize({ email: emailV ?? u.email, extension: ext ?? u.extension, grouplist: u.grouplist });
      if (pw !== undefined && pw !== u.password && !policyOk(pw)) return [IPE()];
      return [W(201, undefined, `update user ${name} successfully.`, {
        effect: async () => {
          if (pw !== undefined) await fx.setPassword(name, pw);
          if (admin !== undefined) u.role = roleFor(admin, u.role);
          if (vcs !== undefined) u.vcs = vcs;
          if (emailV !== undefined) u.email = emailV;
          if (ext !== undefined) u.extension = ext;
        },
      })];
    }
    case 'user_me': {
      const c = gate(sessionGate(s));
      const o = obj();
      if (o === BROKEN) return [IPE()];
      const data = o['data'];
      if (data === null || typeof data !== 'object' || Array.isArray(data)) return [IPE('data must be an object.')];
      const d = data as Record<string, unknown>;
      const name = text(d, 'username', true, IPE())!;
      if (name !== c.user) return [FORBID('v2', `You may update only your own profile (${cut(c.user)}).`)];
      const u = m.users.get(name)!;
      const patch = flag(o, 'patch', IPE()) === true;
      const emailV = d['email'] === undefined ? (patch ? undefined : '') : checkEmail(d['email']);
      const ext = d['extension'] === undefined ? (patch ? undefined : {}) : checkExtension(d['extension']);
      const np = text(d, 'newPassword', false, IPE());
      checkSize({ email: emailV ?? u.email, extension: ext ?? u.extension, grouplist: u.grouplist });
      if (np !== undefined) {
        const old = text(d, 'oldPassword', false, IPE());
        if (old === undefined) return [IPE('oldPassword is required to set newPassword.')];
        if (old !== u.password) return [W(400, 'IncorrectPasswordError', 'Password is incorrect.')];
        if (np !== old && !policyOk(np)) return [IPE()];
      }
      return [W(201, undefined, `update user ${name} successfully.`, {
        effect: async () => {
          if (np !== undefined) await fx.setPassword(name, np);
          if (emailV !== undefined) u.email = emailV;
          if (ext !== undefined) u.extension = ext;
        },
      })];
    }
    case 'user_get': {
      const c = gate(sessionGate(s));
      const name = p['username']!;
      if (c.user !== name && c.role !== 'admin') return [NON_ADMIN(gen)];
      const u = m.users.get(name);
      if (u === undefined || !USER_RE.test(name)) return [NO_USER(name)];
      return [W(200, undefined, undefined, { check: (j) => assert.deepEqual(j, userInfoOf(name, u)) })];
    }
    case 'user_delete': {
      gate(adminGate(s));
      const name = p['username']!;
      if (!m.users.has(name) || !USER_RE.test(name)) return [NO_USER(name)];
      assert.ok(!(PRINCIPALS as readonly string[]).includes(name), `the fuzz would delete ${name}`);
      return [W(200, undefined, 'user is removed successfully', { effect: () => fx.deleteUser(name) })];
    }
    case 'group_add':
    case 'group_del':
    case 'grouplist': {
      gate(adminGate(s));
      const name = p['username']!;
      const u = m.users.get(name);
      if (u === undefined || !USER_RE.test(name)) return [NO_USER(name)];
      const o = obj();
      if (o === BROKEN) return [IPE()];
      if (req.kind === 'grouplist') {
        const l = o['grouplist'];
        if (!Array.isArray(l) || l.length > 256 || l.some((g) => typeof g !== 'string' || !GROUP_RE.test(g))) return [IPE()];
        const next = [...new Set(l as string[])];
        return [W(201, undefined, 'update user grouplist successfully.', { effect: () => void (u.grouplist = next) })];
      }
      const g = o['groupname'];
      if (typeof g !== 'string' || !GROUP_RE.test(g)) return [IPE()];
      return req.kind === 'group_add'
        ? [W(201, undefined, `User ${name} is added into group ${g}`, { effect: () => void (u.grouplist = u.grouplist.includes(g) ? u.grouplist : [...u.grouplist, g]) })]
        : [W(201, undefined, `User ${name} is removed from group ${g}`, { effect: () => void (u.grouplist = u.grouplist.filter((x) => x !== g)) })];
    }

    case 'vcs_v1':
    case 'vcs_v2': {
      const c = req.kind === 'vcs_v1' ? readerGate(s) : gate(tokenGate(s));
      const want = sorted(visibleVcs(c, m));
      return [W(200, undefined, undefined, { check: (j) => {
        assert.deepEqual(sorted(Object.keys(j)), want);
        for (const v of Object.values(j)) hasKeys(v, req.kind === 'vcs_v1' ? VC_V1 : VC_V2, 'VC');
      } })];
    }
    case 'vc_v1':
    case 'vc_v2':
    case 'vc_sku': {
      const c = req.kind === 'vc_v1' ? readerGate(s) : gate(tokenGate(s));
      const vc = p['vc']!;
      if (!visibleVcs(c, m).includes(vc)) return [NO_VC(gen, vc)];
      return [W(200, undefined, undefined, { check: (j) => (req.kind === 'vc_sku' ? assert.deepEqual(j, {}) : hasKeys(j, req.kind === 'vc_v1' ? VC_V1 : VC_V2, 'VC')) })];
    }

    case 'jobs_v1':
    case 'ujobs': {
      const c = readerGate(s);
      let username: string | undefined;
      let empty: boolean;
      if (req.kind === 'jobs_v1') {
        const q = req.p.username;
        if (Array.isArray(q)) return [IPE('username must be a single user name')];
        username = q === '' ? undefined : q;
        empty = c.role !== 'admin' && username !== undefined && username !== c.user;
        if (c.role !== 'admin') username ??= c.user;
      } else {
        username = p['user']!;
        empty = c.role !== 'admin' && c.user !== username;
      }
      const check = (j: unknown) => {
        assert.ok(Array.isArray(j));
        if (empty) assert.deepEqual(j, []);
        for (const it of j as { username: string; state: string }[]) {
          hasKeys(it, V1_ITEM, 'v1 list item');
          assert.ok(V1_STATES.includes(it.state), it.state);
          if (username !== undefined) assert.equal(it.username, username);
        }
      };
      // an owner filter the engine cannot take
      return username !== undefined && !USER_RE.test(username) && !empty ? [W(200, undefined, undefined, { check }), IPE()] : [W(200, undefined, undefined, { check })];
    }
    case 'submit_v1':
    case 'usubmit':
    case 'seed_put':
    case 'submit_v2': {
      const c = gate(submitGate(s));
      if (req.kind === 'usubmit' && c.role !== 'admin' && c.user !== p['user']) return [FORBID('v1', `you cannot act on the jobs of ${p['user']}.`)];
      return submission(s, m, fx, c, body);
    }
    case 'seed_get':
    case 'seed_config':
    case 'seed_ssh':
    case 'seed_delete':
    case 'seed_exec':
    case 'uget':
    case 'udelete':
    case 'uexec':
    case 'ussh':
    case 'uconfig': {
      const writes = ['seed_delete', 'seed_exec', 'udelete', 'uexec'].includes(req.kind);
      const c = writes ? gate(submitGate(s)) : readerGate(s);
      if (req.kind === 'seed_exec' || req.kind === 'uexec') executionValue(body, W(400, 'JobExecuteError', /^job execute error: /));
      const seed = req.kind.startsWith('seed_');
      const me = writes || typeof s.auth.as !== 'object' ? c.user : s.auth.as.user;
      const found = seed ? findSeed(m, c, p['job']!, me) : { user: p['user']!, name: p['job']!, job: findJob(m, c, p['user']!, p['job']!) };
      const job = found.job;
      if (job === undefined) return [NO_JOB('v1', found.user, found.name)];
      switch (req.kind) {
        case 'seed_get':
          return [W(200, undefined, undefined, { check: (j) => {
            hasKeys(j, ['name', 'state', 'createdTime', 'completedTime', ...V1_APP, 'virtualCluster'], 'v1 detail');
            assert.deepEqual([j.name, j.virtualCluster], [job.name, job.vc]);
          } })];
        case 'uget':
          return [W(200, undefined, undefined, { check: (j) => {
            hasKeys(j.jobStatus, [...V1_ITEM, ...V1_APP, 'appExitType'], 'v1 user detail');
            assert.deepEqual([j.jobStatus.name, j.jobStatus.username, j.jobStatus.virtualCluster], [job.name, job.owner, job.vc]);
            taskRolesShape(j.taskRoles, 'v1 user detail');
          } })];
        case 'seed_config':
        case 'uconfig':
          if (job.gen === 'native') return [W(404, 'JobNotFound', `could not find the config of job ${job.name}`)];
          return [W(200, undefined, undefined, { check: (j) => configIsSubmitted(job, j, 'v1') })];
        case 'seed_ssh':
        case 'ussh':
          return [W(200, undefined, undefined, { check: (j) => assert.deepEqual(j, { containers: [], keyPair: null }) })];
        case 'seed_delete':
        case 'udelete':
          return [W(200, undefined, `deleted job ${job.name} successfully`, { effect: () => void (job.active = false) })];
        default:
          return [W(200, undefined, `execute job ${job.name} successfully`)];
      }
    }

    case 'jobs_v2': {
      const c = gate(tokenGate(s));
      const { q, qUsernames, qStates, qVcs, qLimit, qTotal } = req.p;
      const check = (j: unknown) => {
        const total = !Array.isArray(j);
        if (q === 'ok') assert.equal(total, qTotal === true, 'withTotalCount');
        const items = (total ? (j as { data: unknown[]; totalCount: number }).data : j) as { username: string; state: string; virtualCluster: string }[];
        if (total) assert.equal(typeof (j as { totalCount: unknown }).totalCount, 'number');
        if (c.role !== 'admin' && qUsernames !== null && qUsernames !== undefined && !qUsernames.includes(c.user)) assert.deepEqual(items, []);
        if (qLimit !== undefined && q === 'ok') assert.ok(items.length <= qLimit, 'limit');
        for (const it of items) {
          hasKeys(it, V2_SUMMARY, 'JobSummary');
          if (q === 'ok' && qVcs !== null && qVcs !== undefined) assert.ok(qVcs.includes(it.virtualCluster), 'vc filter');
          assert.ok(V2_STATES.includes(it.state), it.state);
          if (c.role !== 'admin') assert.equal(it.username, c.user, 'a non-admin lists only its own jobs');
          if (q === 'ok' && qStates !== null && qStates !== undefined) assert.ok(qStates.includes(it.state), `state filter ${qStates.join()}: ${it.state}`);
          if (q === 'ok' && qUsernames !== null && qUsernames !== undefined) assert.ok(qUsernames.includes(it.username), 'username filter');
        }
      };
      return q === 'bad' ? [IPE()] : q === 'either' ? [W(200, undefined, undefined, { check }), IPE()] : [W(200, undefined, undefined, { check })];
    }
    case 'get_v2':
    case 'attempt_v2':
    case 'config_v2':
    case 'exec_v2':
    case 'tag_add':
    case 'tag_del':
    case 'events':
    case 'healthz':
    case 'task_v2':
    case 'task_logs':
    case 'task_log':
    case 'attempts':
    case 'attempt_i': {
      const writes = ['exec_v2', 'tag_add', 'tag_del'].includes(req.kind);
      const c = writes ? gate(submitGate(s)) : gate(tokenGate(s));
      // the health of job history, not of a job: the token only
      if (req.kind === 'healthz') return [W(200, undefined, 'ok')];
      if (req.kind === 'exec_v2') executionValue(body, IPE(/^executionType: /));
      const fw = p['fw']!;
      const split = splitFw(fw);
      if (split === undefined) {
        const at = fw.indexOf('~');
        const [u, n] = at < 0 ? ['', fw.slice(0, 128)] : [fw.slice(0, at).slice(0, 128), fw.slice(at + 1).slice(0, 128)];
        return [NO_JOB('v2', u, n)];
      }
      const job = findJob(m, c, split.user, split.name);
      if (job === undefined) return [NO_JOB('v2', split.user, split.name)];
      const detail = (j: { name: string; tags: string[]; jobStatus: { username: string }; taskRoles: unknown }) => {
        hasKeys(j, ['name', 'tags', 'jobStatus', 'taskRoles'], 'JobDetail');
        hasKeys(j.jobStatus, V2_STATUS, 'JobDetail.jobStatus');
        assert.deepEqual([j.name, j.jobStatus.username, j.tags, (j.jobStatus as { virtualCluster?: string }).virtualCluster], [job.name, job.owner, job.tags, job.vc]);
        taskRolesShape(j.taskRoles, 'JobDetail');
      };
      const attempt = (j: { frameworkName: string }) => {
        hasKeys(j, ATTEMPT, 'JobAttempt');
        assert.equal(j.frameworkName, `${job.owner}~${job.name}`);
      };
      switch (req.kind) {
        case 'get_v2':
          return [W(200, undefined, undefined, { check: detail })];
        case 'attempt_v2':
          return p['n'] === '0' ? [W(200, undefined, undefined, { check: detail })] : [NO_JOB('v2', job.owner, job.name)];
        case 'config_v2':
          if (job.gen === 'native') return [W(404, 'NoJobConfigError', `Config of job ${job.owner}~${job.name} is not found.`)];
          return [W(200, undefined, undefined, { check: (_j, a) => {
            assert.match(String(a.headers['content-type']), /yaml/);
            assert.ok(!a.body.includes(SECRET), 'a secret in /config');
            configIsSubmitted(job, yaml3.safeLoad(a.body), 'v2');
          } })];
        case 'exec_v2':
          return [W(202, undefined, `Execute job ${job.name} successfully.`, { check: (j) => assert.equal(j.status, 202) })];
        case 'tag_add':
        case 'tag_del': {
          const o = objectOf(body);
          const tag = o === 'no' || o === BROKEN ? undefined : o['value'];
          if (typeof tag !== 'string' || !TAG_RE.test(tag)) return [IPE(/^tag: /)];
          if (req.kind === 'tag_add') {
            if (!job.tags.includes(tag) && job.tags.length >= MAX_TAGS) return [IPE()];
            return [W(200, undefined, `Add tag ${tag} for job ${job.name} successfully.`, { effect: () => void (job.tags.includes(tag) || job.tags.push(tag)) })];
          }
          if (!job.tags.includes(tag)) return [W(404, 'NoTagError', `Tag ${tag} is not found for job ${job.name} .`)];
          return [W(200, undefined, `Delete tag ${tag} from job ${job.name} successfully.`, { effect: () => void job.tags.splice(job.tags.indexOf(tag), 1) })];
        }
        case 'events':
          return [W(200, undefined, undefined, { check: (j) => assert.deepEqual(j, { totalCount: 0, data: [] }) })];
        case 'task_logs':
        case 'task_log': {
          const role = p['role']!;
          const index = p['i']!;
          const notFound = W(404, 'NoTaskLogError', `Log of task ${role.slice(0, 128)}[${index.slice(0, 16)}] of job ${job.owner}~${job.name} attempt ${p['n']!.slice(0, 16)} is not found.`);
          const count = Object.hasOwn(job.roles, role) ? job.roles[role]! : 0;
          if (p['n'] !== '0' || !/^\d+$/.test(index) || String(Number(index)) !== index || Number(index) >= count) return [notFound];
          // the instance shows once the job is planned (it may still be WAITING)
          if (req.kind === 'task_logs') {
            return [W(200, undefined, undefined, { check: (j) => {
              assert.deepEqual(j.locations.map((l: { name: string }) => l.name), ['stdout', 'stderr', 'all']);
              for (const l of j.locations as { name: string; uri: string }[]) assert.ok(l.uri.endsWith(`/logs/${l.name}`), l.uri);
            } }), notFound];
          }
          if (!['stdout', 'stderr', 'all'].includes(p['stream']!) || !/^\d{1,9}$/.test(p['ta']!)) return [IPE(/^logs: /), notFound];
          return [W(200, undefined, undefined, { check: (_j, a) => {
            assert.match(String(a.headers['content-type']), /^text\/plain/);
            assert.ok(!a.body.includes(SECRET), 'a secret in the logs');
          } }), notFound];
        }
        case 'task_v2': {
          if (p['n'] !== '0') return [NO_JOB('v2', job.owner, job.name)];
          const role = p['role']!;
          const index = p['i']!;
          const notFound = W(404, 'NoJobError', `Task not found in Job ${job.owner}~${job.name} with jobAttemptIndex 0, taskRoleName ${role.slice(0, 128)} and taskIndex ${index.slice(0, 16)}.`);
          const count = Object.hasOwn(job.roles, role) ? job.roles[role]! : 0;
          if (!/^\d+$/.test(index) || String(Number(index)) !== index || Number(index) >= count) return [notFound];
          // the instance shows once the job is planned (it may still be WAITING)
          return [W(200, undefined, undefined, { check: (j) => {
            hasKeys(j, ['taskIndex', 'taskUid', 'taskState', 'taskRoleName', 'attempts'], 'TaskStatus');
            assert.deepEqual([j.taskRoleName, j.taskIndex, j.username, j.jobName], [role, Number(index), job.owner, job.name]);
          } }), notFound];
        }
        case 'attempts':
          return [W(200, undefined, undefined, { check: (j) => {
            assert.equal(j.length, 1);
            attempt(j[0]);
          } })];
        default:
          return p['n'] === '0' ? [W(200, undefined, undefined, { check: attempt })] : [NO_JOB('v2', job.owner, job.name)];
      }
    }
    case 'unknown':
      return [W(404, 'NoApiError')];
    default:
      throw new Error(`no oracle for ${req.kind}`);
  }
}

/**
 * `/config` shows what was submitted: a v2 job its protocol with `secrets` masked (on a v1 path as
 * an object); a v1 job its config with Joi's defaults on a v1 path, and the protocol it converts to
 * on the v2 path.
 */
function configIsSubmitted(job: JobM, shown: unknown, path: Gen): void {
  assert.ok(!JSON.stringify(shown).includes(SECRET), 'a secret in /config');
  const sub = job.submitted;
  if (job.gen === 'v2') {
    assert.deepEqual(shown, 'secrets' in sub ? { ...sub, secrets: '******' } : sub, 'the protocol as submitted');
    return;
  }
  const roles = (sub['taskRoles'] as { name: string; taskNumber: number | string; command: string }[]).map((r) => [r.name, Number(r.taskNumber), r.command]);
  const o = shown as Record<string, unknown>;
  if (path === 'v1') {
    assert.deepEqual([o['jobName'], o['image'], o['virtualCluster'], o['retryCount']], [job.name, sub['image'], job.vc, 0], 'the v1 config');
    assert.deepEqual((o['taskRoles'] as { name: string; taskNumber: number; command: string }[]).map((r) => [r.name, r.taskNumber, r.command]), roles);
  } else {
    assert.deepEqual([o['name'], (o['defaults'] as { virtualCluster?: string }).virtualCluster], [job.name, job.vc], 'the v1 config as a protocol');
    assert.deepEqual(Object.entries(o['taskRoles'] as Record<string, { instances: number; commands: string[] }>).map(([n, r]) => [n, r.instances, r.commands[0]]), roles);
  }
}

/** `{value: START|STOP}` in any case; the route's refusal otherwise. */
function executionValue(body: unknown, fail: Want): void {
  const o = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['value'] : undefined;
  if (body === BROKEN || typeof o !== 'string' || !['START', 'STOP'].includes(o.toUpperCase())) throw new Refused(fail);
}

/** A submission: refused when broken; else duplicate, unknown or forbidden VC, or created (plan §3.1, §4). */
function submission(s: Sent, m: Model, fx: Effects, c: Caller, body: unknown): Want[] {
  const v1 = s.req.kind !== 'submit_v2';
  // a protocol sent as JSON over the text body's limit: too large either way
  if (!v1 && Buffer.byteLength(s.text ?? '') > MAX_TEXT_BYTES) return [W(413, 'InvalidParametersError'), W(400, 'InvalidProtocolError')];
  if (s.valid !== true || body === BROKEN) return [v1 ? W(400, 'JobUpdateError', /^job update error: /) : W(400, 'InvalidProtocolError')];
  const name = s.req.p.job!;
  const vc = s.vc!;
  if (activeJob(m, c.user, name) !== undefined) return [v1 ? W(400, 'JobUpdateError', `job update error: job ${name} exists`) : W(409, 'ConflictJobError', `Job ${c.user}~${name} already exists.`)];
  if (!VCS.includes(vc)) return [v1 ? W(400, 'JobUpdateError', /^job update error: /) : W(400, 'NoVirtualClusterError')];
  if (c.role !== 'admin' && vc !== 'default' && !(m.users.get(c.user)?.vcs ?? []).includes(vc)) return [v1 ? W(403, 'JobUpdateError', /^job update error: /) : W(403, 'ForbiddenUserError')];
  const created = () => fx.created({ owner: c.user, name, active: true, seq: ++m.seq, gen: v1 ? 'v1' : 'v2', vc, tags: [], roles: s.req.p.roles ?? {}, submitted: s.submitted ?? {} });
  return [v1 ? W(201, undefined, `update job ${name} successfully`, { effect: created }) : W(202, undefined, `Update job ${name} for user ${c.user} successfully.`, { effect: created, check: (j) => assert.equal(j.status, 202) })];
}

// ---- the suite --------------------------------------------------------------------------------

interface NativeJob { id: string; owner: string; state: string; active: boolean; labels: Record<string, string>; type: string; virtualCluster: string }
/** Every exec job the admin sees (native API). */
const nativeJobs = (svc: TestService) => allNativeJobs<NativeJob>(svc, 'active=all&type=exec');

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);
/** An exec job made through the native API: neither listed nor found by an OpenPAI name. */
const NATIVE_JOB = 'native-one';
/** One made through the native API with the OpenPAI name label (alice's `labelled`): found, listed, without a config. */
const LABELLED_JOB = 'labelled';

describe('route fuzz over the OpenPAI facade (real engine, real processes, real HTTP, its own port and /compat/openpai/, with and without /rest-server)', () => {
  const env = useTestService({ adminPassword: ADMIN_PASSWORD, loginRateLimitPerMinute: 1_000_000, loginRateLimitPerAddressPerMinute: 1_000_000 });

  it(`${RUNS} generated requests: no 5xx, each generation's error shape and names, the model's statuses, nothing written on refusal`, { timeout: 120_000 }, async (t) => {
    const svc = env.svc;
    const identity = svc.engine.identity;
    const own = new URL(svc.facadeUrls['openpai rest server']!);
    const api = new URL(svc.baseUrl);
    const mounts = MOUNT_PREFIXES.map((prefix, i) => ({ url: i < 2 ? own : api, prefix }));
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    try {
      const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
      /** A request of the test's own on the facade's port, as the admin. */
      const pai = async (method: string, path: string, body?: string, type = 'application/json', token = TEST_ADMIN_TOKEN, at = mounts[0]!) => {
        const a = await sendRaw(agent, at.url, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) }, ...(body === undefined ? {} : { body }) }, at.prefix + path, HUNG_MS);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- OpenPAI's wire
        return { ...a, json: (/json/.test(String(a.headers['content-type'])) ? JSON.parse(a.body) : undefined) as any };
      };

      // the principals, two more VCs, and the tokens they act with (issued without a password: no hash)
      for (const [name, capacity] of [['vc1', 20], ['vc2', 10]] as const) assert.equal((await http(svc.baseUrl, 'POST', '/native/v1/virtual-clusters', { name, capacity, maxCapacity: 50 })).status, 201);
      const m: Model = { users: new Map(), tokens: [], fixed: new Map(), current: new Map(), jobs: [], seq: 0 };
      m.users.set('admin', { role: 'admin', password: ADMIN_PASSWORD, vcs: [], email: '', extension: {}, grouplist: [] });
      for (const [name, role] of [['alice', 'operator'], ['bob', 'operator'], ['vera', 'viewer']] as const) {
        const r = await http(svc.baseUrl, 'POST', '/native/v1/users', { name, password: PASSWORD, role, virtualClusters: GRANTS[name] });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        m.users.set(name, { role, password: PASSWORD, vcs: [...GRANTS[name]!], email: '', extension: {}, grouplist: [] });
      }
      const issue = async (user: string, as: string, opts: { application?: boolean; ttlMs?: number } = {}) => {
        const { token } = await identity.issueToken(user, opts);
        m.tokens.push({ value: token, id: tokenId(token), user, app: opts.application === true, keep: true, live: true });
        m.fixed.set(as, token);
        return token;
      };
      for (const u of ['alice', 'bob', 'vera']) await issue(u, u);
      await issue('alice', 'aliceApp', { application: true });
      await issue('admin', 'adminApp', { application: true });
      const expired = await issue('alice', 'expired', { ttlMs: 1 });
      await waitFor(async () => {
        try {
          identity.authenticate(`Bearer ${expired}`);
          return false;
        } catch {
          return true;
        }
      }, { what: 'a 1 ms token expired', timeoutMs: 2000, intervalMs: 5 });
      m.tokens.find((x) => x.value === expired)!.live = false;
      const revoked = await issue('bob', 'revoked');
      await identity.revokeToken({ user: 'admin', role: 'admin', virtualClusters: [] }, revoked);
      m.tokens.find((x) => x.value === revoked)!.live = false;
      // an exec job made through the native API: no OpenPAI name, so neither listed nor found
      const native = await http<{ id: string }>(svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'exec', name: NATIVE_JOB, spec: { taskRoles: [{ name: 'main', taskNumber: 1, commands: ['true'] }] } }, { authorization: `Bearer ${m.fixed.get('alice')}` });
      assert.equal(native.status, 201, JSON.stringify(native.body));
      // and one with the OpenPAI name label: found and listed, with no config
      const labelled = await http<{ id: string }>(svc.baseUrl, 'POST', '/native/v1/jobs', { type: 'exec', name: LABELLED_JOB, labels: { 'openpai/name': LABELLED_JOB }, spec: { taskRoles: [{ name: 'main', taskNumber: 1, commands: ['true'] }] } }, { authorization: `Bearer ${m.fixed.get('alice')}` });
      assert.equal(labelled.status, 201, JSON.stringify(labelled.body));
      m.jobs.push({ owner: 'alice', name: LABELLED_JOB, active: true, seq: ++m.seq, gen: 'native', vc: 'default', tags: [], roles: { main: 1 }, submitted: {} });

      let started = 0;
      let reserved = 0;
      let hashes = 0;
      let valvedJobs = 0;
      let valvedHashes = 0;
      let checkpoints = 0;
      const seen = new Map<string, number>();
      const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);

      const fx: Effects = {
        async createUser(name, u) {
          m.users.set(name, u);
          // the test's own token for the new user (no password, no hash): what its requests act with
          const { token } = await identity.issueToken(name);
          m.tokens.push({ value: token, id: tokenId(token), user: name, app: false, keep: false, live: true });
          m.current.set(name, token);
        },
        async setPassword(name, pw) {
          const u = m.users.get(name)!;
          if (pw === u.password) return;
          u.password = pw;
          for (const x of m.tokens) if (x.user === name) x.live = false;
          if (!(PRINCIPALS as readonly string[]).includes(name)) {
            const { token } = await identity.issueToken(name);
            m.tokens.push({ value: token, id: tokenId(token), user: name, app: false, keep: false, live: true });
            m.current.set(name, token);
          }
        },
        deleteUser(name) {
          m.users.delete(name);
          for (const x of m.tokens) if (x.user === name) x.live = false;
        },
        newToken(value, user, app) {
          m.tokens.push({ value, id: tokenId(value), user, app, keep: false, live: true });
          if ((SCRATCH as readonly string[]).includes(user) && !app) m.current.set(user, value);
        },
        kill(value) {
          const x = m.tokens.find((y) => y.value === value);
          if (x !== undefined) x.live = false;
        },
        created(job) {
          m.jobs.push(job);
          started++;
        },
      };

      const describeReq = (s: Sent, sent: string) => `${s.req.method} ${sent.slice(0, 300)} as ${s.req.who} [${s.req.kind}${s.req.p.target === undefined ? '' : ` ${s.req.p.target}${s.target === undefined ? '' : ` of ${s.target.user}${s.target.keep ? ' (kept)' : ''}${s.target.live ? '' : ' (dead)'}`}`}] ${s.text === undefined ? '' : `${s.headers['content-type'] ?? '(no type)'} ${JSON.stringify(s.text.slice(0, 300))}`} (seed ${SEED})`;

      const one = async (req: Req) => {
        let s = prepare(req, m, { valve: false, noHash: false });
        let wants = expectations(s, m, fx);
        let mayStart = false;
        let valve = false;
        if (wants.some((w) => w.status === 201 || w.status === 202) && (req.kind === 'submit_v1' || req.kind === 'submit_v2' || req.kind === 'usubmit' || req.kind === 'seed_put')) {
          if (started + reserved >= START_CAP) {
            s = prepare(req, m, { valve: true, noHash: false });
            wants = expectations(s, m, fx);
            valvedJobs++;
            valve = true;
          } else {
            mayStart = true;
            reserved++;
          }
        }
        if (mayHash(s)) {
          if (hashes >= HASH_CAP) {
            s = prepare(req, m, { valve, noHash: true });
            wants = expectations(s, m, fx);
            valvedHashes++;
          } else hashes++;
        }
        const at = mounts[req.mount]!;
        const sent = at.prefix + s.path + req.query;
        try {
          let a: RawAnswer;
          try {
            a = await sendRaw(agent, at.url, { method: req.method, headers: s.headers, ...(s.text === undefined ? {} : { body: s.text }) }, sent, HUNG_MS);
          } catch (err) {
            assert.fail(`${describeReq(s, sent)}: ${(err as Error).message}`);
          }
          if (TRACE) console.log(`${describeReq(s, sent)} → ${a.status} ${a.body.slice(0, 300)}`);
          count(`${req.kind} ${a.status}`);
          await check(s, sent, a, wants);
        } finally {
          if (mayStart) reserved--;
        }
      };

      /** The answer against the universal rules and the model's wants; applies the matching want's effect. */
      const check = async (s: Sent, sent: string, a: RawAnswer, wants: Want[]) => {
        const where = () => `${describeReq(s, sent)} → ${a.status} ${a.body.slice(0, 400)}`;
        assert.ok(a.status < 500, `a 5xx: ${where()}`);
        // Node's HTTP parser refuses a raw byte above 0x7e in the request line before any route
        // (its own port: the facade's rawErrorShape {code: UnknownError}; the API port: the native shape, which knows no facade)
        if (a.status === 400 && [...sent].some((c) => c.charCodeAt(0) > 0x7e) && a.body.includes('"The request is not well-formed HTTP."')) {
          count('tolerated: refused by the HTTP parser');
          return;
        }
        if (s.req.method === 'HEAD') {
          if (wants.length > 0) assert.ok(wants.some((w) => w.status === a.status), `HEAD: ${where()}; want ${wants.map((w) => w.status).join('|')}`);
          return;
        }
        // the two answers that are no JSON: a v2 /config (YAML) and a log (text)
      const yamlOk = (s.req.kind === 'config_v2' || s.req.kind === 'task_log') && a.status === 200;
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- OpenPAI's wire
        let json: any;
        if (!yamlOk) {
          assert.match(String(a.headers['content-type']), /^application\/json/, `not JSON: ${where()}`);
          try {
            json = JSON.parse(a.body);
          } catch {
            assert.fail(`a body that is no JSON: ${where()}`);
          }
        }
        const gen = s.gen;
        let name: string | undefined;
        if (a.status >= 400) {
          assert.ok(json !== null && typeof json === 'object', `an error body that is no object: ${where()}`);
          name = gen === 'v1' ? json.error : json.code;
          assert.equal(typeof name, 'string', `${gen} error without ${gen === 'v1' ? 'error' : 'code'}: ${where()}`);
          assert.equal(typeof json.message, 'string', `error without a message: ${where()}`);
          assert.ok((gen === 'v1' ? V1_NAMES : V2_NAMES).has(name!), `${name} is not in the ${gen} table: ${where()}`);
          // the SDK builds its PAIBaseError from data.code/data.message: never an empty body
          count(`${gen} ${a.status} ${name}`);
        }
        if (s.req.kind === 'stray') {
          if (s.route === undefined) assert.ok(a.status === 404 ? name === 'NoApiError' : a.status === 401 ? s.auth.as === 'bad' : a.status === 400 && name === 'InvalidParametersError', `a path no route takes: ${where()}`);
          return;
        }
        const message: unknown = json?.message;
        const says = (w: Want) => w.message === undefined || yamlOk || (typeof w.message === 'string' ? message === w.message : w.message.test(String(message)));
        const hit = wants.find((w) => w.status === a.status && (w.name === undefined || w.name === name) && says(w));
        assert.ok(hit !== undefined, `${where()}\n  wanted ${wants.map((w) => `${w.status} ${w.name ?? ''} ${w.message ?? ''}`).join(' | ')}`);
        try {
          hit.check?.(json, a);
        } catch (e) {
          assert.fail(`${where()}\n  ${(e as Error).message}`);
        }
        await hit.effect?.(json);
      };

      /** Everything written is the model's: jobs and users (native API), profiles and tags (facade, as the admin), token ids (identity). */
      const checkpoint = async () => {
        checkpoints++;
        const jobs = (await nativeJobs(svc)).filter((j) => j.labels['openpai/name'] !== undefined);
        const key = (o: string, n: string, a: boolean) => `${o}~${n}:${a ? 'active' : 'deleted'}`;
        assert.deepEqual(jobs.map((j) => key(j.owner, j.labels['openpai/name']!, j.active)).sort(), m.jobs.map((j) => key(j.owner, j.name, j.active)).sort(), `the OpenPAI jobs are not those the accepted submissions and deletes left (seed ${SEED})`);
        assert.ok(jobs.every((j) => j.virtualCluster !== VALVE_VC));
        const users = await http<{ users: { name: string; role: string; virtualClusters: string[] }[] }>(svc.baseUrl, 'GET', '/native/v1/users');
        assert.deepEqual(
          users.body.users.map((u) => ({ name: u.name, role: u.role, vcs: sorted(u.virtualClusters) })).sort((a, b) => (a.name < b.name ? -1 : 1)),
          [...m.users].map(([name, u]) => ({ name, role: u.role, vcs: sorted(u.vcs) })).sort((a, b) => (a.name < b.name ? -1 : 1)),
          `the users are not those the accepted writes left (seed ${SEED})`,
        );
        const infos = await pai('GET', '/api/v2/users');
        assert.equal(infos.status, 200, infos.body);
        assert.deepEqual(infos.json, [...m.users].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, u]) => userInfoOf(name, u)), `the profiles are not the model's (seed ${SEED})`);
        for (const [name] of m.users) {
          assert.deepEqual(sorted(identity.listTokens(name).map((x) => x.id)), sorted(m.tokens.filter((x) => x.user === name && x.live).map((x) => x.id)), `the tokens of ${name} (seed ${SEED})`);
        }
        // the listings: every active job with its VC, instances and tags (not the native one: it has no OpenPAI name); a non-admin its own
        const active = m.jobs.filter((j) => j.active);
        const summary = (j: JobM) => `${j.owner}~${j.name} ${j.vc} ${Object.keys(j.roles).length}/${Object.values(j.roles).reduce((a, b) => a + b, 0)} [${j.tags.join(',')}]`;
        const list = await pai('GET', '/api/v2/jobs?limit=50000');
        assert.equal(list.status, 200, list.body);
        type Item = { username: string; name: string; tags: string[]; virtualCluster: string; totalTaskRoleNumber: number; totalTaskNumber: number };
        const listed = (list.json as Item[]).map((j) => `${j.username}~${j.name} ${j.virtualCluster} ${j.totalTaskRoleNumber}/${j.totalTaskNumber} [${j.tags.join(',')}]`);
        assert.deepEqual(listed.sort(), active.map(summary).sort(), `the v2 list is not the model's jobs (seed ${SEED})`);
        const names = (items: { username: string; name: string }[]) => items.map((j) => `${j.username}~${j.name}`).sort();
        const v1 = await pai('GET', '/api/v1/jobs');
        assert.deepEqual(names(v1.json), active.map((j) => `${j.owner}~${j.name}`).sort(), `the v1 list (public) is not the model's jobs (seed ${SEED})`);
        const mine = await pai('GET', '/api/v2/jobs', undefined, undefined, m.fixed.get('alice'));
        assert.deepEqual(names(mine.json), active.filter((j) => j.owner === 'alice').map((j) => `${j.owner}~${j.name}`).sort(), `alice's v2 list (seed ${SEED})`);
      };

      t.diagnostic(`seed ${SEED} (replay with FUZZ_SEED=${SEED}); ${RUNS} requests, ${CONCURRENCY} at a time`);
      const t0 = performance.now();
      let batches = 0;
      try {
        const details = await fc.check(
          fc.asyncProperty(fc.array(anyRequest, { minLength: CONCURRENCY, maxLength: CONCURRENCY }), async (batch) => {
            await Promise.all(groupByKeys(batch).map(async (grp) => {
              for (const r of grp) await one(r);
            }));
            if (++batches % CHECK_EVERY === 0) await checkpoint();
          }),
          // the server's state moves on with every request: shrinking would replay against another one
          { numRuns: Math.ceil(RUNS / CONCURRENCY), seed: SEED, endOnFailure: true },
        );
        if (details.failed) throw details.errorInstance ?? new Error(`failed at batch ${details.numRuns} (seed ${SEED})`);
        await checkpoint();
      } finally {
        const byStatus = new Map<string, number>();
        for (const [k, n] of seen) {
          const [kind, st] = k.split(' ') as [string, string];
          if (kind !== 'v1' && kind !== 'v2' && /^\d+$/.test(st)) byStatus.set(st, (byStatus.get(st) ?? 0) + n);
        }
        t.diagnostic(`${Math.round(performance.now() - t0)} ms for ${batches * CONCURRENCY} requests; statuses ${JSON.stringify(Object.fromEntries(byStatus))}; jobs written ${started} (cap ${START_CAP}), submissions valved ${valvedJobs}; password hashes ${hashes} (cap ${HASH_CAP}), valved ${valvedHashes}; checkpoints ${checkpoints}`);
        if (TRACE || process.env['FUZZ_OUTCOMES'] !== undefined) t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
      }

      // the generators reach both sides of every route, or the property proves little
      const n = (prefix: string) => [...seen].reduce((sum, [k, c]) => sum + (k.startsWith(prefix) ? c : 0), 0);
      const scale = RUNS / 10_000;
      for (const kind of new Set(ROUTES.map((r) => r[0]))) assert.ok(n(`${kind} `) > 10 * scale, `${kind} hardly reached (${n(`${kind} `)})`);
      const mustSee = [
        'v1 400 JobUpdateError', 'v1 400 JobExecuteError', 'v1 400 UpdateFailed', 'v1 401 AuthenticationFailed', 'v1 401 NotAuthorized', 'v1 403 NotAuthorized', 'v1 404 JobNotFound', 'v1 404 VirtualClusterNotFound', 'v1 415 InvalidParametersError',
        'v2 400 InvalidProtocolError', 'v2 400 NoVirtualClusterError', 'v2 400 IncorrectPasswordError', 'v2 400 NoUserError', 'v2 401 UnauthorizedUserError', 'v2 403 ForbiddenUserError', 'v2 404 NoJobError', 'v2 404 NoApiError', 'v2 404 NoTagError',
        'v2 409 ConflictJobError', 'v2 409 ConflictUserError', 'v2 413 InvalidParametersError',
      ];
      for (const k of mustSee) assert.ok(n(k) > 0, `never saw ${k}`);
      assert.ok(started >= Math.min(START_CAP, 20 * scale), `too few jobs written (${started})`);

      // every job ends (they are instant), or is stopped through the facade
      const t1 = performance.now();
      let stopped = 0;
      await waitFor(async () => {
        const open = (await nativeJobs(svc)).filter((j) => !TERMINAL.has(j.state));
        for (const j of open) {
          if (performance.now() - t1 < 10_000 || j.labels['openpai/name'] === undefined) continue;
          const r = await pai('PUT', `/api/v2/jobs/${j.owner}~${j.labels['openpai/name']}/executionType`, JSON.stringify({ value: 'STOP' }));
          assert.ok(r.status === 202 || r.status === 404, r.body);
          stopped++;
        }
        return open.length === 0;
      }, { what: 'every job ended', timeoutMs: 60_000, intervalMs: 250 });

      // still standing: a fresh two-role job on both listeners
      for (const [i, at] of [mounts[1]!, mounts[2]!].entries()) {
        const name = `final-${i}`;
        const proto = protocolOf(name, ['ps', 'worker'], 2, 'true', 2, false);
        (proto['defaults'] as Record<string, unknown>)['virtualCluster'] = 'default';
        (proto['taskRoles'] as Record<string, { instances: number }>)['ps']!.instances = 1;
        const r = await pai('POST', '/api/v2/jobs', yaml3.safeDump(proto), 'text/yaml', m.fixed.get('alice'), at);
        assert.equal(r.status, 202, r.body);
        const done = await waitFor(async () => {
          const d = await pai('GET', `/api/v2/jobs/alice~${name}`, undefined, undefined, m.fixed.get('alice'), at);
          return TERMINAL.has(d.json?.jobStatus?.state) ? d.json : undefined;
        }, { what: `${name} finished`, timeoutMs: 60_000, intervalMs: 100 });
        assert.equal(done.jobStatus.state, 'SUCCEEDED', JSON.stringify(done.jobStatus));
        assert.deepEqual(Object.keys(done.taskRoles), ['ps', 'worker']);
      }
      t.diagnostic(`stopped at the end: ${stopped}; tolerated (HTTP parser): ${seen.get('tolerated: refused by the HTTP parser') ?? 0}`);
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeKeys, 'Object.prototype was polluted');
    } finally {
      // keep-alive sockets would hold the server open after a failure
      agent.destroy();
    }
  });
});
