/**
 * What OpenPAI's server read (express.js at the seed's commit): JSON, urlencoded forms with qs
 * bracket notation (`bodyParser.urlencoded({extended: true})`: the PAIV1 SDK's submit and every
 * token login) and `text/*` for protocol-v2 YAML (`bodyParser.text`, 100 kB). JSON comes from the
 * listener's own parser (api/jsonBody.ts); the other two are added here, for the facade's routes only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PaiError } from './errors.ts';
import { parseV1Form } from './v1Config.ts';

/** body-parser's default `text` limit, which the original kept: a larger protocol is 413. */
export const MAX_TEXT_BODY_BYTES = 100 * 1024;
/** A form is a v1 job config or a login: far below this. */
export const MAX_FORM_BODY_BYTES = 1024 * 1024;

function refuseEncoding(request: FastifyRequest): PaiError | null {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || encoding.toLowerCase() === 'identity') return null;
  return PaiError.of(415, 'InvalidParametersError', 'InvalidParametersError', 'Content-Encoding is not supported; send the body uncompressed.');
}

export function registerOpenPaiBodyParsers(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_FORM_BODY_BYTES }, (request, text, done) => {
    const refused = refuseEncoding(request);
    if (refused !== null) return done(refused);
    try {
      done(null, parseV1Form(text as string));
    } catch (err) {
      done(err as Error);
    }
  });
  app.addContentTypeParser(/^text\//i, { parseAs: 'string', bodyLimit: MAX_TEXT_BODY_BYTES }, (request, text, done) => {
    const refused = refuseEncoding(request);
    if (refused !== null) return done(refused);
    done(null, text);
  });
}
