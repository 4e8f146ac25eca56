/**
 * Serves the web dashboard (dashboard/, built by scripts/buildDashboard.ts into `.cache/dashboard/`) under
 * `/ui/`: the built files from memory, by exact name (no request text ever becomes a path), and
 * `index.html` for every other path under `/ui/` so that deep links (`/ui/jobs/<id>`) load the app.
 * The files are public, like `/docs`: they hold no data; every figure the app shows comes from the
 * API with the user's bearer token. A strict Content-Security-Policy allows only this origin's own
 * scripts, styles and API. Without a build, `/ui/` answers 503 with how to build it; the API is
 * unaffected.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type {} from './auth.ts';

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/ui';
/** Where scripts/buildDashboard.ts writes the build (gitignored, like the rest of `.cache/`). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../.cache/dashboard', import.meta.url));

/** Only this origin's own files and API; no inline script or style, no frames, no plugins. */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "manifest-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.map': 'application/json',
};

/** Built files whose names carry a content hash (`assets/app-3FJ2K.js`): cached for a year. */
const HASHED = /^assets\/[^/]+-[A-Z0-9]{8,}\.[a-z]+$/;

interface Built {
  files: Map<string, { body: Buffer; type: string }>;
  indexMtimeMs: number;
}

/** Options of {@link dashboardRoutes}. */
export interface DashboardOptions {
  /** The build's directory (holding `index.html` and `assets/`). */
  dir: string;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(p)));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

/** The build in memory, or undefined when there is none. */
async function load(dir: string): Promise<Built | undefined> {
  let indexMtimeMs: number;
  try {
    indexMtimeMs = (await stat(join(dir, 'index.html'))).mtimeMs;
  } catch {
    return undefined;
  }
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const p of await walk(dir)) {
    const type = TYPES[extname(p)];
    if (type === undefined) continue;
    files.set(relative(dir, p).split(sep).join('/'), { body: await readFile(p), type });
  }
  return { files, indexMtimeMs };
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>jetjobs dashboard not built</title></head>
<body><main><h1>The dashboard is not built</h1>
<p><code>npm start</code> and <code>npm test</code> build it (scripts/setup.sh); to build it alone, run
<code>node --import tsx scripts/buildDashboard.ts</code> in the project, then reload this page.</p>
<p>The API works without it: <a href="/docs">/docs</a>.</p></main></body></html>`;

/** Registers `/`, `/ui` and `/ui/*`; mount without a prefix. */
export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, { dir }) => {
  let built: Built | undefined;
  /** The build, reloaded when `index.html` changed (a rebuild while the server runs). */
  async function current(): Promise<Built | undefined> {
    const mtime = await stat(join(dir, 'index.html')).then((s) => s.mtimeMs, () => undefined);
    if (mtime === undefined) return (built = undefined);
    if (built === undefined || built.indexMtimeMs !== mtime) built = await load(dir);
    return built;
  }
  const route = { config: { auth: 'public' as const }, schema: { hide: true }, logLevel: 'warn' as const };
  const send = (reply: FastifyReply, status: number, type: string, body: Buffer | string, cache: string) =>
    reply.code(status).headers({ ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cache }).send(body);

  app.get('/', route, async (_request, reply) => reply.redirect(`${DASHBOARD_PATH}/`, 302));
  app.get(DASHBOARD_PATH, route, async (_request, reply) => reply.redirect(`${DASHBOARD_PATH}/`, 301));
  app.get<{ Params: { '*': string } }>(`${DASHBOARD_PATH}/*`, route, async (request, reply) => {
    const b = await current();
    if (b === undefined) return send(reply, 503, TYPES['.html']!, NOT_BUILT, 'no-store');
    const name = request.params['*'];
    const file = name === 'index.html' ? undefined : b.files.get(name);
    if (file !== undefined) return send(reply, 200, file.type, file.body, HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache');
    // a missing asset is a 404, not the app: a stale page asking for an old bundle should fail plainly
    if (name.startsWith('assets/')) return send(reply, 404, 'text/plain; charset=utf-8', 'not found', 'no-store');
    const index = b.files.get('index.html')!;
    return send(reply, 200, index.type, index.body, 'no-cache');
  });
};
