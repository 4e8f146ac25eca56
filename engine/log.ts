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
  const family: Family = { members: [], sealed: false };
  const options: LoggerOptions = {
    level: opts.level,
    name: opts.name ?? 'jetjobs',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    // every descendant made while the process starts (children inherit this hook), so that a level
    // change reaches the long-lived loggers; after seal() (once serving) it costs one check per child
    onChild: (child) => {
      if (!family.sealed) family.members.push(new WeakRef(child));
    },
  };
  const root = opts.destination ? pino(options, opts.destination as DestinationStream) : pino(options);
  families.set(root, family);
  return root;
}

interface Family {
  members: WeakRef<Logger>[];
  sealed: boolean;
}
const families = new WeakMap<Logger, Family>();

/** The log level of a whole process, changeable while it runs (Alluxio's `logLevel` routes). */
export interface LevelControl {
  get(): string;
  /**
   * Sets the level of the root logger and of every logger derived from it before `seal()`; loggers
   * derived later take their parent's level when they are made (a request's logger, the API's).
   * Throws on an unknown level name.
   */
  set(level: string): void;
  /**
   * Stops remembering new loggers: call once the process serves (per-request loggers come and go;
   * remembering each would cost more than the request). Idempotent.
   */
  seal(): void;
}

export function levelControl(root: Logger): LevelControl {
  const family = families.get(root);
  return {
    get: () => root.level,
    set(level) {
      if (!Object.hasOwn(root.levels.values, level) && level !== 'silent') throw new RangeError(`unknown log level ${JSON.stringify(level)}`);
      root.level = level;
      for (const ref of family?.members ?? []) {
        const child = ref.deref();
        if (child !== undefined) child.level = level;
      }
    },
    seal() {
      if (family === undefined || family.sealed) return;
      family.sealed = true;
      family.members = family.members.filter((ref) => ref.deref() !== undefined);
    },
  };
}

/** A logger that writes nothing (tests, unless LOG_LEVEL asks otherwise). */
export const silentLogger: Logger = pino({ level: 'silent' });
