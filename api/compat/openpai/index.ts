/**
 * The OpenPAI REST server facade (docs/compat/openpai.md): the seed's v1 paths, the user-scoped v1
 * paths of the PAIV1 SDK and the v2 paths of PAIV2 and the `pai` CLI, on `openpaiPort` (9186) at
 * `/api/...` and `/rest-server/api/...` (the CLI always adds `/rest-server`), and under
 * `/compat/openpai/` on the API port. Jobs are `exec` jobs of the engine, named `user~name` through
 * labels; users, tokens and virtual clusters are the engine's own.
 */
import type { FastifyPluginAsync } from 'fastify';
import { isLoopbackHost } from '../../../engine/index.ts';
import type { Facade, FacadeDeps } from '../facade.ts';
import { registerOpenPaiBodyParsers } from './body.ts';
import type { OpenPaiConfig, OpenPaiContext } from './context.ts';
import { openpaiNotFound, sendOpenPaiError } from './errors.ts';
import { registerInfoRoutes } from './infoRoutes.ts';
import { registerJobRoutes } from './jobRoutes.ts';
import { registerTokenRoutes } from './tokenRoutes.ts';
import { registerUserRoutes } from './userRoutes.ts';
import { registerVirtualClusterRoutes } from './vcRoutes.ts';

/** `auto`: tokenless v1 reads only while both the facade's port and the API port (`/compat/openpai/`) listen on loopback. */
export function openpaiAnonymousReads(config: Pick<OpenPaiConfig, 'openpaiAnonymousReads' | 'facadeHost' | 'host'>): boolean {
  if (config.openpaiAnonymousReads === 'auto') return isLoopbackHost(config.facadeHost) && isLoopbackHost(config.host);
  return config.openpaiAnonymousReads === 'true';
}

function openpaiRoutes(config: OpenPaiConfig): FastifyPluginAsync<FacadeDeps> {
  return async (app, deps) => {
    const { service, identity, documents } = deps;
    if (documents === undefined) throw new Error('the OpenPAI facade needs the document store (engine.documents)');
    const cx: OpenPaiContext = {
      service,
      identity,
      documents,
      ...(deps.taskLogs !== undefined ? { taskLogs: deps.taskLogs } : {}),
      anonymousReads: openpaiAnonymousReads(config),
      memoryLimitMb: config.scriptMemoryLimitMb,
      tokenTtlMs: config.tokenTtlMs,
      tokenMaxTtlMs: config.tokenMaxTtlMs,
      loginRateLimitPerMinute: config.loginRateLimitPerMinute,
      loginRateLimitPerAddressPerMinute: config.loginRateLimitPerAddressPerMinute,
    };
    registerOpenPaiBodyParsers(app);
    for (const prefix of ['', '/rest-server']) {
      await app.register(async (scope) => {
        registerInfoRoutes(scope);
        registerTokenRoutes(scope, cx);
        registerUserRoutes(scope, cx);
        registerVirtualClusterRoutes(scope, cx);
        registerJobRoutes(scope, cx);
      }, { prefix });
    }
  };
}

export function openpaiFacade(config: OpenPaiConfig): Facade {
  return {
    name: 'openpai',
    // OpenPAI's own scheme is bearer tokens; without a header a request is anonymous (auth.ts)
    auth: { mode: 'bearer', optional: true, user: 'openpai', role: 'viewer' },
    listeners: [{ name: 'rest server', port: config.openpaiPort, routes: openpaiRoutes(config) }],
    sendError: sendOpenPaiError,
    notFound: openpaiNotFound,
    // the SDK reads `data.code` of every error body, also those no route wrote
    rawErrorShape: (body) => ({ code: 'UnknownError', message: body.message }),
  };
}
