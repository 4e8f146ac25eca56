/**
 * Spark Jobserver reads the body of `POST /jobs` and `POST /contexts/:name` as Typesafe config text
 * whatever the content type (python-sjsclient sends none): here every content type is read as text
 * (at most MAX_CONFIG_BODY_BYTES) and parsed as HOCON (hocon.ts: JSON is HOCON).
 */
import type { FastifyInstance } from 'fastify';
import { HoconError, parseHocon } from './hocon.ts';
import { SparkError } from './errors.ts';

/** A job config body larger than this is 413 (the stored config is capped at 256 KiB anyway). */
export const MAX_CONFIG_BODY_BYTES = 1024 * 1024;

export function registerConfigBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_CONFIG_BODY_BYTES }, (request, text, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      done(new SparkError(415, 'Content-Encoding is not supported; send the config uncompressed'));
      return;
    }
    done(null, text);
  });
}

/** The config text of a request as an object; `{}` for no body. 400 `Cannot parse config: …` when it is not HOCON. */
export function parseConfigBody(body: unknown): Record<string, unknown> {
  const text = typeof body === 'string' ? body : '';
  if (text.trim() === '') return {};
  try {
    return parseHocon(text);
  } catch (err) {
    if (err instanceof HoconError) throw new SparkError(400, `Cannot parse config: ${err.message}`);
    throw err;
  }
}

/** A dotted path of a parsed config (`spark.context-settings`), or undefined. */
export function configPath(config: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = config;
  for (const key of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
