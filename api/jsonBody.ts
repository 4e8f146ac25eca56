/**
 * The one body parser: `application/json` only (anything else is 415), parsed by Fastify's
 * secure parser, with five additions: an empty body is allowed on routes that say so, a
 * `__proto__` / `constructor.prototype` key is told apart from broken JSON, deep nesting is
 * refused before anything downstream recurses over it, a key written twice in one object is a 400
 * (JSON.parse would keep the last silently), and compressed bodies are a 415 (we do not
 * decompress, so there is no zip bomb to defuse).
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../engine/index.ts';
import { firstDuplicateKey } from './duplicateKeys.ts';

/** What the secure parser does with `__proto__` and `constructor.prototype` keys. */
export const POISONING_ACTION = 'error';

/** Bodies may nest at most this deep (objects and arrays); deeper ones are a 400. */
export const MAX_JSON_DEPTH = 64;

/** Longest part of a duplicated key named in the error message. */
const MAX_KEY_ECHO_CHARS = 64;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route accepts an empty body, with or without `content-type: application/json`. */
    bodyOptional?: boolean;
  }
}

/** True when `value` has objects or arrays nested deeper than `max`. Iterative: no stack overflow. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 1 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.node === null || typeof top.node !== 'object') continue;
    if (top.depth > max) return true;
    for (const child of Object.values(top.node)) {
      if (child !== null && typeof child === 'object') stack.push({ node: child, depth: top.depth + 1 });
    }
  }
  return false;
}

function isWellFormedJson(text: string): boolean {
  try {
    JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    return true;
  } catch {
    return false;
  }
}

/** Replaces Fastify's default parsers (JSON and text/plain) with the JSON parser described above. */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const secureParse = app.getDefaultJsonParser(POISONING_ACTION, POISONING_ACTION);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser<string>('application/json', { parseAs: 'string' }, (request, text, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding is not supported; send the body uncompressed.'));
      return;
    }
    if (text.length === 0) {
      if (request.routeOptions.config.bodyOptional === true) done(null, undefined);
      else done(new AppError('INVALID_JSON', 'The body is empty; send a JSON document.'));
      return;
    }
    secureParse(request, text, (err, value: unknown) => {
      // Fastify reports poisoning as invalid JSON; text that plain JSON.parse accepts was poisoned.
      if (err !== null) {
        done(
          isWellFormedJson(text)
            ? new AppError('VALIDATION_FAILED', 'body has a forbidden __proto__ or constructor.prototype key')
            : new AppError('INVALID_JSON'),
        );
      } else if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
        done(new AppError('VALIDATION_FAILED', `body is nested deeper than ${MAX_JSON_DEPTH} levels`));
      } else {
        const duplicate = firstDuplicateKey(text);
        if (duplicate === undefined) done(null, value);
        else done(new AppError('VALIDATION_FAILED', `body has the key ${JSON.stringify(duplicate.slice(0, MAX_KEY_ECHO_CHARS))} twice in one object`));
      }
    });
  });
}
