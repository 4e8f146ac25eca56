/**
 * Which service a command talks to, and with which token: a flag wins over an environment variable,
 * which wins over the context (`--context`, else `JETJOBS_CONTEXT`, else the current one), which wins
 * over the default URL. A context's token goes only to that context's own server: a URL given by a
 * flag or the environment gets the token of a flag or the environment, never a stored one.
 */
import { CliError, NATIVE_EXIT } from '../exitCodes.ts';
import { configPath, readConfig, type CliConfig, type ConfigEnv, type Context } from './configFile.ts';

/** Where the service is when nothing says. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The environment variables the command line reads (the launcher passes them; nothing else reads `process.env`). */
export interface CliEnv extends ConfigEnv {
  /** The service root (the `job` commands read it too). */
  JETJOBS_URL?: string | undefined;
  JETJOBS_TOKEN?: string | undefined;
  /** The context to use instead of the current one. */
  JETJOBS_CONTEXT?: string | undefined;
}

export interface ConnectionFlags {
  url?: string;
  token?: string;
  context?: string;
}

export interface Connection {
  url: string;
  token: string | undefined;
  /** The context the URL or token came from, if one did. */
  context: string | null;
  /** Where the URL came from, for messages. */
  urlFrom: 'flag' | 'env' | 'context' | 'default';
}

/** The context a command names (flag, then environment, then the current one), or null. */
export function chosenContext(config: CliConfig, flags: ConnectionFlags, env: CliEnv): { name: string; context: Context } | null {
  const named = flags.context ?? (env.JETJOBS_CONTEXT !== undefined && env.JETJOBS_CONTEXT !== '' ? env.JETJOBS_CONTEXT : undefined);
  if (named !== undefined) {
    const context = config.contexts[named];
    if (context === undefined) throw new CliError(NATIVE_EXIT.NOT_FOUND, `no context ${JSON.stringify(named)} (jetjobs context list; jetjobs login --context ${named} --url …)`);
    return { name: named, context };
  }
  const current = config.currentContext;
  return current === null ? null : { name: current, context: config.contexts[current]! };
}

/** Resolves the connection; reads the configuration only when a flag or the environment leaves something open. */
export async function resolveConnection(flags: ConnectionFlags, env: CliEnv): Promise<Connection> {
  const envUrl = env.JETJOBS_URL !== undefined && env.JETJOBS_URL !== '' ? env.JETJOBS_URL : undefined;
  const envToken = env.JETJOBS_TOKEN !== undefined && env.JETJOBS_TOKEN !== '' ? env.JETJOBS_TOKEN : undefined;
  const explicitUrl = flags.url ?? envUrl;
  const explicitToken = flags.token ?? envToken;
  if (explicitUrl !== undefined && explicitToken !== undefined && flags.context === undefined) {
    return { url: explicitUrl, token: explicitToken, context: null, urlFrom: flags.url !== undefined ? 'flag' : 'env' };
  }
  const config = await readConfig(configPath(env), { needTokens: explicitToken === undefined });
  const chosen = chosenContext(config, flags, env);
  if (explicitUrl !== undefined) {
    const sameServer = chosen !== null && sameOrigin(chosen.context.server, explicitUrl);
    const token = explicitToken ?? (sameServer ? chosen.context.token : undefined);
    return { url: explicitUrl, token, context: sameServer ? chosen.name : null, urlFrom: flags.url !== undefined ? 'flag' : 'env' };
  }
  if (chosen !== null) {
    return { url: chosen.context.server, token: explicitToken ?? chosen.context.token, context: chosen.name, urlFrom: 'context' };
  }
  return { url: DEFAULT_URL, token: explicitToken, context: null, urlFrom: 'default' };
}

/** Two service roots with the same scheme, host and port (a trailing slash or path aside). */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
