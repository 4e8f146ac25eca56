/**
 * Teraslice reads `application/json` and `application/x-www-form-urlencoded` bodies alike as JSON
 * (that is why `curl -d@job.json` works); a body it cannot parse is 400 `the json submitted is
 * malformed`. Any other content type is read as no body. Parsing keeps the native parser's guards:
 * `__proto__`/`constructor.prototype` keys and nesting deeper than MAX_JSON_DEPTH are refused.
 */
import type { FastifyInstance } from 'fastify';
import { MAX_JSON_DEPTH, nestedDeeperThan, POISONING_ACTION } from '../../jsonBody.ts';
import { TerasliceError } from './errors.ts';

const malformed = () => new TerasliceError(400, 'the json submitted is malformed');

/** Replaces the scope's body parsers (this plugin's routes only: Fastify encapsulates them). */
export function registerTerasliceBodyParser(app: FastifyInstance): void {
  const secureParse = app.getDefaultJsonParser(POISONING_ACTION, POISONING_ACTION);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser<string>(['application/json', 'application/x-www-form-urlencoded'], { parseAs: 'string' }, (request, text, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      done(new TerasliceError(415, 'Content-Encoding is not supported; send the body uncompressed.', 'UNSUPPORTED_MEDIA_TYPE'));
      return;
    }
    if (text.trim().length === 0) {
      done(null, undefined);
      return;
    }
    secureParse(request, text, (err, value: unknown) => {
      if (err !== null) done(malformed());
      else if (nestedDeeperThan(value, MAX_JSON_DEPTH)) done(new TerasliceError(400, `the json submitted is nested deeper than ${MAX_JSON_DEPTH} levels`));
      else done(null, value);
    });
  });
  // anything else: no body, as the original's body parsers leave it
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
}
