/**
 * The user's command-line configuration: contexts (a name → the service URL, the user and the
 * token `login` got) and the current one, in `$XDG_CONFIG_HOME/jetjobs/config.yaml` (default
 * `~/.config/jetjobs/config.yaml`). The file holds tokens: it is written with mode 0600 in a 0700
 * directory, atomically (a temporary file renamed over it), and a token is never read from a file
 * that others may read (as ssh refuses such a key).
 */
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dump, JSON_SCHEMA, load } from 'js-yaml';
import { CliError, NATIVE_EXIT } from '../exitCodes.ts';

/** The environment the configuration's place comes from. */
export interface ConfigEnv {
  XDG_CONFIG_HOME?: string | undefined;
  HOME?: string | undefined;
}

export interface Context {
  /** Service root, e.g. `http://127.0.0.1:8080`. */
  server: string;
  user?: string;
  token?: string;
  /** When the token stops working (ISO time, as login answered it). */
  expiresAt?: string;
}

export interface CliConfig {
  currentContext: string | null;
  contexts: Record<string, Context>;
}

/** Context names: what a person types (`prod`, `staging-eu`). */
export const CONTEXT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const EMPTY: CliConfig = { currentContext: null, contexts: {} };

/** The configuration file's path for this environment. */
export function configPath(env: ConfigEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  // XDG: a relative value is invalid and ignored
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : env.HOME !== undefined && env.HOME !== '' ? join(env.HOME, '.config') : null;
  if (base === null) throw new CliError(NATIVE_EXIT.INVALID_INPUT, 'neither XDG_CONFIG_HOME nor HOME is set: cannot find the configuration file');
  return join(base, 'jetjobs', 'config.yaml');
}

function invalid(path: string, why: string): CliError {
  return new CliError(NATIVE_EXIT.INVALID_INPUT, `${path}: ${why}`);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Parses the file's text (YAML: `current-context`, `contexts: {name: {server, user, token, expires-at}}`). */
export function parseConfig(text: string, path: string): CliConfig {
  // nothing but comments or blank lines: no contexts yet (js-yaml refuses an empty document)
  if (text.split('\n').every((l) => /^\s*(#.*)?$/.test(l))) return structuredClone(EMPTY);
  let doc: unknown;
  try {
    doc = load(text, { schema: JSON_SCHEMA });
  } catch (e) {
    throw invalid(path, `not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (doc === undefined || doc === null) return structuredClone(EMPTY);
  if (typeof doc !== 'object' || Array.isArray(doc)) throw invalid(path, 'expected a mapping with current-context and contexts');
  const d = doc as Record<string, unknown>;
  const contexts: Record<string, Context> = {};
  const raw = d['contexts'] ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(path, 'contexts must be a mapping of name → {server, user, token}');
  for (const [name, c] of Object.entries(raw)) {
    const server = str((c as Record<string, unknown> | null)?.['server']);
    if (!CONTEXT_NAME_RE.test(name) || server === undefined) throw invalid(path, `context ${JSON.stringify(name)} needs a name of letters, digits, . _ - and a server`);
    const o = c as Record<string, unknown>;
    const user = str(o['user']);
    const token = str(o['token']);
    const expiresAt = str(o['expires-at']);
    contexts[name] = { server, ...(user ? { user } : {}), ...(token ? { token } : {}), ...(expiresAt ? { expiresAt } : {}) };
  }
  const current = str(d['current-context']) ?? null;
  return { currentContext: current !== null && current in contexts ? current : null, contexts };
}

export function formatConfig(config: CliConfig): string {
  const contexts = Object.fromEntries(Object.entries(config.contexts).map(([name, c]) => [name, {
    server: c.server, ...(c.user ? { user: c.user } : {}), ...(c.token ? { token: c.token } : {}), ...(c.expiresAt ? { 'expires-at': c.expiresAt } : {}),
  }]));
  return `# jetjobs command line: contexts (docs/cli.md). Holds tokens: keep it mode 0600.\n${dump({ 'current-context': config.currentContext, contexts }, { schema: JSON_SCHEMA, lineWidth: -1 })}`;
}

/**
 * Reads the configuration (empty when there is no file). With `needTokens`, a file that holds a
 * token and that its group or others may read is refused: the token may have leaked, and using it
 * would hide that.
 */
export async function readConfig(path: string, opts: { needTokens: boolean }): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(EMPTY);
    throw invalid(path, `cannot read it: ${(e as Error).message}`);
  }
  const config = parseConfig(text, path);
  if (opts.needTokens && Object.values(config.contexts).some((c) => c.token !== undefined)) {
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) {
      throw invalid(path, `holds tokens but its group or others may read it (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path} (and log in again if others could read it)`);
    }
  }
  return config;
}

/** Writes the configuration: mode 0600 in a 0700 directory, through a temporary file renamed over the old one. */
export async function writeConfig(path: string, config: CliConfig): Promise<void> {
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to what it creates: a directory made before (by hand, by dotfiles) is
  // tightened too, so that others cannot list it or watch the file being replaced
  const { mode } = await stat(dir);
  if ((mode & 0o077) !== 0) await chmod(dir, 0o700);
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.chmod(0o600); // an umask or an old temporary file cannot loosen it
    await file.writeFile(formatConfig(config), 'utf8');
    await file.sync();
  } catch (e) {
    await file.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await file.close();
  await rename(tmp, path);
  await chmod(path, 0o600);
}
