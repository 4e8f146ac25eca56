/**
 * `login`, `logout`, `whoami` and `context list|use|delete`: contexts in the user's configuration
 * file (configFile.ts). The token is written there and never printed.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { LoginAnswer, UserView } from '../apiTypes.ts';
import { CliError, NATIVE_EXIT, NATIVE_STATUS_EXITS } from '../exitCodes.ts';
import { createHttp } from '../http.ts';
import { CONTEXT_NAME_RE, configPath, readConfig, writeConfig } from './configFile.ts';
import { chosenContext, DEFAULT_URL, sameOrigin } from './connection.ts';
import { durationMs } from './durations.ts';
import { DEFAULT_TIMEOUT_MS, withConnection, withOutput, type NativeContext } from './nativeContext.ts';
import { formatOutput, renderFields, renderTable } from './output.ts';
import { readPassword } from './password.ts';

function contextName(value: string): string {
  if (!CONTEXT_NAME_RE.test(value)) throw new InvalidArgumentError('letters, digits, . _ - (at most 63)');
  return value;
}

/** A context name from a URL's host and port: `127.0.0.1-8080`. */
function nameFor(url: string): string {
  const u = new URL(url);
  return `${u.hostname}${u.port ? `-${u.port}` : ''}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
}

/**
 * The warning to give before a password goes to `url` in clear text: plain `http:` to a host that is
 * not this machine (the service binds to 127.0.0.1 unless configured and speaks plain HTTP: TLS is a proxy's).
 */
export function cleartextWarning(url: string): string | undefined {
  const u = new URL(url);
  if (u.protocol !== 'http:') return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return undefined;
  return `warning: ${u.origin} is plain http: the password and the token cross the network unencrypted (use https:// through a TLS proxy)\n`;
}

export function registerLoginCommands(program: Command, cx: NativeContext): void {
  const { io, env } = cx;
  const path = () => configPath(env);

  program.command('login').exitOverride()
    .description('log in and keep the token in a context of ~/.config/jetjobs/config.yaml (mode 0600); the context becomes the current one')
    .option('--url <url>', 'service root (default: JETJOBS_URL, else the context\'s, else http://127.0.0.1:8080)')
    .option('--context <name>', 'the context to write (default: the current one, else one named after the host)', contextName)
    .option('-u, --user <name>', 'user name (default: the context\'s)')
    .option('--password-stdin', 'read the password from the first line of stdin (default: ask on the terminal)')
    .option('--ttl <duration>', 'token lifetime (12h, 7d; the service caps it)', durationMs)
    .action(async (flags: { url?: string; context?: string; user?: string; passwordStdin?: boolean; ttl?: number }) => {
      const config = await readConfig(path(), { needTokens: false });
      const existing = flags.context !== undefined ? config.contexts[flags.context] : chosenContext(config, {}, env)?.context;
      const url = flags.url ?? (env.JETJOBS_URL || undefined) ?? existing?.server ?? DEFAULT_URL;
      const current = config.currentContext === null ? undefined : config.contexts[config.currentContext];
      const name = flags.context ?? (current !== undefined && sameOrigin(current.server, url) ? config.currentContext! : nameFor(url));
      const user = flags.user ?? existing?.user;
      if (user === undefined) throw new CliError(NATIVE_EXIT.INVALID_INPUT, 'which user? --user <name>');
      const http = createHttp({ url, token: undefined, timeoutMs: DEFAULT_TIMEOUT_MS, exits: NATIVE_STATUS_EXITS });
      const warning = cleartextWarning(url);
      if (warning !== undefined) io.stderr.write(warning);
      const password = await readPassword(io, flags.passwordStdin === true, `Password for ${user} at ${url}: `);
      const answer = await http.call<LoginAnswer>('POST', '/auth/login', { body: { username: user, password, ...(flags.ttl === undefined ? {} : { ttlMs: flags.ttl }) } });
      config.contexts[name] = { server: url, user, token: answer.token, expiresAt: answer.expiresAt };
      config.currentContext = name;
      await writeConfig(path(), config);
      io.stdout.write(`logged in to ${url} as ${answer.user.name} (${answer.user.role}); context ${name}; the token expires at ${answer.expiresAt}\n`);
      cx.setExit(NATIVE_EXIT.OK);
    });

  withConnection(program.command('logout').exitOverride().description("revoke the context's token and forget it"))
    .action(async (flags: { url?: string; token?: string; context?: string }) => {
      const config = await readConfig(path(), { needTokens: true });
      const chosen = chosenContext(config, flags, env);
      if (chosen?.context.token === undefined) throw new CliError(NATIVE_EXIT.INVALID_INPUT, 'not logged in (no token in the context)');
      const http = createHttp({ url: chosen.context.server, token: chosen.context.token, timeoutMs: DEFAULT_TIMEOUT_MS, exits: NATIVE_STATUS_EXITS });
      // an expired or revoked token is logged out already: forget it anyway
      await http.call('POST', '/auth/logout').catch((e: unknown) => {
        if (!(e instanceof CliError) || !/HTTP 401/.test(e.message)) throw e;
      });
      delete chosen.context.token;
      delete chosen.context.expiresAt;
      await writeConfig(path(), config);
      io.stdout.write(`logged out of ${chosen.context.server} (context ${chosen.name})\n`);
      cx.setExit(NATIVE_EXIT.OK);
    });

  withOutput(withConnection(program.command('whoami').exitOverride().description('the user the token acts as, and its role')))
    .action(async (flags: Parameters<NativeContext['connect']>[0] & { output: 'table' | 'json' | 'yaml' | 'ndjson' }) => {
      const me = await (await cx.connect(flags)).call<UserView>('GET', '/auth/me');
      io.stdout.write(formatOutput(me, flags.output, () => renderFields([['user', me.name], ['role', me.role], ['virtual clusters', me.virtualClusters.join(', ')]])));
      cx.setExit(NATIVE_EXIT.OK);
    });

  const context = program.command('context').exitOverride().description('the contexts (service, user, token) of the configuration file');
  context.command('list').exitOverride().description('every context; * marks the current one').action(async () => {
    const config = await readConfig(path(), { needTokens: false });
    const rows = Object.entries(config.contexts).map(([name, c]) => [
      name === config.currentContext ? '*' : '', name, c.server, c.user ?? '-', c.token === undefined ? 'no' : `until ${c.expiresAt ?? '?'}`,
    ]);
    io.stdout.write(renderTable(['CURRENT', 'NAME', 'SERVER', 'USER', 'TOKEN'], rows));
    cx.setExit(NATIVE_EXIT.OK);
  });
  context.command('use <name>').exitOverride().description('make a context the current one').action(async (name: string) => {
    const config = await readConfig(path(), { needTokens: false });
    if (config.contexts[name] === undefined) throw new CliError(NATIVE_EXIT.NOT_FOUND, `no context ${JSON.stringify(name)} (jetjobs context list)`);
    config.currentContext = name;
    await writeConfig(path(), config);
    io.stdout.write(`current context: ${name} (${config.contexts[name].server})\n`);
    cx.setExit(NATIVE_EXIT.OK);
  });
  context.command('delete <name>').exitOverride().description('forget a context and its token (the token is not revoked: jetjobs logout first)').action(async (name: string) => {
    const config = await readConfig(path(), { needTokens: false });
    if (config.contexts[name] === undefined) throw new CliError(NATIVE_EXIT.NOT_FOUND, `no context ${JSON.stringify(name)}`);
    delete config.contexts[name];
    if (config.currentContext === name) config.currentContext = null;
    await writeConfig(path(), config);
    io.stdout.write(`deleted context ${name}\n`);
    cx.setExit(NATIVE_EXIT.OK);
  });
}
