/**
 * The oracle of the Spark Jobserver facade's route fuzz (test/integration/compat/sparkFuzz.test.ts):
 * a model of what exists (binaries, contexts, the job holding context `full1`'s one slot, the jobs
 * written), what Spark answers a request given the model (clients.md §3: statuses, `status` and
 * `result` where the original's are known), and the checks every answer passes: no 5xx but the
 * documented ones, every error JSON `{status, result}` with a string `status`, every success in the
 * original's shape.
 */
import assert from 'node:assert/strict';
import { headBytes, wirePath, type RawAnswer } from './routeFuzz.ts';
import { ARCHIVE_TYPES, BINARY_NAME_RE, FULL, HOLD, JOB_STATUSES, SPARK_TYPES, type Generated, type Intent } from './sparkFuzzRequests.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const NOT_FOUND_RESULT = 'The requested resource could not be found.';

/** What exists, as the answers so far say. */
export interface Model {
  /** name → Spark's binary-type and upload-time. */
  binaries: Map<string, { type: string; time: string }>;
  contexts: Set<string>;
  /** Whether the job holding `full1`'s one slot (and binary `hold`) is surely unfinished; 'unknown' after anything that may have stopped it. */
  holdAlive: true | 'unknown';
  /** The job holding it now; every hold job started. */
  holdId: string;
  holdIds: Set<string>;
  /** Jobs an accepted start answered (202, sync 200, the 500 of a sync timeout). */
  jobs: Set<string>;
  /** Binaries an accepted start named (one of its jobs may still be running). */
  ran: Set<string>;
  /**
   * Jobs a sync start wrote without naming them: it ran and was refused by its validate (400
   * VALIDATION FAILED, exactly these many), or found no such class in its binary (404 `classPath …
   * not found`, at least `min`: a chaos start's 404 may also be the refusal of a malformed class
   * before anything started, so at most `max`).
   */
  unnamed: { validation: number; classMin: number; classMax: number };
  /** Ids the generated job references pick from. */
  known: string[];
  nativeId: string;
}

/** What the original answers a request: one of `status`, and when given its `status` field and `result`. */
export interface Expectation {
  status: readonly number[];
  sparkStatus?: string;
  result?: string | RegExp;
}

const ok = (status: number | readonly number[], sparkStatus?: string, result?: string | RegExp): Expectation => ({
  status: typeof status === 'number' ? [status] : status,
  ...(sparkStatus === undefined ? {} : { sparkStatus }),
  ...(result === undefined ? {} : { result }),
});

/** A request with its job reference resolved, as its batch runs it. */
export interface Resolved {
  g: Generated;
  path: string;
  /** The job id a reference resolved to (undefined: no job or not predictable). */
  jobId: string | undefined;
  /** Resources it reads or writes: requests sharing one run in order. `*`: alone, after the rest of its batch. */
  keys: string[];
}

export const isRunnable = (m: Model, bin: string) => m.binaries.get(bin)?.type === 'JavaScript';

/** Longest path parameter the router takes (find-my-way's maxParamLength): the server's 400 before any route. */
export const MAX_PARAM_LENGTH = 100;

/** What Spark answers, as far as the model says. */
export function expectation(r: Resolved, m: Model, bin: string | undefined): Expectation | undefined {
  const i = r.g.intent;
  const param = 'name' in i ? i.name : r.jobId;
  if (param !== undefined && param.length > MAX_PARAM_LENGTH) return ok(400, 'ERROR', 'A path parameter is too long.');
  // an empty Content-Type with a body: Fastify refuses the media type before any parser (ours reads every type)
  if (r.g.headers['content-type'] === '' && r.g.body !== undefined && ['jobStart', 'contextCreate', 'upload'].includes(i.kind) && !('name' in i && i.name === undefined)) return ok(415, 'ERROR');
  switch (i.kind) {
    case 'any':
      return undefined;
    case 'notFound':
      return ok(404, 'ERROR', NOT_FOUND_RESULT);
    case 'healthz':
      return ok(200);
    case 'binaryList':
    case 'contextList':
      return ok(200);
    case 'binaryGet':
      if (i.name === undefined) return undefined;
      return m.binaries.has(i.name) ? ok(200) : ok(404, 'ERROR', `Can't find binary with name ${i.name}`);
    case 'upload': {
      if (i.chaos || i.name === undefined) return undefined;
      if (!BINARY_NAME_RE.test(i.name)) return ok(400, 'ERROR');
      const base = i.type?.split(';')[0]!.trim().toLowerCase();
      if (base === undefined || SPARK_TYPES[base] === undefined) return ok(415, 'ERROR', `Unsupported binary type ${i.type === undefined || i.type === '' ? 'application/octet-stream' : i.type}`);
      if (i.content === 'empty') return ok(400, 'ERROR', 'Binary is not of the right format');
      if (ARCHIVE_TYPES.includes(base) && !['zip', 'oversize', 'max'].includes(i.content)) return ok(400, 'ERROR', 'Binary is not of the right format');
      if (i.content === 'oversize') return ok(413, 'ERROR');
      return ok(201, 'SUCCESS');
    }
    case 'binaryDelete':
      if (i.name === undefined) return undefined;
      if (!m.binaries.has(i.name)) return ok(404, 'ERROR', `can't find binary with name ${i.name}`);
      if (i.name === HOLD && m.holdAlive === true) return ok(403, 'ERROR');
      // a job started on it may not have finished
      return m.ran.has(i.name) ? ok([200, 403]) : ok(200, 'SUCCESS');
    case 'contextGet':
      if (i.name === undefined) return undefined;
      return m.contexts.has(i.name) ? ok(200) : ok(404, 'ERROR', `can't find context with name ${i.name}`);
    case 'contextCreate': {
      if (i.name === undefined || i.flaw === 'chaos') return undefined;
      if (i.flaw === 'badStart') return ok(400, 'ERROR', 'context name must start with letters');
      if (i.flaw === 'odd') return ok(400, 'ERROR', /^context names are 1-128 of/);
      if (i.flaw === 'config') return ok(400, 'ERROR', /^Cannot parse config: /);
      if (i.flaw === 'slots' || i.flaw === 'memory') return ok(400, 'ERROR');
      return m.contexts.has(i.name) ? ok(400, 'ERROR', `context ${i.name} exists`) : ok(200, 'SUCCESS', 'Context initialized');
    }
    case 'contextDelete':
      if (i.name === undefined) return undefined;
      if (i.badForce) return ok(400, 'ERROR', /^The query parameter 'force' was malformed/);
      return m.contexts.has(i.name) ? ok(200, 'SUCCESS', 'Context stopped') : ok(404, 'ERROR', `context ${i.name} not found`);
    case 'reset':
      return i.ok ? ok(200, 'SUCCESS', i.async ? 'Context reset requested' : 'Context reset') : ok(400, 'ERROR');
    case 'jobList':
      return i.ok ? ok(200) : ok(400, 'ERROR', /^The query parameter '(limit|status)' /);
    case 'jobRead':
    case 'jobKill': {
      const known = 'known' in i.ref || 'hold' in i.ref;
      if (!known) {
        if ('unknown' in i.ref && i.ref.unknown === undefined) return undefined;
        const id = 'native' in i.ref ? m.nativeId : (i.ref as { unknown: string }).unknown;
        return ok(404, 'ERROR', `No such job ID ${id.slice(0, 100)}`);
      }
      if (i.kind === 'jobRead') return ok(200);
      if (r.jobId === m.holdId && m.holdAlive === true) return ok(200, 'KILLED');
      return ok([200, 404]);
    }
    case 'jobStart':
      return startExpectation(i, m, bin);
  }
}

function startExpectation(i: Extract<Intent, { kind: 'jobStart' }>, m: Model, bin: string | undefined): Expectation | undefined {
  switch (i.flaw) {
    case 'chaos':
      return undefined;
    case 'sync':
    case 'timeout':
    case 'dup':
    case 'proxy':
    case 'callback':
      return ok(400, 'ERROR');
    case 'config':
      return ok(400, 'ERROR', /^Cannot parse config: /);
    case 'noEntry':
      return ok(400, 'ERROR', 'Cannot parse config: To start the job appName or cp parameters should be configured!');
    case 'noClass':
      return ok(400, 'ERROR', 'Cannot parse config: classPath parameter is missing!');
    case 'noMain':
      return ok(400, 'ERROR', 'Cannot parse config: mainClass parameter is missing!');
    case 'badBin':
      return ok(400, 'JOB LOADING FAILED');
    case 'badClass':
      return ok(404, 'ERROR', /^classPath .* not found$/s);
    case 'override':
      // akka turns it into DELETE /jobs, which no route takes: nothing may start
      return ok([404, 405]);
    case 'none': {
      if (!m.binaries.has(bin!)) return ok(404, 'ERROR', `appName ${bin} not found`);
      if (!isRunnable(m, bin!)) return ok(400, 'JOB LOADING FAILED');
      if (i.context !== undefined && !m.contexts.has(i.context)) return ok(404, 'ERROR', `context ${i.context} not found`);
      if (i.context === FULL && m.holdAlive === true) return ok(503, 'NO SLOTS AVAILABLE', `Too many running jobs (1) for job context '${FULL}'`);
      const busy = i.context !== undefined ? [503] : [];
      // sync: the result, its validate's refusal (400), no such class in the binary (404), or the timeout (500)
      return i.sync ? ok([200, 400, 404, 500, ...busy]) : ok([202, ...busy]);
    }
  }
}

// ---- sending and checking ----------------------------------------------------------------------------

export type Answer = RawAnswer;

export const describeRequest = (g: Generated, path: string, body: string | Buffer | undefined) =>
  `${g.method} ${g.mount}${path.slice(0, 300)} [${JSON.stringify(g.headers).slice(0, 200)}] body=${body === undefined ? '(none)' : JSON.stringify(body.toString().slice(0, 300))}`;

/** Transport refusals before any route (Node's parser); undefined when the request reached the server's routing. */
function transport(g: Generated, path: string, a: Answer, where: string): string | undefined {
  if (a.status === 431) {
    assert.ok(headBytes(g, path) > 15_000, `431 for a ${headBytes(g, path)}-byte head: ${where}`);
    return 'transport 431';
  }
  if (a.status === 400 && /[^\u0021-\u007e]/.test(wirePath(path, g.method))) {
    assert.match(a.body, /not well-formed HTTP/, where);
    return 'transport 400';
  }
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function jsonOf(a: Answer, where: string): unknown {
  assert.match(String(a.headers['content-type']), /^application\/json/, `not JSON: ${where}`);
  try {
    return JSON.parse(a.body);
  } catch {
    assert.fail(`a body that does not parse: ${where}`);
  }
}

function assertJobReport(b: unknown, where: string): Record<string, unknown> {
  assert.ok(isObject(b), `not a job report: ${where}`);
  for (const k of ['duration', 'classPath', 'startTime', 'context', 'contextId', 'status', 'jobId']) assert.equal(typeof b[k], 'string', `job report without a string ${k}: ${where}`);
  assert.match(String(b['jobId']), UUID_RE, where);
  assert.match(String(b['contextId']), UUID_RE, where);
  assert.match(String(b['startTime']), TIME_RE, where);
  assert.ok(JOB_STATUSES.includes(String(b['status'])), `status ${String(b['status'])}: ${where}`);
  return b;
}

/** The answer against the general rules, the route's success shape and the expectation; returns the outcome to count. */
export function check(r: Resolved, a: Answer, exp: Expectation | undefined, sent: string, body: string | Buffer | undefined, byMessage = false): string {
  const { g } = r;
  const where = `${describeRequest(g, sent, body)} → ${a.status} ${a.body.slice(0, 400)}`;
  const early = transport(g, sent, a, where);
  if (early !== undefined) return early;
  if (g.method === 'HEAD') {
    assert.ok(a.status < 500 || (g.route === 'healthz' && a.status === 500), `HTTP ${a.status}: ${where}`);
    if (exp !== undefined && g.intent.kind !== 'notFound') assert.ok(exp.status.includes(a.status), `expected ${exp.status.join('|')}: ${where}`);
    return `HEAD ${a.status}`;
  }
  const b = jsonOf(a, where);
  if (a.status >= 300) {
    assert.ok(isObject(b), `an error that is not an object: ${where}`);
    assert.deepEqual(Object.keys(b).sort(), ['result', 'status'], `an error that is not {status, result}: ${where}`);
    assert.equal(typeof b['status'], 'string', `an error without a string status: ${where}`);
    if (a.status >= 500) {
      const result = b['result'];
      const askTimeout = g.route === 'job_start' && a.status === 500 && b['status'] === 'ERROR' && isObject(result) && result['errorClass'] === 'akka.pattern.AskTimeoutException';
      const noSlots = g.route === 'job_start' && a.status === 503 && b['status'] === 'NO SLOTS AVAILABLE';
      const notReady = g.route === 'healthz' && a.status === 500 && result === 'Required actors not alive';
      assert.ok(askTimeout || noSlots || notReady, `HTTP ${a.status} for a client's request: ${where}`);
      if (askTimeout) assert.ok(g.intent.kind === 'jobStart' && (g.intent.sync || g.intent.flaw === 'chaos'), `an ask timeout of an async start: ${where}`);
    }
  } else successShape(r, a, b, where);
  if (exp !== undefined) {
    assert.ok(exp.status.includes(a.status), `expected ${exp.status.join('|')}: ${where}`);
    const o = b as Record<string, unknown>;
    if (exp.sparkStatus !== undefined) assert.equal(o['status'], exp.sparkStatus, where);
    if (exp.result !== undefined) {
      if (typeof exp.result === 'string') assert.equal(o['result'], exp.result, where);
      else assert.match(String(o['result']), exp.result, where);
    }
  }
  const spark = isObject(b) && typeof b['status'] === 'string' && a.status >= 300 ? ` ${b['status']}` : '';
  return `${a.status}${spark}${byMessage && isObject(b) && a.status >= 300 ? ` ${JSON.stringify(b['result']).slice(0, 60)}` : ''}`;
}

function successShape(r: Resolved, a: Answer, b: unknown, where: string): void {
  const i = r.g.intent;
  switch (i.kind) {
    case 'binaryList':
      assert.ok(isObject(b), where);
      for (const v of Object.values(b)) assert.ok(isObject(v) && typeof v['binary-type'] === 'string' && TIME_RE.test(String(v['upload-time'])), where);
      return;
    case 'binaryGet':
      assert.ok(isObject(b), where);
      assert.deepEqual(Object.keys(b).sort(), ['app-name', 'binary-type', 'upload-time'], where);
      if (i.name !== undefined) assert.equal(b['app-name'], i.name, where);
      return;
    case 'contextList':
      assert.ok(Array.isArray(b) && b.every((x) => typeof x === 'string'), where);
      return;
    case 'contextGet':
      assert.ok(isObject(b), where);
      assert.deepEqual(Object.keys(b).sort(), ['endTime', 'id', 'name', 'startTime', 'state'], where);
      return;
    case 'upload':
    case 'binaryDelete':
    case 'healthz':
    case 'contextCreate':
    case 'contextDelete':
    case 'reset':
      assert.ok(isObject(b) && b['status'] === 'SUCCESS', `not {status: SUCCESS}: ${where}`);
      return;
    case 'jobList':
      assert.ok(Array.isArray(b), where);
      assert.ok(b.length <= i.limit, `more than limit=${i.limit}: ${where}`);
      for (const j of b) {
        assertJobReport(j, where);
        if (i.status !== undefined) assert.equal((j as Record<string, unknown>)['status'], i.status, where);
      }
      if (i.status !== undefined && !JOB_STATUSES.includes(i.status)) assert.equal(b.length, 0, where);
      return;
    case 'jobRead':
      if (i.config) assert.ok(isObject(b), `config not an object: ${where}`);
      else {
        const rep = assertJobReport(b, where);
        if (r.jobId !== undefined) assert.equal(rep['jobId'], r.jobId, where);
      }
      return;
    case 'jobKill':
      assert.ok(isObject(b) && (b['status'] === 'KILLED' || (b['status'] === 'ERROR' && isObject(b['ERROR']))), `not Spark's kill answer: ${where}`);
      return;
    case 'jobStart':
      assert.ok(isObject(b), where);
      if (a.status === 202) assert.equal(assertJobReport(b, where)['status'], 'STARTED', where);
      else {
        assert.equal(a.status, 200, where);
        assert.match(String(b['jobId']), UUID_RE, where);
        assert.ok('result' in b, where);
        if ('status' in b) assert.equal(b['status'], 'ERROR', where);
      }
      return;
    default:
      if (a.status === 200) assert.ok(b !== undefined, where);
  }
}
