import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths pino must never print (tokens, passwords, credentials in configs and requests). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  '*.password',
  '*.token',
  '*.secret',
  'config.natsUrl',
];

/**
 * The one root logger; children are passed down. Every line carries `name` and this process's `pid`:
 * log another process's id under another key (`serverPid`), or the line has two `pid` keys.
 */
export function createLogger(opts: { level: string; name?: string; destination?: NodeJS.WritableStream }): Logger {
  const family = new Set<WeakRef<Logger>>();
  let added = 0;
  const options: LoggerOptions = {
    level: opts.level,
    name: opts.name ?? 'jetjobs',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    // every descendant (children inherit this hook), so that a level change reaches them all
    onChild: (child) => {
      family.add(new WeakRef(child));
      // request loggers come and go: drop the collected ones now and then
      if (++added % PRUNE_EVERY === 0) for (const ref of family) if (ref.deref() === undefined) family.delete(ref);
    },
  };
  const root = opts.destination ? pino(options, opts.destination as DestinationStream) : pino(options);
  families.set(root, family);
  return root;
}

/** Children created between two sweeps of collected ones. */
const PRUNE_EVERY = 1024;
const families = new WeakMap<Logger, Set<WeakRef<Logger>>>();

/** The log level of a whole process, changeable while it runs (Alluxio's `logLevel` routes). */
export interface LevelControl {
  get(): string;
  /** Sets the level of the root logger and every logger derived from it; throws on an unknown level name. */
  set(level: string): void;
}

export function levelControl(root: Logger): LevelControl {
  return {
    get: () => root.level,
    set(level) {
      if (!Object.hasOwn(root.levels.values, level) && level !== 'silent') throw new RangeError(`unknown log level ${JSON.stringify(level)}`);
      root.level = level;
      for (const ref of families.get(root) ?? []) {
        const child = ref.deref();
        if (child !== undefined) child.level = level;
      }
    },
  };
}

/** A logger that writes nothing (tests, unless LOG_LEVEL asks otherwise). */
export const silentLogger: Logger = pino({ level: 'silent' });
