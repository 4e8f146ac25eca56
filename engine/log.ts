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
  const options: LoggerOptions = {
    level: opts.level,
    name: opts.name ?? 'jetjobs',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return opts.destination ? pino(options, opts.destination as DestinationStream) : pino(options);
}

/** A logger that writes nothing (tests, unless LOG_LEVEL asks otherwise). */
export const silentLogger: Logger = pino({ level: 'silent' });
