import path from 'node:path';

/** Roles a process can take; the embedded default runs all three. */
export const ROLES = ['api', 'coordinator', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** Every setting, with its default. Resolved once by `resolveConfig`; frozen afterwards. */
export interface Config {
  roles: Role[];
  /** API bind address. @defaultValue '127.0.0.1' */
  host: string;
  /** API port. @defaultValue 8080 */
  port: number;
  /** Existing NATS server or cluster (comma-separated URLs); unset = start an embedded nats-server. */
  natsUrl: string | null;
  /** Embedded nats-server port. @defaultValue 14222 */
  natsPort: number;
  /** Service state: the embedded server's JetStream store lives in `<stateDir>/nats`. @defaultValue './data' */
  stateDir: string;
  /** Root of the files jobs read and write (load sources, copy/move). @defaultValue '<stateDir>/files' */
  filesDir: string;
  /** The worker's cache directory (`load` writes here, `free` evicts). @defaultValue '<stateDir>/cache' */
  cacheDir: string;
  /** nats-server `sync_interval` for the embedded server: 'always', or a duration like '1s'. @defaultValue '1s' */
  syncInterval: string;
  /** Jobs one coordinator runs at once. @defaultValue 100 */
  runningJobCapacity: number;
  /** WAITING jobs allowed before submissions are refused (429 QUEUE_FULL). @defaultValue 300000 */
  waitingJobCapacity: number;
  /** Liveness heartbeat period. @defaultValue 1000 */
  heartbeatMs: number;
  /** A peer whose heartbeat has not changed this long (observer's clock) is dead. @defaultValue 5000 */
  failureDetectionTimeoutMs: number;
  /** Dispatch window per live worker, per coordinator. @defaultValue 64 */
  maxTasksPerWorker: number;
  /** Tasks one worker runs at once. @defaultValue 64 */
  workerConcurrency: number;
  /** Worker pool (task subject `task.<pool>`). @defaultValue 'default' */
  pool: string;
  /** Unacked task redelivery deadline. @defaultValue 30000 */
  taskAckWaitMs: number;
  /** Deliveries of one task message before the queue gives up. @defaultValue 10 */
  taskMaxDeliver: number;
  /** First retry delay after a retryable task failure; doubles per attempt. @defaultValue 500 */
  retryBackoffMs: number;
  /** How long a worker waits for running tasks on SIGTERM before returning them. @defaultValue 30000 */
  drainTimeoutMs: number;
  /** JetStream replicas for the streams (3 on a cluster). @defaultValue 1 */
  replicas: number;
  /** Start on an event store other than the one this state dir remembers (re-bootstrap after loss). @defaultValue false */
  acceptNewStore: boolean;
  logLevel: string;
  // ---- identity ----
  /** Password of the `admin` user created on first start; unset = generate one and print it once. Secret. */
  adminPassword: string | null;
  /** A static bearer token acting as `admin` (for automation and test harnesses); unset = none. Secret, >= 32 chars. */
  adminToken: string | null;
  /** Lifetime of a login token. @defaultValue 43200000 (12 h) */
  tokenTtlMs: number;
  /** Longest lifetime a client may ask for. @defaultValue 2592000000 (30 days) */
  tokenMaxTtlMs: number;
  /** Login attempts per minute per client address and user name. @defaultValue 10 */
  loginRateLimitPerMinute: number;
  /** Password checks per minute per client address, whatever the user names (password spraying). @defaultValue 100 */
  loginRateLimitPerAddressPerMinute: number;
  /** Requests per minute per user (per address when unauthenticated). @defaultValue 120000 */
  rateLimitPerMinute: number;
  /** `GET /metrics` without a token (Prometheus default). @defaultValue true */
  metricsPublic: boolean;
  // ---- HTTP connections ----
  /** A request (headers and body) must arrive within this, else 408 and the connection is closed. @defaultValue 30000 */
  httpRequestTimeoutMs: number;
  /** Request headers must arrive within this (also bounds a connection that sends nothing); <= httpRequestTimeoutMs. @defaultValue 10000 */
  httpHeadersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. @defaultValue 72000 */
  httpKeepAliveTimeoutMs: number;
  /** Open connections per client address; more are answered 429 and closed. 0 = no limit. @defaultValue 256 */
  httpMaxConnectionsPerAddress: number;
  // ---- controls ----
  /** Grace period of a cooperative stop before tasks in flight are abandoned. @defaultValue 10000 */
  stopGraceMs: number;
  // ---- live events ----
  /** Open SSE streams per user. @defaultValue 16 */
  sseMaxPerUser: number;
  /** Open SSE streams per process. @defaultValue 1000 */
  sseMaxTotal: number;
  // ---- webhooks ----
  /** HMAC-SHA256 key of per-job callbacks; unset = generated once and kept in the control store. Secret. */
  callbackSecret: string | null;
  /** Delivery attempts per target before giving up. @defaultValue 8 */
  webhookMaxAttempts: number;
  /** First retry delay; doubles per attempt (capped at 5 min). @defaultValue 1000 */
  webhookBackoffMs: number;
  /** Per-attempt HTTP timeout. @defaultValue 5000 */
  webhookTimeoutMs: number;
  /**
   * Let webhooks reach loopback, private, link-local and reserved addresses (and names resolving to
   * them). Off: such callback URLs are refused, and a delivery to a name that resolves to one fails. @defaultValue false
   */
  webhookAllowPrivate: boolean;
  // ---- retention ----
  /** Terminal jobs are compacted to one snapshot event this long after they finish. @defaultValue 3600000 (1 h) */
  compactAfterMs: number;
  /** Terminal jobs are removed this long after they finish; 0 = never by age. @defaultValue 604800000 (7 days) */
  retentionMaxAgeMs: number;
  /** Terminal jobs kept per job type (newest first); 0 = no count limit. @defaultValue 0 */
  retentionMaxCount: number;
  /** Per-type overrides, JSON: `{"noop":{"maxAgeMs":60000,"maxCount":1000,"compactAfterMs":0}}`. @defaultValue '{}' */
  retentionByType: string;
  /** How often the retention pass runs. @defaultValue 60000 */
  retentionIntervalMs: number;
}

export const DEFAULTS: Readonly<Omit<Config, 'filesDir' | 'cacheDir'>> = Object.freeze({
  roles: [...ROLES],
  host: '127.0.0.1',
  port: 8080,
  natsUrl: null,
  natsPort: 14222,
  stateDir: './data',
  syncInterval: '1s',
  runningJobCapacity: 100,
  waitingJobCapacity: 300_000,
  heartbeatMs: 1000,
  failureDetectionTimeoutMs: 5000,
  maxTasksPerWorker: 64,
  workerConcurrency: 64,
  pool: 'default',
  taskAckWaitMs: 30_000,
  taskMaxDeliver: 10,
  retryBackoffMs: 500,
  drainTimeoutMs: 30_000,
  replicas: 1,
  acceptNewStore: false,
  logLevel: 'info',
  adminPassword: null,
  adminToken: null,
  tokenTtlMs: 12 * 3600_000,
  tokenMaxTtlMs: 30 * 24 * 3600_000,
  loginRateLimitPerMinute: 10,
  loginRateLimitPerAddressPerMinute: 100,
  rateLimitPerMinute: 120_000,
  metricsPublic: true,
  httpRequestTimeoutMs: 30_000,
  httpHeadersTimeoutMs: 10_000,
  httpKeepAliveTimeoutMs: 72_000,
  httpMaxConnectionsPerAddress: 256,
  stopGraceMs: 10_000,
  sseMaxPerUser: 16,
  sseMaxTotal: 1000,
  callbackSecret: null,
  webhookMaxAttempts: 8,
  webhookBackoffMs: 1000,
  webhookTimeoutMs: 5000,
  webhookAllowPrivate: false,
  compactAfterMs: 3600_000,
  retentionMaxAgeMs: 7 * 24 * 3600_000,
  retentionMaxCount: 0,
  retentionByType: '{}',
  retentionIntervalMs: 60_000,
});

/** Settings that are secrets: never logged, never printed, never in /info. */
export const SECRET_SETTINGS: readonly (keyof Config)[] = ['adminPassword', 'adminToken', 'callbackSecret'];

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

/** Environment variable → setting. The only place that reads process.env for settings. */
const ENV: Record<string, keyof Config> = {
  JETJOBS_ROLES: 'roles',
  JETJOBS_HOST: 'host',
  JETJOBS_PORT: 'port',
  NATS_URL: 'natsUrl',
  JETJOBS_NATS_PORT: 'natsPort',
  JETJOBS_STATE_DIR: 'stateDir',
  JETJOBS_FILES_DIR: 'filesDir',
  JETJOBS_CACHE_DIR: 'cacheDir',
  JETJOBS_SYNC_INTERVAL: 'syncInterval',
  JETJOBS_RUNNING_JOB_CAPACITY: 'runningJobCapacity',
  JETJOBS_WAITING_JOB_CAPACITY: 'waitingJobCapacity',
  JETJOBS_HEARTBEAT_MS: 'heartbeatMs',
  JETJOBS_FAILURE_DETECTION_TIMEOUT_MS: 'failureDetectionTimeoutMs',
  JETJOBS_MAX_TASKS_PER_WORKER: 'maxTasksPerWorker',
  JETJOBS_WORKER_CONCURRENCY: 'workerConcurrency',
  JETJOBS_POOL: 'pool',
  JETJOBS_TASK_ACK_WAIT_MS: 'taskAckWaitMs',
  JETJOBS_TASK_MAX_DELIVER: 'taskMaxDeliver',
  JETJOBS_RETRY_BACKOFF_MS: 'retryBackoffMs',
  JETJOBS_DRAIN_TIMEOUT_MS: 'drainTimeoutMs',
  JETJOBS_REPLICAS: 'replicas',
  JETJOBS_ACCEPT_NEW_STORE: 'acceptNewStore',
  LOG_LEVEL: 'logLevel',
  JETJOBS_ADMIN_PASSWORD: 'adminPassword',
  JETJOBS_ADMIN_TOKEN: 'adminToken',
  JETJOBS_TOKEN_TTL_MS: 'tokenTtlMs',
  JETJOBS_TOKEN_MAX_TTL_MS: 'tokenMaxTtlMs',
  JETJOBS_LOGIN_RATE_LIMIT_PER_MINUTE: 'loginRateLimitPerMinute',
  JETJOBS_LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: 'loginRateLimitPerAddressPerMinute',
  JETJOBS_RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  JETJOBS_METRICS_PUBLIC: 'metricsPublic',
  JETJOBS_HTTP_REQUEST_TIMEOUT_MS: 'httpRequestTimeoutMs',
  JETJOBS_HTTP_HEADERS_TIMEOUT_MS: 'httpHeadersTimeoutMs',
  JETJOBS_HTTP_KEEP_ALIVE_TIMEOUT_MS: 'httpKeepAliveTimeoutMs',
  JETJOBS_HTTP_MAX_CONNECTIONS_PER_ADDRESS: 'httpMaxConnectionsPerAddress',
  JETJOBS_STOP_GRACE_MS: 'stopGraceMs',
  JETJOBS_SSE_MAX_PER_USER: 'sseMaxPerUser',
  JETJOBS_SSE_MAX_TOTAL: 'sseMaxTotal',
  JETJOBS_CALLBACK_SECRET: 'callbackSecret',
  JETJOBS_WEBHOOK_MAX_ATTEMPTS: 'webhookMaxAttempts',
  JETJOBS_WEBHOOK_BACKOFF_MS: 'webhookBackoffMs',
  JETJOBS_WEBHOOK_TIMEOUT_MS: 'webhookTimeoutMs',
  JETJOBS_WEBHOOK_ALLOW_PRIVATE: 'webhookAllowPrivate',
  JETJOBS_COMPACT_AFTER_MS: 'compactAfterMs',
  JETJOBS_RETENTION_MAX_AGE_MS: 'retentionMaxAgeMs',
  JETJOBS_RETENTION_MAX_COUNT: 'retentionMaxCount',
  JETJOBS_RETENTION_BY_TYPE: 'retentionByType',
  JETJOBS_RETENTION_INTERVAL_MS: 'retentionIntervalMs',
};

/** CLI flag (kebab-case of the setting, e.g. --nats-url) → setting. */
const FLAGS: Record<string, keyof Config> = Object.fromEntries(
  [...Object.keys(DEFAULTS), 'filesDir', 'cacheDir'].map((k) => [k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()), k as keyof Config]),
);

const NUMERIC = new Set<keyof Config>([
  'port', 'natsPort', 'runningJobCapacity', 'waitingJobCapacity', 'heartbeatMs', 'failureDetectionTimeoutMs',
  'maxTasksPerWorker', 'workerConcurrency', 'taskAckWaitMs', 'taskMaxDeliver', 'retryBackoffMs', 'drainTimeoutMs', 'replicas',
  'tokenTtlMs', 'tokenMaxTtlMs', 'loginRateLimitPerMinute', 'loginRateLimitPerAddressPerMinute', 'rateLimitPerMinute', 'stopGraceMs', 'sseMaxPerUser', 'sseMaxTotal',
  'httpRequestTimeoutMs', 'httpHeadersTimeoutMs', 'httpKeepAliveTimeoutMs', 'httpMaxConnectionsPerAddress',
  'webhookMaxAttempts', 'webhookBackoffMs', 'webhookTimeoutMs', 'compactAfterMs', 'retentionMaxAgeMs', 'retentionMaxCount', 'retentionIntervalMs',
]);
const BOOLEAN = new Set<keyof Config>(['acceptNewStore', 'metricsPublic', 'webhookAllowPrivate']);

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function parseValue(key: keyof Config, raw: string): unknown {
  if (NUMERIC.has(key)) {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${key} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
  }
  if (BOOLEAN.has(key)) {
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${key} must be true or false, got ${JSON.stringify(raw)}`);
    return raw === 'true';
  }
  if (key === 'roles') {
    const roles = raw.split(',').map((r) => r.trim()).filter(Boolean);
    for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new ConfigError(`unknown role ${JSON.stringify(r)} (roles: ${ROLES.join(', ')})`);
    if (roles.length === 0) throw new ConfigError('roles must name at least one role');
    return roles;
  }
  return raw;
}

/** Parses `--flag value` / `--flag=value` arguments. */
export function parseFlags(argv: readonly string[]): Partial<Config> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const key = FLAGS[name];
    if (!key) throw new ConfigError(`unknown flag --${name}`);
    const bare = eq === -1 && key === 'acceptNewStore' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'));
    const value = bare ? 'true' : eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    out[key] = parseValue(key, value);
  }
  return out as Partial<Config>;
}

/** Reads settings from the environment. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): Partial<Config> {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') out[key] = parseValue(key, raw);
  }
  return out as Partial<Config>;
}

/** Defaults < environment < flags < explicit overrides; validated and frozen. */
export function resolveConfig(...layers: Partial<Config>[]): Readonly<Config> {
  const merged = Object.assign({}, DEFAULTS, ...layers) as Config;
  merged.stateDir = path.resolve(merged.stateDir);
  merged.filesDir = path.resolve(merged.filesDir ?? path.join(merged.stateDir, 'files'));
  merged.cacheDir = path.resolve(merged.cacheDir ?? path.join(merged.stateDir, 'cache'));
  const positive: (keyof Config)[] = ['runningJobCapacity', 'waitingJobCapacity', 'heartbeatMs', 'failureDetectionTimeoutMs',
    'maxTasksPerWorker', 'workerConcurrency', 'taskAckWaitMs', 'taskMaxDeliver', 'replicas',
    'tokenTtlMs', 'tokenMaxTtlMs', 'loginRateLimitPerMinute', 'loginRateLimitPerAddressPerMinute', 'rateLimitPerMinute', 'sseMaxPerUser', 'sseMaxTotal',
    'httpRequestTimeoutMs', 'httpHeadersTimeoutMs', 'httpKeepAliveTimeoutMs',
    'webhookMaxAttempts', 'webhookBackoffMs', 'webhookTimeoutMs', 'retentionIntervalMs'];
  for (const k of positive) if (!((merged[k] as number) >= 1)) throw new ConfigError(`${k} must be >= 1`);
  if (merged.port > 65535 || merged.natsPort > 65535) throw new ConfigError('ports must be <= 65535');
  if (merged.failureDetectionTimeoutMs <= merged.heartbeatMs) throw new ConfigError('failureDetectionTimeoutMs must exceed heartbeatMs');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(merged.pool)) throw new ConfigError('pool must be 1-32 of [A-Za-z0-9_-]');
  if (merged.httpHeadersTimeoutMs > merged.httpRequestTimeoutMs) throw new ConfigError('httpHeadersTimeoutMs must not exceed httpRequestTimeoutMs');
  if (merged.tokenTtlMs > merged.tokenMaxTtlMs) throw new ConfigError('tokenTtlMs must not exceed tokenMaxTtlMs');
  if (merged.adminToken !== null && merged.adminToken.length < 32) throw new ConfigError('adminToken must be at least 32 characters');
  if (merged.adminPassword !== null && merged.adminPassword.length < 12) throw new ConfigError('adminPassword must be at least 12 characters');
  parseRetentionByType(merged.retentionByType);
  if (!/^(always|\d+(ms|s|m|h))$/.test(merged.syncInterval)) throw new ConfigError(`syncInterval must be 'always' or a duration like 1s, got ${merged.syncInterval}`);
  return Object.freeze(merged);
}
