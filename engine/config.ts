/**
 * Settings, declared once in `SETTINGS`: each with its type, default, environment variable, flag
 * (the kebab-case of its name), validation and one line of docs. `DEFAULTS`, `readEnv`,
 * `parseFlags`, `resolveConfig`, the `Config` type and the table in docs/configuration.md
 * (`node --import tsx scripts/configTable.ts --write`) all come from it.
 */
import path from 'node:path';
import { DEFAULT_BATCH_SIZE, DEFAULT_PARTITION_SIZE_BYTES, MAX_BATCH_SIZE, MAX_PARTITION_SIZE_BYTES, MIB, MIN_PARTITION_SIZE_BYTES } from './jobtypes/fileBatches.ts';

/** Roles a process can take; the embedded default runs all three. */
export const ROLES = ['api', 'coordinator', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** One setting; `T` is its resolved value's type. */
export interface Setting<T> {
  readonly kind: 'integer' | 'boolean' | 'string' | 'roles' | 'path';
  /** Environment variable. The flag is `--` + the kebab-case of the name (`flagOf`). */
  readonly env: string;
  /** Absent only on a directory derived from `stateDir` (`<stateDir>/<under>`). */
  readonly default?: T;
  readonly under?: string;
  /** Integers: `ms` for durations, absent for counts. */
  readonly unit?: 'ms';
  /** Integers below this are refused by `resolveConfig` (`<name> must be >= 1`); env and flags take no negatives anyway. */
  readonly min?: 0 | 1;
  /** The values accepted, as the docs show them. */
  readonly values: string;
  /** Never logged, never printed, never in /info (`SECRET_SETTINGS`). */
  readonly secret?: boolean;
  /** `--flag` alone (no value) means `true`. */
  readonly bareFlag?: boolean;
  /** One line for the docs table. */
  readonly doc: string;
  /** Env/flag text → value; throws ConfigError. */
  parse(raw: string, key: string): T;
  /** Checks a merged value (whatever layer it came from); throws ConfigError. */
  check?(value: T, key: string): void;
}

interface Described {
  env: string;
  doc: string;
}

function parseInteger(raw: string, key: string): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${key} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function integer(o: Described & { default: number; min: 0 | 1; values?: string; check?: (v: number, key: string) => void }): Setting<number> {
  return { kind: 'integer', values: `integer ≥ ${o.min}`, parse: parseInteger, ...o };
}

function ms(o: Described & { default: number; min: 0 | 1 }): Setting<number> {
  return { kind: 'integer', unit: 'ms', values: `ms ≥ ${o.min}`, parse: parseInteger, ...o };
}

const MAX_PORT = 65535;
function port(o: Described & { default: number }): Setting<number> {
  return {
    kind: 'integer', min: 0, values: `0–${MAX_PORT}`, parse: parseInteger, ...o,
    check: (v) => {
      if (v > MAX_PORT) throw new ConfigError(`ports must be <= ${MAX_PORT}`);
    },
  };
}

function flag(o: Described & { default: boolean; bareFlag?: true }): Setting<boolean> {
  return {
    kind: 'boolean', values: '`true`, `false`', ...o,
    parse: (raw, key) => {
      if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${key} must be true or false, got ${JSON.stringify(raw)}`);
      return raw === 'true';
    },
  };
}

function text(o: Described & { default: string; values?: string; check?: (v: string) => void }): Setting<string> {
  return { kind: 'string', values: 'string', parse: (raw) => raw, ...o };
}

/** A string that may be unset (`null`); `minLength` is checked when set. */
function optionalText(o: Described & { values?: string; secret?: true; minLength?: number }): Setting<string | null> {
  const { minLength, ...rest } = o;
  return {
    kind: 'string', default: null, values: minLength ? `≥ ${minLength} characters` : 'string', parse: (raw) => raw, ...rest,
    ...(minLength
      ? { check: (v: string | null, key: string) => {
          if (v !== null && v.length < minLength) throw new ConfigError(`${key} must be at least ${minLength} characters`);
        } }
      : {}),
  };
}

/** A directory, resolved against the working directory; `under`: defaults to `<stateDir>/<under>`. */
function dir(o: Described & ({ default: string } | { under: string })): Setting<string> {
  return { kind: 'path', values: 'path', parse: (raw) => raw, ...o };
}

function roles(o: Described): Setting<Role[]> {
  return {
    kind: 'roles', default: [...ROLES], values: `${ROLES.map((r) => `\`${r}\``).join(', ')} (comma-separated)`, ...o,
    parse: (raw) => {
      const rs = raw.split(',').map((r) => r.trim()).filter(Boolean);
      for (const r of rs) if (!(ROLES as readonly string[]).includes(r)) throw new ConfigError(`unknown role ${JSON.stringify(r)} (roles: ${ROLES.join(', ')})`);
      if (rs.length === 0) throw new ConfigError('roles must name at least one role');
      return rs as Role[];
    },
  };
}

/** One of a fixed list of words. */
function choice<const C extends readonly string[]>(o: Described & { default: C[number]; choices: C }): Setting<C[number]> {
  const { choices, ...rest } = o;
  return {
    kind: 'string', values: choices.map((c) => `\`${c}\``).join(', '), ...rest,
    parse: (raw) => raw as C[number],
    check: (v, key) => {
      if (!(choices as readonly string[]).includes(v)) throw new ConfigError(`${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    },
  };
}

/** How a facade knows who calls it (docs/compat.md). */
export const FACADE_AUTH_MODES = ['none', 'basic', 'bearer'] as const;
export type FacadeAuthMode = (typeof FACADE_AUTH_MODES)[number];

function checkRuntimeCommand(v: string): void {
  if (v !== 'none' && !/^(\/[A-Za-z0-9._+-]+)+$|^[A-Za-z0-9._+-]{1,64}$/.test(v)) throw new ConfigError(`runtime commands are \`none\`, a bare name or an absolute path of [A-Za-z0-9._+-/]; got ${JSON.stringify(v)}`);
}

function checkFacadeUser(v: string): void {
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(v)) throw new ConfigError(`facade users are 1-32 of [a-z0-9_-], starting with a letter; got ${JSON.stringify(v)}`);
}

/** Under whose names the five scheduler series are exported (docs/operations.md, Metrics). */
export const ALLUXIO_METRIC_NAMES = ['both', 'alluxio', 'native'] as const;
export type AlluxioMetricNames = (typeof ALLUXIO_METRIC_NAMES)[number];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
/** Whether a bind address is reachable from this host only. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Every setting, in the order of the docs table. */
export const SETTINGS = Object.freeze({
  roles: roles({ env: 'JETJOBS_ROLES',
    doc: 'roles of this process; any subset runs against a shared NATS' }),
  host: text({ default: '127.0.0.1', values: 'address', env: 'JETJOBS_HOST',
    doc: 'API bind address (loopback unless you say otherwise)' }),
  port: port({ default: 8080, env: 'JETJOBS_PORT',
    doc: 'API port' }),
  natsUrl: optionalText({ values: 'URLs, comma-separated', env: 'NATS_URL',
    doc: 'existing NATS server/cluster (comma-separated URLs); unset starts an embedded `nats-server`' }),
  natsPort: port({ default: 14_222, env: 'JETJOBS_NATS_PORT',
    doc: "embedded server's client port (127.0.0.1 only)" }),
  stateDir: dir({ default: './data', env: 'JETJOBS_STATE_DIR',
    doc: 'embedded JetStream store (`<stateDir>/nats`) and its log' }),
  filesDir: dir({ under: 'files', env: 'JETJOBS_FILES_DIR',
    doc: 'root that `load`, `copy`, `move` read and write; paths in specs must stay inside' }),
  cacheDir: dir({ under: 'cache', env: 'JETJOBS_CACHE_DIR',
    doc: 'worker cache; `load` writes here, `free` evicts' }),
  syncInterval: text({
    default: '1s',
    values: '`always` or a duration (`ms`, `s`, `m`, `h`)',
    check: (v) => {
      if (!/^(always|\d+(ms|s|m|h))$/.test(v)) throw new ConfigError(`syncInterval must be 'always' or a duration like 1s, got ${v}`);
    },
    env: 'JETJOBS_SYNC_INTERVAL',
    doc: "embedded server's `jetstream.sync_interval`: `always` or a duration (see operations.md for the cost)" }),
  runningJobCapacity: integer({ min: 1, default: 100, env: 'JETJOBS_RUNNING_JOB_CAPACITY',
    doc: 'jobs one coordinator runs at once; more stay WAITING' }),
  waitingJobCapacity: integer({ min: 1, default: 300_000, env: 'JETJOBS_WAITING_JOB_CAPACITY',
    doc: 'WAITING jobs before submissions get 429 `QUEUE_FULL` (nothing written)' }),
  heartbeatMs: ms({ min: 1, default: 1000, env: 'JETJOBS_HEARTBEAT_MS',
    doc: 'liveness heartbeat period' }),
  failureDetectionTimeoutMs: ms({ min: 1, default: 5000, env: 'JETJOBS_FAILURE_DETECTION_TIMEOUT_MS',
    doc: "a coordinator/worker whose heartbeat has not changed this long, measured on the observer's monotonic clock, is dead" }),
  maxTasksPerWorker: integer({ min: 1, default: 64, env: 'JETJOBS_MAX_TASKS_PER_WORKER',
    doc: 'dispatch window per live worker, per coordinator; virtual clusters share this window by their percentages (docs/api.md)' }),
  workerConcurrency: integer({ min: 1, default: 64, env: 'JETJOBS_WORKER_CONCURRENCY',
    doc: 'tasks one worker runs at once' }),
  defaultBatchSize: integer({
    min: 1, default: DEFAULT_BATCH_SIZE, values: `1–${MAX_BATCH_SIZE}`,
    check: (v, key) => {
      if (v > MAX_BATCH_SIZE) throw new ConfigError(`${key} must be <= ${MAX_BATCH_SIZE}`);
    },
    env: 'JETJOBS_DEFAULT_BATCH_SIZE',
    doc: 'files per task of a `load`, `copy` or `move` whose spec gives no `batchSize`; applied by the coordinator that plans the job' }),
  defaultPartitionSizeBytes: integer({
    min: 1, default: DEFAULT_PARTITION_SIZE_BYTES, values: `bytes, ${MIN_PARTITION_SIZE_BYTES / MIB} MiB–${MAX_PARTITION_SIZE_BYTES / MIB / 1024 / 1024} TiB`,
    check: (v, key) => {
      if (v < MIN_PARTITION_SIZE_BYTES || v > MAX_PARTITION_SIZE_BYTES) throw new ConfigError(`${key} must be between ${MIN_PARTITION_SIZE_BYTES} and ${MAX_PARTITION_SIZE_BYTES}`);
    },
    env: 'JETJOBS_DEFAULT_PARTITION_SIZE_BYTES',
    doc: 'a `load` whose spec gives no `partitionSizeBytes` loads files larger than this in ranges of this size; applied by the coordinator that plans the job' }),
  pool: text({
    default: 'default',
    values: '1–32 of `[A-Za-z0-9_-]`',
    check: (v) => {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(v)) throw new ConfigError('pool must be 1-32 of [A-Za-z0-9_-]');
    },
    env: 'JETJOBS_POOL',
    doc: 'worker pool (work-queue subject `task.<pool>`)' }),
  taskAckWaitMs: ms({ min: 1, default: 30_000, env: 'JETJOBS_TASK_ACK_WAIT_MS',
    doc: 'an unacked task is redelivered after this (workers extend it while running)' }),
  taskMaxDeliver: integer({ min: 1, default: 10, env: 'JETJOBS_TASK_MAX_DELIVER',
    doc: 'deliveries of one task message; at the last one the worker records `DELIVERY_EXHAUSTED`' }),
  retryBackoffMs: ms({ min: 0, default: 500, env: 'JETJOBS_RETRY_BACKOFF_MS',
    doc: 'first retry delay after a retryable task failure; doubles per attempt' }),
  drainTimeoutMs: ms({ min: 0, default: 30_000, env: 'JETJOBS_DRAIN_TIMEOUT_MS',
    doc: 'on SIGTERM a worker waits this long for running tasks, then returns them to the queue' }),
  appendsInFlight: integer({ min: 0, default: 16, values: '0–64', env: 'JETJOBS_APPENDS_IN_FLIGHT',
    check: (v, key) => {
      if (v > 64) throw new ConfigError(`${key} must be at most 64`);
    },
    doc: 'group commit: event-log round trips a process keeps out at once; appends made meanwhile go together, pipelined in one socket write. `0` sends every append alone' }),
  replicas: integer({ min: 1, default: 1, env: 'JETJOBS_REPLICAS',
    doc: 'JetStream replicas of the streams (3 on a cluster)' }),
  acceptNewStore: flag({ default: false, bareFlag: true, env: 'JETJOBS_ACCEPT_NEW_STORE',
    doc: 'start on an event store other than the one `<stateDir>/store-identity.json` remembers (re-bootstrap after the store was lost)' }),
  logLevel: text({ default: 'info', values: 'pino level', env: 'LOG_LEVEL',
    doc: 'pino level; tests are silent unless `LOG_LEVEL` is set' }),
  adminPassword: optionalText({ secret: true, minLength: 12, env: 'JETJOBS_ADMIN_PASSWORD',
    doc: 'password of the `admin` user created at first start (≥ 12 characters); unset: a generated one is printed once. Ignored once any user exists' }),
  adminToken: optionalText({ secret: true, minLength: 32, env: 'JETJOBS_ADMIN_TOKEN',
    doc: 'a static bearer token (≥ 32 characters) acting as `admin` with role admin; for automation and recovery; never expires' }),
  tokenTtlMs: ms({ min: 1, default: 12 * 3600_000, env: 'JETJOBS_TOKEN_TTL_MS',
    doc: 'lifetime of a login token when the client asks for none; ≤ `tokenMaxTtlMs`' }),
  tokenMaxTtlMs: ms({ min: 1, default: 30 * 24 * 3600_000, env: 'JETJOBS_TOKEN_MAX_TTL_MS',
    doc: 'longest lifetime a login may ask for (`ttlMs`)' }),
  loginRateLimitPerMinute: integer({ min: 1, default: 10, env: 'JETJOBS_LOGIN_RATE_LIMIT_PER_MINUTE',
    doc: 'password checks (login, password change) per minute per client address and user name; then 429' }),
  loginRateLimitPerAddressPerMinute: integer({ min: 1, default: 100, env: 'JETJOBS_LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE',
    doc: 'password checks per minute per client address, whatever the user names; then 429' }),
  rateLimitPerMinute: integer({ min: 1, default: 120_000, env: 'JETJOBS_RATE_LIMIT_PER_MINUTE',
    doc: 'requests per minute per user (per address without a valid token), per API process; then 429' }),
  metricsPublic: flag({ default: true, env: 'JETJOBS_METRICS_PUBLIC',
    doc: '`GET /metrics` without a token; `false`: admin token needed' }),
  alluxioMetricNames: choice({ default: 'both', choices: ALLUXIO_METRIC_NAMES, env: 'JETJOBS_ALLUXIO_METRIC_NAMES',
    doc: "names of the scheduler's poll, claim, reclaim, latency and access series: `both` ours (`jetjobs_scheduler_*`) and Alluxio's (`alluxio_scheduler_*`, for dashboards built on Alluxio), `alluxio` Alluxio's only, `native` ours only (operations.md, Metrics)" }),
  httpRequestTimeoutMs: ms({ min: 1, default: 30_000, env: 'JETJOBS_HTTP_REQUEST_TIMEOUT_MS',
    doc: 'a request, headers and body, must arrive within this; else 408 and the connection is closed' }),
  httpHeadersTimeoutMs: ms({ min: 1, default: 10_000, env: 'JETJOBS_HTTP_HEADERS_TIMEOUT_MS',
    doc: 'request headers must arrive within this (also ends a connection that sends nothing); else 408; ≤ `httpRequestTimeoutMs`' }),
  httpKeepAliveTimeoutMs: ms({ min: 1, default: 72_000, env: 'JETJOBS_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    doc: "an idle keep-alive connection is closed after this; keep it above a load balancer's idle timeout" }),
  httpMaxConnectionsPerAddress: integer({ min: 0, default: 256, env: 'JETJOBS_HTTP_MAX_CONNECTIONS_PER_ADDRESS',
    doc: "open connections per client address (the socket's: behind a proxy, the proxy's); one more gets 429 `RATE_LIMITED` and is closed; `0`: no limit" }),
  stopGraceMs: ms({ min: 0, default: 10_000, env: 'JETJOBS_STOP_GRACE_MS',
    doc: 'grace period of a cooperative stop when the request gives no `graceMs`; `0` stops at once' }),
  sseMaxPerUser: integer({ min: 1, default: 16, env: 'JETJOBS_SSE_MAX_PER_USER',
    doc: 'open live-event streams per user, per API process; then 429 `TOO_MANY_STREAMS`' }),
  sseMaxTotal: integer({ min: 1, default: 1000, env: 'JETJOBS_SSE_MAX_TOTAL',
    doc: 'open live-event streams per API process' }),
  callbackSecret: optionalText({ secret: true, env: 'JETJOBS_CALLBACK_SECRET',
    doc: 'HMAC-SHA256 key signing per-job `callbackUrl` notifications; unset: generated once and kept in the `control` bucket (`GET /webhooks/callback-secret` shows it to admins)' }),
  webhookMaxAttempts: integer({ min: 1, default: 8, env: 'JETJOBS_WEBHOOK_MAX_ATTEMPTS',
    doc: 'delivery attempts per notification and target; the last failure is final (dead letter)' }),
  webhookBackoffMs: ms({ min: 1, default: 1000, env: 'JETJOBS_WEBHOOK_BACKOFF_MS',
    doc: 'delay before the second attempt; doubles per attempt, capped at 5 min' }),
  webhookTimeoutMs: ms({ min: 1, default: 5000, env: 'JETJOBS_WEBHOOK_TIMEOUT_MS',
    doc: 'per-attempt HTTP timeout (the whole request)' }),
  webhookAllowPrivate: flag({ default: false, env: 'JETJOBS_WEBHOOK_ALLOW_PRIVATE',
    doc: 'let webhooks reach `localhost`, loopback, private, link-local and reserved addresses (and names resolving to them); off, such URLs are refused and such deliveries fail (SSRF guard; see operations.md)' }),
  compactAfterMs: ms({ min: 0, default: 3600_000, env: 'JETJOBS_COMPACT_AFTER_MS',
    doc: "a finished job's history is rolled up into one `JobCompacted` event this long after it finished; `0`: at the next pass" }),
  retentionMaxAgeMs: ms({ min: 0, default: 7 * 24 * 3600_000, env: 'JETJOBS_RETENTION_MAX_AGE_MS',
    doc: 'a finished job is removed this long after it finished; `0`: never by age' }),
  retentionMaxCount: integer({ min: 0, default: 0, env: 'JETJOBS_RETENTION_MAX_COUNT',
    doc: 'finished jobs kept per job type (newest by submission), older ones removed; `0`: no count limit' }),
  retentionByType: text({ default: '{}', values: 'JSON object', check: (v) => void parseRetentionByType(v), env: 'JETJOBS_RETENTION_BY_TYPE',
    doc: 'per-type overrides, JSON: `{"noop":{"maxAgeMs":60000,"maxCount":1000,"compactAfterMs":0}}` (keys optional, integers ≥ 0; a missing key falls back to the global setting)' }),
  retentionIntervalMs: ms({ min: 1, default: 60_000, env: 'JETJOBS_RETENTION_INTERVAL_MS',
    doc: 'how often the retention pass runs (the first one after one interval)' }),
  checkpointIntervalMs: ms({ min: 0, default: 30_000, env: 'JETJOBS_CHECKPOINT_INTERVAL_MS',
    doc: 'how often one coordinator (the holder of the lease `checkpoint.lease`) writes a checkpoint of the job projection, whole each time (~1 KB per held job; object store bucket `checkpoints`, object `projection.v1`), from which a starting api or coordinator process replays only the records after it (decision 0013; docs/operations.md, Projection checkpoints); `0`: this process neither writes nor loads one (it replays from seq 1)' }),
  checkpointEveryRecords: integer({ min: 1, default: 200_000, env: 'JETJOBS_CHECKPOINT_EVERY_RECORDS',
    doc: 'a checkpoint is also written once this many records came since the last one, before `checkpointIntervalMs` (checked every second)' }),
  scriptWorkDir: dir({ under: 'sandbox', env: 'JETJOBS_SCRIPT_WORK_DIR',
    doc: 'where a worker makes the work dir of each `script`/`exec` task (removed after the task)' }),
  scriptPython: text({ default: 'python3', values: 'command or absolute path', env: 'JETJOBS_SCRIPT_PYTHON',
    check: checkRuntimeCommand,
    doc: 'the Python that runs `script` jobs of python binaries (a bare name is looked up in the sandbox PATH `/usr/local/bin:/usr/bin:/bin`); `none`: no Python' }),
  scriptJava: text({ default: 'none', values: 'command or absolute path', env: 'JETJOBS_SCRIPT_JAVA',
    check: checkRuntimeCommand,
    doc: 'the `java` (JDK 11 or later: the runner is a single-file source program) that runs `script` jobs of `application/java-archive` binaries; `none`: no JVM, such jobs are refused' }),
  scriptMemoryLimitMb: integer({ min: 1, default: 2048, env: 'JETJOBS_SCRIPT_MEMORY_LIMIT_MB',
    doc: "default and largest address-space limit of a `script` task's processes, MiB (Node needs ≥ 1536, a JVM ≥ the runner's minimum)" }),
  scriptTimeLimitMs: ms({ min: 1, default: 6 * 3600_000, env: 'JETJOBS_SCRIPT_TIME_LIMIT_MS',
    doc: 'default and longest wall-clock limit of a `script` task; then its process group is killed' }),
  scriptResultMaxBytes: integer({ min: 1, default: 256 * 1024, values: 'bytes, ≤ 524288', env: 'JETJOBS_SCRIPT_RESULT_MAX_BYTES',
    check: (v, key) => {
      if (v > 512 * 1024) throw new ConfigError(`${key} must be <= 524288 (the result travels in an event)`);
    },
    doc: "largest JSON result of a `script` job; a larger one fails the job with `RESULT_TOO_LARGE`" }),
  scriptUids: text({ default: 'auto', values: '`auto`, `off` or `FIRST-LAST`', env: 'JETJOBS_SCRIPT_UIDS',
    check: (v) => {
      if (v !== 'auto' && v !== 'off' && !/^\d{4,10}-\d{4,10}$/.test(v)) throw new ConfigError(`scriptUids must be auto, off or FIRST-LAST, got ${JSON.stringify(v)}`);
    },
    doc: 'uids a root worker runs `script`/`exec` tasks as, one per running task (host-wide leases), so no task reads another\'s files; `auto`: 700000-700999 when the worker runs as root, else off (docs/operations.md, Sandbox)' }),
  scriptNetwork: choice({ default: 'none', choices: ['none', 'host'] as const, env: 'JETJOBS_SCRIPT_NETWORK',
    doc: '`none`: a `script` task runs in a network namespace of its own (no network: it cannot reach NATS, the API or anything else; needs sandbox uids, i.e. a root worker); `host`: the worker\'s network (docs/operations.md, Sandbox)' }),
  binaryMaxBytes: integer({ min: 1, default: 256 * 1024 * 1024, values: 'bytes', env: 'JETJOBS_BINARY_MAX_BYTES',
    doc: 'largest uploaded binary (Spark `/binaries`); streamed to the object store, never held in memory' }),
  facadeHost: text({ default: '127.0.0.1', values: 'address', env: 'JETJOBS_FACADE_HOST',
    doc: "bind address of the facades' own ports (Alluxio 20002, 30003, 19999; Teraslice 5678; Spark Jobserver 8090; OpenPAI 9186); loopback unless you say otherwise. Facades are also under `/compat/<name>/` on the API port" }),
  facadeAllowUnauthenticated: flag({ default: false, env: 'JETJOBS_FACADE_ALLOW_UNAUTHENTICATED',
    doc: 'allow a facade with auth `none` beyond loopback: on its own port (`facadeHost`; refused at start otherwise) and under `/compat/` on an API port that listens beyond loopback (`host`; not mounted there otherwise, with a warning)' }),
  alluxioFacade: flag({ default: true, env: 'JETJOBS_ALLUXIO_FACADE',
    doc: 'serve the Alluxio facade (docs/compat/alluxio.md): job master, job worker and EE coordinator REST on their own ports and under `/compat/alluxio/`' }),
  alluxioMasterPort: port({ default: 20_002, env: 'JETJOBS_ALLUXIO_MASTER_PORT',
    doc: 'Alluxio job master web port (`/api/v1/master/job/*`, `/api/v1/job_master/*`); `0` picks a free one' }),
  alluxioWorkerPort: port({ default: 30_003, env: 'JETJOBS_ALLUXIO_WORKER_PORT',
    doc: 'Alluxio job worker web port (`/api/v1/job_worker/*`); `0` picks a free one' }),
  alluxioEePort: port({ default: 19_999, env: 'JETJOBS_ALLUXIO_EE_PORT',
    doc: 'Alluxio Enterprise coordinator REST port (`/api/v1/load`, `/api/v1/master/submit_job/load`, …; docs/compat/alluxio.md, EE coordinator REST); `0` picks a free one' }),
  alluxioAuth: choice({ default: 'none', choices: FACADE_AUTH_MODES, env: 'JETJOBS_ALLUXIO_AUTH',
    doc: 'who an Alluxio request is: `none` acts as `alluxioUser` with `alluxioRole` (Alluxio clients send no credentials), `basic` our users and passwords, `bearer` our tokens' }),
  alluxioUser: text({ default: 'alluxio', values: 'user name', check: checkFacadeUser, env: 'JETJOBS_ALLUXIO_USER',
    doc: 'with `alluxioAuth=none`: the user Alluxio requests act as (owner of the jobs they submit, actor in their history)' }),
  alluxioRole: choice({ default: 'operator', choices: ['admin', 'operator', 'viewer'] as const, env: 'JETJOBS_ALLUXIO_ROLE',
    doc: "with `alluxioAuth=none`: that user's role (an operator sees and controls its own jobs only; an admin, every job)" }),
  alluxioSiteProperties: optionalText({ values: 'path', env: 'JETJOBS_ALLUXIO_SITE_PROPERTIES',
    doc: 'an `alluxio-site.properties` file whose `alluxio.*` keys set the settings they map to (docs/compat/alluxio.md, Configuration); below the environment and flags, above the defaults' }),
  terasliceFacade: flag({ default: true, env: 'JETJOBS_TERASLICE_FACADE',
    doc: 'serve the Teraslice facade (docs/compat/teraslice.md): the cluster master REST on its own port and under `/compat/teraslice/`' }),
  teraslicePort: port({ default: 5678, env: 'JETJOBS_TERASLICE_PORT',
    doc: 'Teraslice cluster master port (`/jobs`, `/ex`, `/cluster/*`, `/txt/*`, each JSON route also under `/v1`); `0` picks a free one' }),
  terasliceAuth: choice({ default: 'none', choices: FACADE_AUTH_MODES, env: 'JETJOBS_TERASLICE_AUTH',
    doc: 'who a Teraslice request is: `none` acts as `terasliceUser` with `terasliceRole` (Teraslice clients send no credentials), `basic` our users and passwords, `bearer` our tokens' }),
  terasliceUser: text({ default: 'teraslice', values: 'user name', check: checkFacadeUser, env: 'JETJOBS_TERASLICE_USER',
    doc: 'with `terasliceAuth=none`: the user Teraslice requests act as (owner of the jobs and executions they create)' }),
  terasliceRole: choice({ default: 'operator', choices: ['admin', 'operator', 'viewer'] as const, env: 'JETJOBS_TERASLICE_ROLE',
    doc: "with `terasliceAuth=none`: that user's role" }),
  sparkFacade: flag({ default: true, env: 'JETJOBS_SPARK_FACADE',
    doc: 'serve the Spark Jobserver facade (docs/compat/spark.md): `/binaries`, `/contexts`, `/jobs` on its own port and under `/compat/spark/`' }),
  sparkPort: port({ default: 8090, env: 'JETJOBS_SPARK_PORT',
    doc: 'Spark Jobserver port; `0` picks a free one' }),
  sparkAuth: choice({ default: 'auto', choices: [...FACADE_AUTH_MODES, 'auto'] as const, env: 'JETJOBS_SPARK_AUTH',
    doc: 'who a Spark Jobserver request is: `auto` is `none` while `facadeHost` is loopback and `basic` beyond it (uploads run code); `none` acts as `sparkUser` with `sparkRole`, `basic` our users and passwords (Spark Jobserver\'s own scheme), `bearer` our tokens' }),
  sparkUser: text({ default: 'spark', values: 'user name', check: checkFacadeUser, env: 'JETJOBS_SPARK_USER',
    doc: 'with Spark auth `none`: the user Spark requests act as (owner of the binaries, contexts and jobs they create)' }),
  sparkRole: choice({ default: 'operator', choices: ['admin', 'operator', 'viewer'] as const, env: 'JETJOBS_SPARK_ROLE',
    doc: "with Spark auth `none`: that user's role (uploads and job starts need operator)" }),
  openpaiFacade: flag({ default: true, env: 'JETJOBS_OPENPAI_FACADE',
    doc: 'serve the OpenPAI REST server facade (docs/compat/openpai.md): v1 and v2 jobs, users, tokens and virtual clusters on its own port, also under `/rest-server/` and `/compat/openpai/`' }),
  openpaiPort: port({ default: 9186, env: 'JETJOBS_OPENPAI_PORT',
    doc: 'OpenPAI REST server port; `0` picks a free one' }),
  openpaiAnonymousReads: choice({ default: 'auto', choices: ['auto', 'true', 'false'] as const, env: 'JETJOBS_OPENPAI_ANONYMOUS_READS',
    doc: 'whether the v1 job and virtual-cluster reads the PAIV1 SDK sends without a token are answered (as a read-only anonymous caller that sees every job, as the original did): `auto` is true while `facadeHost` and `host` are loopback' }),
});

type Settings = typeof SETTINGS;
type ValueOf<S> = S extends Setting<infer T> ? T : never;

/** Every setting's value. Resolved once by `resolveConfig`; frozen afterwards. */
export type Config = { -readonly [K in keyof Settings]: ValueOf<Settings[K]> };
type Key = keyof Config;
/** Settings whose default derives from `stateDir`. */
type DerivedKey = { [K in Key]: Settings[K] extends { under: string } ? K : never }[Key];

const ENTRIES = Object.entries(SETTINGS) as [Key, Setting<unknown>][];

/** The CLI flag of a setting, without `--`: `natsUrl` → `nats-url`. */
export function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export const DEFAULTS = Object.freeze(
  Object.fromEntries(ENTRIES.filter(([, s]) => s.under === undefined).map(([k, s]) => [k, s.default])),
) as Readonly<Omit<Config, DerivedKey>>;

/** Settings that are secrets: never logged, never printed, never in /info. */
export const SECRET_SETTINGS: readonly Key[] = ENTRIES.filter(([, s]) => s.secret).map(([k]) => k);

/** A per-type retention override (see `retentionByType`). */
export interface RetentionRule {
  maxAgeMs?: number;
  maxCount?: number;
  compactAfterMs?: number;
}

/** Parses `retentionByType`; throws ConfigError on anything but `{type: {maxAgeMs?, maxCount?, compactAfterMs?}}` with integers >= 0. */
export function parseRetentionByType(raw: string): Record<string, RetentionRule> {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ConfigError('retentionByType must be JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError('retentionByType must be a JSON object');
  const out: Record<string, RetentionRule> = Object.create(null) as Record<string, RetentionRule>;
  for (const [type, rule] of Object.entries(v)) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(type)) throw new ConfigError(`retentionByType: bad job type name ${JSON.stringify(type)}`);
    if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) throw new ConfigError(`retentionByType.${type} must be an object`);
    const r: RetentionRule = {};
    for (const [k, n] of Object.entries(rule as Record<string, unknown>)) {
      if (k !== 'maxAgeMs' && k !== 'maxCount' && k !== 'compactAfterMs') throw new ConfigError(`retentionByType.${type}: unknown key ${k}`);
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ConfigError(`retentionByType.${type}.${k} must be an integer >= 0`);
      r[k] = n;
    }
    out[type] = r;
  }
  return out;
}

/** Rules between settings, checked after each setting's own. */
const RELATIONS: readonly ((c: Config) => string | undefined)[] = [
  (c) => (c.failureDetectionTimeoutMs <= c.heartbeatMs ? 'failureDetectionTimeoutMs must exceed heartbeatMs' : undefined),
  (c) => (c.httpHeadersTimeoutMs > c.httpRequestTimeoutMs ? 'httpHeadersTimeoutMs must not exceed httpRequestTimeoutMs' : undefined),
  (c) => (c.tokenTtlMs > c.tokenMaxTtlMs ? 'tokenTtlMs must not exceed tokenMaxTtlMs' : undefined),
  (c) =>
    c.alluxioFacade && c.alluxioAuth === 'none' && !c.facadeAllowUnauthenticated && !isLoopbackHost(c.facadeHost)
      ? 'alluxioAuth=none lets anyone who reaches the facade act as alluxioUser: bind facadeHost to loopback, choose basic or bearer, or set facadeAllowUnauthenticated'
      : undefined,
  (c) =>
    c.terasliceFacade && c.terasliceAuth === 'none' && !c.facadeAllowUnauthenticated && !isLoopbackHost(c.facadeHost)
      ? 'terasliceAuth=none lets anyone who reaches the facade act as terasliceUser: bind facadeHost to loopback, choose basic or bearer, or set facadeAllowUnauthenticated'
      : undefined,
  (c) =>
    c.sparkFacade && c.sparkAuth === 'none' && !c.facadeAllowUnauthenticated && !isLoopbackHost(c.facadeHost)
      ? 'sparkAuth=none lets anyone who reaches the facade upload and run code as sparkUser: bind facadeHost to loopback, choose basic, bearer or auto, or set facadeAllowUnauthenticated'
      : undefined,
];

const FLAGS = new Map(ENTRIES.map(([k]) => [flagOf(k), k]));

/** Parses `--flag value` / `--flag=value` arguments. */
export function parseFlags(argv: readonly string[]): Partial<Config> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const key = FLAGS.get(name);
    if (!key) throw new ConfigError(`unknown flag --${name}`);
    const s: Setting<unknown> = SETTINGS[key];
    const bare = eq === -1 && s.bareFlag === true && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'));
    const value = bare ? 'true' : eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    out[key] = s.parse(value, key);
  }
  return out as Partial<Config>;
}

/** Reads settings from the environment. The only place that reads process.env for settings. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): Partial<Config> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of ENTRIES) {
    const raw = env[s.env];
    if (raw !== undefined && raw !== '') out[key] = s.parse(raw, key);
  }
  return out as Partial<Config>;
}

/** One setting's own checks (its minimum, its `check`), as `resolveConfig` runs them; throws ConfigError. */
export function checkSetting<K extends Key>(key: K, value: Config[K]): void {
  const s: Setting<unknown> = SETTINGS[key];
  if (s.min === 1 && !((value as number) >= 1)) throw new ConfigError(`${key} must be >= 1`);
  s.check?.(value, key);
}

/**
 * Merges layers over the defaults, later wins (api/main.ts: the `alluxioSiteProperties` file <
 * environment < flags); validated and frozen.
 */
export function resolveConfig(...layers: Partial<Config>[]): Readonly<Config> {
  const merged = Object.assign({}, DEFAULTS, ...layers) as Config;
  const values = merged as Record<Key, unknown>;
  for (const [k, s] of ENTRIES) {
    if (s.kind !== 'path') continue;
    const v = values[k] as string | undefined;
    values[k] = path.resolve(s.under === undefined ? v! : v ?? path.join(merged.stateDir, s.under)); // stateDir comes first
  }
  for (const [k, s] of ENTRIES) if (s.min === 1 && !((values[k] as number) >= 1)) throw new ConfigError(`${k} must be >= 1`);
  for (const [k, s] of ENTRIES) s.check?.(values[k], k);
  for (const rule of RELATIONS) {
    const problem = rule(merged);
    if (problem) throw new ConfigError(problem);
  }
  return Object.freeze(merged);
}
