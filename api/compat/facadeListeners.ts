/**
 * A facade on the original's own ports: one small Fastify server per listener (Alluxio's job master
 * on 20002, its job worker on 30003, …), with the same HTTP limits, body parsing and rate limits as
 * the API port and the facade's routes at the root paths the original's clients use.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from 'pino';
import { AppError } from '../../engine/index.ts';
import { clientErrorHandlerFor } from '../errorResponses.ts';
import { httpTimeoutOptions, installHttpLimits, type HttpLimitSettings } from '../httpLimits.ts';
import { POISONING_ACTION, registerJsonBodyParser } from '../jsonBody.ts';
import { facadeScope, sendFacadeError, type Facade, type FacadeDeps } from './facade.ts';

/** A facade listener that is up. */
export interface RunningListener {
  /** e.g. `alluxio job master`. */
  name: string;
  url: string;
  close(): Promise<void>;
}

export interface FacadeListenerSettings extends HttpLimitSettings {
  host: string;
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
}

/** Builds the server of one listener (no listen); exported for tests that inject. */
export function buildFacadeListener(facade: Facade, listenerIndex: number, deps: FacadeDeps, settings: FacadeListenerSettings, logger: Logger | false): FastifyInstance {
  const listener = facade.listeners[listenerIndex]!;
  const loggerInstance: FastifyBaseLogger | undefined = logger === false ? undefined : logger.child({ facade: facade.name, listener: listener.name });
  const app = Fastify({
    ...(loggerInstance === undefined ? { logger: false } : { loggerInstance }),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    onProtoPoisoning: POISONING_ACTION,
    onConstructorPoisoning: POISONING_ACTION,
    bodyLimit: settings.bodyLimitBytes,
    return503OnClosing: true,
    // router errors (a bad %-escape, an over-long parameter) in the facade's shape too
    frameworkErrors: (err, request, reply) => sendFacadeError(listener.sendError !== undefined ? { sendError: listener.sendError } : facade, request, reply, err),
    clientErrorHandler: clientErrorHandlerFor(facade.rawErrorShape),
    ...httpTimeoutOptions(settings),
  });
  installHttpLimits(app, settings, facade.rawErrorShape);
  registerJsonBodyParser(app);
  void app.register(async (scoped) => {
    await scoped.register(rateLimit, {
      global: true,
      max: settings.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => `ip:${request.ip}`,
      errorResponseBuilder: (_request, ctx) => new AppError('RATE_LIMITED', `More than ${ctx.max} requests per minute; retry in ${ctx.after}.`),
    });
    await scoped.register(facadeScope(facade, deps, [listener]));
  });
  return app;
}

/** Starts every listener of every facade given; closes those already started if one fails. */
export async function startFacadeListeners(
  facades: readonly Facade[],
  deps: FacadeDeps,
  settings: FacadeListenerSettings,
  logger: Logger | false,
): Promise<RunningListener[]> {
  const running: RunningListener[] = [];
  try {
    for (const facade of facades) {
      for (let i = 0; i < facade.listeners.length; i++) {
        const app = buildFacadeListener(facade, i, deps, settings, logger);
        await app.listen({ host: settings.host, port: facade.listeners[i]!.port });
        const addr = app.server.address();
        const port = addr !== null && typeof addr === 'object' ? addr.port : facade.listeners[i]!.port;
        const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
        running.push({ name: `${facade.name} ${facade.listeners[i]!.name}`, url: `http://${host}:${port}`, close: () => app.close() });
      }
    }
  } catch (err) {
    await Promise.all(running.map((r) => r.close().catch(() => undefined)));
    throw err;
  }
  return running;
}
