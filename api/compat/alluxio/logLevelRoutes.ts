/**
 * `POST /api/v1/job_master/logLevel` and `/api/v1/job_worker/logLevel` (`logName`, `level`): read
 * or change the log level live, answering Alluxio's LogInfo `{logName, level, message}`
 * (alluxio.util.LogUtils). Ours has one level per process, not one per logger: any non-blank
 * `logName` names the whole process that serves the request (the API process), and the answer says
 * so. Levels are log4j's names (ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF). Reading needs
 * operator; changing needs admin (a level of OFF silences the process, ALL floods its log: under
 * the default `none` auth every local client is the facade user, an operator).
 */
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../../engine/index.ts';
import { requireRole, type FacadeDeps } from '../facade.ts';

const PINO_BY_LOG4J: Readonly<Record<string, string>> = {
  ALL: 'trace', TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'fatal', OFF: 'silent',
};
const LOG4J_BY_PINO: Readonly<Record<string, string>> = {
  trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL', silent: 'OFF',
};

function one(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown>)[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s : undefined;
}

/** The route under `/api/v1/<component>/logLevel` (`job_master` or `job_worker`). */
export function alluxioLogLevelRoutes(component: 'job_master' | 'job_worker'): FastifyPluginAsync<FacadeDeps> {
  return async (app, deps) => {
    app.post(`/api/v1/${component}/logLevel`, async (request, reply) => {
      requireRole(request.caller, 'operator');
      const logName = one(request.query, 'logName');
      const level = one(request.query, 'level');
      if (logName === undefined || logName.trim() === '') {
        return reply.type('application/json').send(JSON.stringify({ logName: null, level: null, message: 'Please specify a correct logName.' }));
      }
      const control = deps.levels;
      if (control === undefined) throw new AppError('UNAVAILABLE', 'this process cannot change its log level');
      let message: string | null = null;
      if (level !== undefined) {
        const pinoLevel = PINO_BY_LOG4J[level.toUpperCase()];
        if (pinoLevel === undefined) throw new AppError('VALIDATION_FAILED', `Bad level : ${level.slice(0, 32)}`);
        requireRole(request.caller, 'admin');
        // logged before the change, so a change to OFF is still on record
        request.log.warn({ logName: logName.slice(0, 128), from: control.get(), level: pinoLevel, by: request.caller.user }, 'log level changed through the Alluxio facade');
        control.set(pinoLevel);
        message = `Setting Level to ${level.toUpperCase()} (for the whole process: jetjobs has one level per process)`;
      }
      return reply.type('application/json').send(JSON.stringify({ logName: logName.slice(0, 512), level: LOG4J_BY_PINO[control.get()] ?? control.get().toUpperCase(), message }));
    });
  };
}
