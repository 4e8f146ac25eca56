/**
 * Limits of the HTTP transport, so a slow or greedy client cannot hold connections forever:
 * headers, request and keep-alive timeouts (Node reports an expired request through `clientError`,
 * answered 408 in our shape by errorResponses.ts), a cap on open connections per client address,
 * and the HTTP-level refusals Node would otherwise answer with an empty body (an HTTP/1.1 request
 * without Host, CONNECT, an unknown Expect).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AppError, type Config } from '../engine/index.ts';
import { errorBody, rawErrorResponse, RETRY_AFTER_SECONDS, statusErrorBody, type RawErrorShape } from './errorResponses.ts';

/** The settings this module reads (defaults: engine/config.ts DEFAULTS). */
export type HttpLimitSettings = Pick<Config, 'httpRequestTimeoutMs' | 'httpHeadersTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'httpMaxConnectionsPerAddress'>;

/** How long a refused connection stays open to read out what the client sends, so our answer is not lost to a reset. */
export const REFUSED_LINGER_MS = 1000;

/** Throws a TypeError for settings Node would refuse or that would turn a limit off by accident. */
export function validateHttpLimits(s: HttpLimitSettings): void {
  for (const key of ['httpRequestTimeoutMs', 'httpHeadersTimeoutMs', 'httpKeepAliveTimeoutMs'] as const) {
    if (!Number.isSafeInteger(s[key]) || s[key] < 1) throw new TypeError(`${key} must be a positive integer, got ${s[key]}`);
  }
  if (!Number.isSafeInteger(s.httpMaxConnectionsPerAddress) || s.httpMaxConnectionsPerAddress < 0) {
    throw new TypeError(`httpMaxConnectionsPerAddress must be an integer >= 0, got ${s.httpMaxConnectionsPerAddress}`);
  }
  if (s.httpHeadersTimeoutMs > s.httpRequestTimeoutMs) throw new TypeError('httpHeadersTimeoutMs must not exceed httpRequestTimeoutMs');
}

/**
 * The Fastify options carrying the timeouts. Node enforces the headers and request timeouts with a
 * periodic check (30 s apart by default, which would double a short timeout): it runs here at a
 * quarter of the shorter one, at most once a second.
 */
export function httpTimeoutOptions(s: HttpLimitSettings) {
  const checkEveryMs = Math.min(1000, Math.max(10, Math.floor(Math.min(s.httpRequestTimeoutMs, s.httpHeadersTimeoutMs) / 4)));
  return {
    requestTimeout: s.httpRequestTimeoutMs,
    keepAliveTimeout: s.httpKeepAliveTimeoutMs,
    http: {
      // Also given here: Node checks headersTimeout <= requestTimeout when it builds the server.
      requestTimeout: s.httpRequestTimeoutMs,
      headersTimeout: s.httpHeadersTimeoutMs,
      connectionsCheckingInterval: checkEveryMs,
      // Node's own Host check answers with an empty body; installHttpLimits answers in our shape.
      requireHostHeader: false,
    },
  };
}

/** Answers a connection we will not serve and closes it, reading out the client's input meanwhile. */
function refuse(socket: Socket, response: string, lingering: Set<Socket>): void {
  lingering.add(socket);
  socket.once('close', () => lingering.delete(socket));
  socket.on('error', () => undefined); // a reset while we answer is the client's business
  socket.on('end', () => socket.destroy());
  socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
  socket.resume(); // closing with unread input would reset the connection and lose the answer
  socket.end(response);
}

/**
 * Caps open connections per client address (the socket's, as the rate limits use). Node's own
 * connection listener is wrapped, so a connection over the cap never reaches the HTTP parser and
 * no request on it runs: it is answered 429 and closed. Returns the refused sockets still open.
 */
function limitConnectionsPerAddress(server: Server, maxPerAddress: number, shape?: RawErrorShape): Set<Socket> {
  const open = new Map<string, number>();
  const refused = new Set<Socket>();
  const tooMany = rawErrorResponse(
    errorBody(new AppError('RATE_LIMITED', `Too many open connections from your address (at most ${maxPerAddress}); reuse or close one.`)),
    { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    shape,
  );
  const serve = server.listeners('connection') as ((this: Server, socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined) {
      socket.destroy(); // closed before we saw it
      return;
    }
    const n = open.get(address) ?? 0;
    if (n >= maxPerAddress) {
      refuse(socket, tooMany, refused);
      return;
    }
    open.set(address, n + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
    for (const listener of serve) listener.call(server, socket);
  });
  return refused;
}

/**
 * Installs the limits on a server built with {@link httpTimeoutOptions}: the Host check (before
 * authentication, so it comes first), the per-address cap (unless 0), and JSON answers for CONNECT
 * and unknown expectations. Register before any other hook.
 */
export function installHttpLimits(app: FastifyInstance, s: HttpLimitSettings, shape?: RawErrorShape): void {
  app.addHook('onRequest', async (request, reply) => {
    const { httpVersionMajor, httpVersionMinor } = request.raw;
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400; such a client gets no second try on this connection.
    if (httpVersionMajor === 1 && httpVersionMinor >= 1 && request.headers.host === undefined) {
      reply.header('connection', 'close');
      throw new AppError('VALIDATION_FAILED', 'An HTTP/1.1 request must carry a Host header.');
    }
  });
  const lingering = s.httpMaxConnectionsPerAddress > 0 ? limitConnectionsPerAddress(app.server, s.httpMaxConnectionsPerAddress, shape) : new Set<Socket>();
  app.server.on('connect', (_req, socket: Socket) =>
    refuse(socket, rawErrorResponse(errorBody(new AppError('METHOD_NOT_ALLOWED', 'CONNECT is not supported.')), {}, shape), lingering),
  );
  app.server.on('checkExpectation', (_req, res) => {
    const body = statusErrorBody(417, 'VALIDATION_FAILED', 'Only Expect: 100-continue is supported.');
    const json = JSON.stringify(shape === undefined ? body : shape(body));
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), connection: 'close' }).end(json);
  });
  // Refused connections would hold close() for up to REFUSED_LINGER_MS.
  app.addHook('preClose', async () => {
    for (const socket of lingering) socket.destroy();
  });
}
