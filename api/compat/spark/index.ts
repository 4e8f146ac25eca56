/**
 * The Spark Jobserver facade (docs/compat/spark.md): `/binaries`, `/contexts`, `/jobs`, `/healthz`
 * on `sparkPort` (8090) and under `/compat/spark/`. Jobs are `script` jobs of the engine (an
 * uploaded binary run as a sandboxed process); ids are our job ids (UUIDs, as Spark's); contexts
 * live in the document store; binaries in the object store.
 */
import type { FastifyPluginAsync } from 'fastify';
import { isLoopbackHost, type Config, type FacadeAuthMode } from '../../../engine/index.ts';
import { requireRole, type Facade, type FacadeDeps } from '../facade.ts';
import { registerBinaryRoutes } from './binaryRoutes.ts';
import { registerConfigBodyParser } from './body.ts';
import { registerContextRoutes } from './contextRoutes.ts';
import { createSparkContexts } from './contexts.ts';
import { sendSparkError, sendSuccess, SparkError, sparkNotFound } from './errors.ts';
import { registerJobRoutes } from './jobRoutes.ts';

type SparkConfig = Pick<Config, 'sparkAuth' | 'sparkUser' | 'sparkRole' | 'sparkPort' | 'facadeHost' | 'binaryMaxBytes' | 'scriptMemoryLimitMb' | 'sseMaxPerUser' | 'sseMaxTotal'>;

/** `auto`: no credentials on a loopback facade, HTTP basic beyond it (running uploaded code is remote code execution by design). */
export function sparkAuthMode(config: Pick<Config, 'sparkAuth' | 'facadeHost'>): FacadeAuthMode {
  if (config.sparkAuth !== 'auto') return config.sparkAuth;
  return isLoopbackHost(config.facadeHost) ? 'none' : 'basic';
}

function sparkRoutes(config: SparkConfig): FastifyPluginAsync<FacadeDeps> {
  return async (app, deps) => {
    const { service, documents, binaries, scriptRuntimes } = deps;
    if (documents === undefined || binaries === undefined || scriptRuntimes === undefined) {
      throw new Error('the Spark Jobserver facade needs the document store, the binary store and the script runtimes (engine.documents, engine.binaries, engine.scriptRuntimes)');
    }
    const contexts = createSparkContexts(documents);
    const now = () => new Date().toISOString();
    await app.register(async (scope) => registerBinaryRoutes(scope, { binaries, service, maxBytes: config.binaryMaxBytes }));
    await app.register(async (scope) => {
      registerConfigBodyParser(scope);
      registerContextRoutes(scope, { service, contexts, now });
      registerJobRoutes(scope, { service, binaries, runtimes: scriptRuntimes, contexts, memoryLimitMb: config.scriptMemoryLimitMb, syncMax: { perUser: config.sseMaxPerUser, total: config.sseMaxTotal } });
      scope.get('/healthz', async (request, reply) => {
        requireRole(request.caller, 'viewer');
        const { ready } = await service.readiness();
        if (!ready) throw new SparkError(500, 'Required actors not alive');
        return sendSuccess(reply, 200);
      });
    });
  };
}

export function sparkFacade(config: SparkConfig): Facade {
  return {
    name: 'spark',
    auth: { mode: sparkAuthMode(config), user: config.sparkUser, role: config.sparkRole },
    listeners: [{ name: 'job server', port: config.sparkPort, routes: sparkRoutes(config) }],
    sendError: sendSparkError,
    notFound: sparkNotFound,
    // python-sjsclient reads `status` from every error body, also those no route wrote
    rawErrorShape: (body) => ({ status: 'ERROR', result: body.message }),
  };
}
