/** The configuration file: where it is, what it holds, written 0600 atomically, refused when others may read its tokens. */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { configPath, parseConfig, readConfig, writeConfig } from '../../../../cli/native/configFile.ts';
import { resolveConnection } from '../../../../cli/native/connection.ts';
import { CliError, NATIVE_EXIT } from '../../../../cli/exitCodes.ts';

it('lives under XDG_CONFIG_HOME when it is absolute, else ~/.config', () => {
  assert.equal(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/home/a' }), '/x/jetjobs/config.yaml');
  assert.equal(configPath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/a' }), '/home/a/.config/jetjobs/config.yaml');
  assert.throws(() => configPath({}), (e: unknown) => e instanceof CliError && e.exitCode === NATIVE_EXIT.INVALID_INPUT);
});

it('round-trips contexts through a 0600 file in a 0700 directory, leaving no temporary file', async () => {
  const home = await mkdtemp(join(tmpdir(), 'jj-cfg-'));
  const path = join(home, 'jetjobs', 'config.yaml');
  const config = { currentContext: 'prod', contexts: { prod: { server: 'https://jobs.example.com', user: 'ann', token: 'jjt_x', expiresAt: '2026-12-06T00:00:00.000Z' }, dev: { server: 'http://127.0.0.1:8080' } } };
  await writeConfig(path, config);
  assert.deepEqual(await readConfig(path, { needTokens: true }), config);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(home, 'jetjobs'))).mode & 0o777, 0o700);
  assert.deepEqual(await readdir(join(home, 'jetjobs')), ['config.yaml']);
  await chmod(path, 0o640);
  await assert.rejects(readConfig(path, { needTokens: true }), /group or others may read it \(mode 640\)/);
  assert.equal((await readConfig(path, { needTokens: false })).currentContext, 'prod', 'without a token to read, the mode does not matter');
});

it('tightens a configuration directory made before with a looser mode to 0700', async () => {
  const home = await mkdtemp(join(tmpdir(), 'jj-cfg-'));
  try {
    await mkdir(join(home, 'jetjobs'), { mode: 0o755 });
    await chmod(join(home, 'jetjobs'), 0o755);
    await writeConfig(join(home, 'jetjobs', 'config.yaml'), { currentContext: null, contexts: { dev: { server: 'http://127.0.0.1:8080', token: 'jjt_x' } } });
    assert.equal((await stat(join(home, 'jetjobs'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(home, 'jetjobs', 'config.yaml'))).mode & 0o777, 0o600);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

it('refuses a file that is not a mapping of contexts, naming the file', () => {
  assert.throws(() => parseConfig('contexts: [a]', '/c.yaml'), /\/c\.yaml: contexts must be a mapping/);
  assert.throws(() => parseConfig('contexts:\n  prod: {user: ann}', '/c.yaml'), /needs a name .* and a server/);
  assert.deepEqual(parseConfig('', '/c.yaml'), { currentContext: null, contexts: {} });
  assert.equal(parseConfig('current-context: gone\ncontexts: {}', '/c.yaml').currentContext, null);
});

it('flags beat the environment, which beats the context; a context token goes to its own server only', async () => {
  const home = await mkdtemp(join(tmpdir(), 'jj-cfg-'));
  await writeConfig(join(home, 'jetjobs', 'config.yaml'), { currentContext: 'prod', contexts: { prod: { server: 'https://jobs.example.com', token: 'jjt_prod' }, dev: { server: 'http://127.0.0.1:9000', token: 'jjt_dev' } } });
  const env = { XDG_CONFIG_HOME: home };
  assert.deepEqual(await resolveConnection({}, env), { url: 'https://jobs.example.com', token: 'jjt_prod', context: 'prod', urlFrom: 'context' });
  assert.equal((await resolveConnection({}, { ...env, JETJOBS_CONTEXT: 'dev' })).token, 'jjt_dev');
  assert.equal((await resolveConnection({ context: 'dev' }, { ...env, JETJOBS_CONTEXT: 'prod' })).url, 'http://127.0.0.1:9000');
  assert.equal((await resolveConnection({}, { ...env, JETJOBS_TOKEN: 'jjt_env' })).token, 'jjt_env');
  const other = await resolveConnection({}, { ...env, JETJOBS_URL: 'https://evil.example.com' });
  assert.deepEqual([other.url, other.token], ['https://evil.example.com', undefined]);
  assert.equal((await resolveConnection({ url: 'https://jobs.example.com/' }, env)).token, 'jjt_prod', 'the same origin keeps its token');
  await assert.rejects(resolveConnection({ context: 'nope' }, env), /no context "nope"/);
  // with both a URL and a token from flags or the environment, the file is not even read
  await writeFile(join(home, 'jetjobs', 'config.yaml'), 'contexts: [broken');
  assert.equal((await resolveConnection({}, { ...env, JETJOBS_URL: 'http://h:1', JETJOBS_TOKEN: 't' })).url, 'http://h:1');
});
