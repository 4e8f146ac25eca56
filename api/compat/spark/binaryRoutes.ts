/**
 * `/binaries` (clients.md §3.2): upload by content type (Spark's four plus our
 * `application/javascript`), streamed into the binary store under the upload limit (never held
 * whole in memory), list, info, delete (refused while a job that is not finished uses it).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { AppError, BINARY_NAME_RE, BINARY_TYPES, SYSTEM_CALLER, baseContentType, isAppError, type BinaryInfo, type BinaryStore, type JobService } from '../../../engine/index.ts';
import { requireRole } from '../facade.ts';
import { SparkError, sendSuccess } from './errors.ts';
import { activeScriptJobs } from './jobQueries.ts';
import { postOrDelete } from './query.ts';

/** The ZIP local file header every jar, egg and wheel starts with (Spark's JarUtils.binaryIsZip). */
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export interface BinaryRouteOptions {
  binaries: BinaryStore;
  service: JobService;
  maxBytes: number;
}

/** Spark's `upload-time`: an instant with milliseconds (`2016-06-19T16:27:12.196Z`). */
export const sparkInstant = (iso: string): string => new Date(iso).toISOString();

const binaryType = (info: BinaryInfo): string => BINARY_TYPES[baseContentType(info.contentType)]?.sparkType ?? info.contentType;

export function checkAppName(name: string): string {
  if (!BINARY_NAME_RE.test(name)) throw new SparkError(400, `binary names are 1-128 of letters, digits and '._-', starting with a letter or digit: ${JSON.stringify(name.slice(0, 80))}`);
  return name;
}

export function registerBinaryRoutes(app: FastifyInstance, opts: BinaryRouteOptions): void {
  const { binaries, service } = opts;
  // the upload body is the request stream itself, read by the store a chunk at a time
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void) => done(null, payload));

  app.get('/binaries', async (request, reply) => {
    requireRole(request.caller, 'viewer');
    const out: Record<string, { 'binary-type': string; 'upload-time': string }> = {};
    for (const b of await binaries.list()) out[b.name] = { 'binary-type': binaryType(b), 'upload-time': sparkInstant(b.uploadedAt) };
    return reply.type('application/json').send(out);
  });

  app.get<{ Params: { name: string } }>('/binaries/:name', async (request, reply) => {
    requireRole(request.caller, 'viewer');
    const info = BINARY_NAME_RE.test(request.params.name) ? await binaries.info(request.params.name) : undefined;
    if (info === undefined) throw new SparkError(404, `Can't find binary with name ${request.params.name}`);
    return reply.type('application/json').send({ 'app-name': info.name, 'binary-type': binaryType(info), 'upload-time': sparkInstant(info.uploadedAt) });
  });

  app.post<{ Params: { name: string }; Querystring: Record<string, string> }>('/binaries/:name', async (request, reply) => {
    if (postOrDelete(request.query) === 'DELETE') return remove(request, reply);
    // whatever happens below, do not read an unread body to its end: close the connection after answering
    reply.header('connection', 'close');
    requireRole(request.caller, 'operator');
    const name = checkAppName(request.params.name);
    const raw = request.headers['content-type'] ?? '';
    const type = BINARY_TYPES[baseContentType(raw)];
    if (type === undefined) throw new SparkError(415, `Unsupported binary type ${raw === '' ? 'application/octet-stream' : raw}`);
    const body = request.body as IncomingMessage | undefined;
    if (body === undefined) throw new SparkError(400, 'Binary is not of the right format');
    // a replace puts code under a name others' jobs run: only its uploader (or an admin) may
    const existing = await binaries.info(name);
    if (existing !== undefined && request.caller.role !== 'admin' && existing.uploadedBy !== request.caller.user) {
      throw new SparkError(403, `Binary ${name} was uploaded by another user; only they or an admin may replace it`);
    }
    try {
      await binaries.put(name, { contentType: baseContentType(raw), source: checkedFormat(body, type.runtime !== 'node'), maxBytes: opts.maxBytes, uploadedBy: request.caller.user });
    } catch (err) {
      if (isAppError(err, 'BODY_TOO_LARGE')) throw new SparkError(413, `The binary is larger than the ${opts.maxBytes} bytes allowed (binaryMaxBytes)`);
      throw err;
    }
    reply.removeHeader('connection');
    return sendSuccess(reply, 201);
  });

  async function remove(request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): Promise<FastifyReply> {
    requireRole(request.caller, 'operator');
    const name = request.params.name;
    const info = BINARY_NAME_RE.test(name) ? await binaries.info(name) : undefined;
    if (info === undefined) throw new SparkError(404, `can't find binary with name ${name}`);
    if (request.caller.role !== 'admin' && info.uploadedBy !== request.caller.user) {
      throw new SparkError(403, `Binary ${name} was uploaded by another user; only they or an admin may delete it`);
    }
    const using = (await activeScriptJobs(service, SYSTEM_CALLER)).filter((j) => (j.spec as { binary?: string }).binary === name);
    if (using.length > 0) throw new SparkError(403, `Binary is in use by job(s): ${using.map((j) => j.id).join(', ')}`);
    if (!(await binaries.delete(name))) throw new SparkError(404, `can't find binary with name ${name}`);
    return sendSuccess(reply, 200);
  }
  app.delete<{ Params: { name: string } }>('/binaries/:name', remove);
}

/** Passes the body on, refusing (400, nothing stored) an empty one or, for archives, one that is not a ZIP. */
async function* checkedFormat(source: AsyncIterable<Buffer>, zip: boolean): AsyncGenerator<Uint8Array> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of source) {
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < ZIP_MAGIC.length) continue;
    if (zip && !head.subarray(0, ZIP_MAGIC.length).equals(ZIP_MAGIC)) throw notRightFormat();
    yield head;
    head = undefined;
  }
  if (head !== undefined) {
    if (head.length === 0 || zip) throw notRightFormat();
    yield head;
  }
}

const notRightFormat = (): AppError => new SparkError(400, 'Binary is not of the right format');
