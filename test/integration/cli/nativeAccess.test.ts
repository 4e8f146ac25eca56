/**
 * Login, contexts and the service commands of the real `jetjobs` binary against a real service:
 * the token kept in a 0600 file (never printed), environment variables over contexts, a token never
 * sent to another server, a group-readable file refused; workers, virtual clusters, users (admin
 * only); and bash completion of the binary's own command tree.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TEST_ADMIN_TOKEN } from '../../helpers/auth.ts';
import { http, useTestService } from '../../helpers/service.ts';
import { API, createUser, passwordOf } from '../journey/journeyKit.ts';
import { configHome, jetjobs, type RunOptions } from './cliKit.ts';

describe('jetjobs login, contexts and service commands (the binary against a service)', () => {
  const ctx = useTestService();

  it('logs in with --password-stdin into a 0600 config file, uses the context, logs out; the token is never printed', async () => {
    const home = await configHome();
    const url = ctx.svc.baseUrl;
    await createUser(url, 'clio', 'operator');
    const run = (args: string[], o: RunOptions = {}) => jetjobs(args, { ...o, env: { XDG_CONFIG_HOME: home, ...o.env } });

    const wrong = await run(['login', '--url', url, '--user', 'clio', '--password-stdin'], { input: 'not-the-password\n' });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /INVALID_CREDENTIALS/);
    const noTty = await run(['login', '--url', url, '--user', 'clio']);
    assert.equal(noTty.code, 2);
    assert.match(noTty.stderr, /--password-stdin/);

    const login = await run(['login', '--url', url, '--user', 'clio', '--password-stdin', '--context', 'test'], { input: `${passwordOf('clio')}\n` });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /^logged in to http:\/\/127\.0\.0\.1:\d+ as clio \(operator\); context test; the token expires at /);
    const file = join(home, 'jetjobs', 'config.yaml');
    const text = await readFile(file, 'utf8');
    const token = /token: (jjt_\S+)/.exec(text)?.[1];
    assert.ok(token, text);
    assert.ok(!login.stdout.includes(token) && !login.stderr.includes(token), 'the token is not printed');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(home, 'jetjobs'))).mode & 0o777, 0o700);

    const me = await run(['whoami']);
    assert.equal(me.code, 0, me.stderr);
    assert.match(me.stdout, /^user: +clio$/m);
    assert.match((await run(['context', 'list'])).stdout, /^\* +test +http:\/\/127\.0\.0\.1:\d+ +clio +until /m);
    const env = await run(['whoami', '-o', 'json'], { env: { JETJOBS_TOKEN: TEST_ADMIN_TOKEN } });
    assert.equal((JSON.parse(env.stdout) as { name: string }).name, 'admin', 'JETJOBS_TOKEN overrides the context');

    // a URL that is not the context's server gets no stored token
    const elsewhere = await run(['whoami'], { env: { JETJOBS_URL: url.replace('127.0.0.1', 'localhost') } });
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr, /401 UNAUTHENTICATED.*jetjobs login/);

    await chmod(file, 0o644);
    const loose = await run(['whoami']);
    assert.equal(loose.code, 2);
    assert.match(loose.stderr, /others may read it \(mode 644\); run: chmod 600/);
    await chmod(file, 0o600);

    const out = await run(['logout']);
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(await readFile(file, 'utf8'), /token:/);
    const revoked = await http(url, 'GET', `${API}/auth/me`, undefined, { authorization: `Bearer ${token}` });
    assert.equal(revoked.status, 401, 'logout revoked the token on the service');
    assert.equal((await run(['whoami'])).code, 2);
    assert.equal((await run(['context', 'use', 'nope'])).code, 4);
    assert.equal((await run(['context', 'delete', 'test'])).stdout, 'deleted context test\n');
  });

  it('workers, vc list|show, and users (admin only)', async () => {
    const home = await configHome();
    const run = (args: string[], o: RunOptions = {}) =>
      jetjobs(args, { ...o, env: { JETJOBS_URL: ctx.svc.baseUrl, JETJOBS_TOKEN: TEST_ADMIN_TOKEN, XDG_CONFIG_HOME: home, ...o.env } });
    const workers = await run(['workers']);
    assert.equal(workers.code, 0, workers.stderr);
    assert.match(workers.stdout, /^ID +POOL +STATE +ALIVE +SLOTS +RUNNING +HOST +UP$/m);
    assert.match(workers.stdout, /^w-\S+ +\S+ +ACTIVE +yes /m);

    assert.equal((await http(ctx.svc.baseUrl, 'POST', `${API}/virtual-clusters`, { name: 'batch', capacity: 30, maxCapacity: 60 })).status, 201);
    const vcs = await run(['vc', 'list']);
    assert.match(vcs.stdout, /^batch +30% +60% +0\/\d+ +0 +0 +0$/m);
    assert.match(vcs.stdout, /^default +70% +100% /m);
    const batch = await run(['vc', 'show', 'batch', '-o', 'json']);
    assert.equal((JSON.parse(batch.stdout) as { maxCapacity: number }).maxCapacity, 60);
    assert.equal((await run(['vc', 'show', 'nowhere'])).code, 4);

    const created = await run(['users', 'create', 'dora', '--role', 'viewer', '--vc', 'batch', '--password-stdin'], { input: `${passwordOf('dora')}\n` });
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'created user dora (viewer)\n');
    assert.match((await run(['users', 'list'])).stdout, /^dora +viewer +batch +\d{4}-/m);
    assert.equal((await run(['users', 'update', 'dora', '--role', 'operator', '--vc', ''])).stdout, 'updated user dora (operator; default only)\n');
    const dora = await jetjobs(['login', '--url', ctx.svc.baseUrl, '--user', 'dora', '--password-stdin'], { env: { XDG_CONFIG_HOME: home }, input: `${passwordOf('dora')}\n` });
    assert.equal(dora.code, 0, dora.stderr);
    const denied = await jetjobs(['users', 'list'], { env: { XDG_CONFIG_HOME: home } });
    assert.equal(denied.code, 2, 'a non-admin is refused (403)');
    assert.match(denied.stderr, /403 FORBIDDEN/);
    assert.equal((await run(['users', 'passwd', 'dora', '--password-stdin'], { input: 'another-long-password\n' })).code, 0);
    assert.equal((await jetjobs(['whoami'], { env: { XDG_CONFIG_HOME: home } })).code, 2, "a password change ends the user's tokens");
    assert.equal((await run(['users', 'delete', 'dora'])).stdout, 'deleted user dora\n');
    assert.equal((await run(['users', 'show', 'dora'])).code, 4);
  });

  it('bash completion completes the commands, subcommands and flag values of the binary', async () => {
    const script = (await jetjobs(['completion', 'bash'])).stdout;
    const complete = (line: string) => new Promise<string[]>((resolve, reject) => {
      const words = line.split(' ');
      const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _jetjobs_complete; complete -p jetjobs; printf '%s\\n' "\${COMPREPLY[@]}"`;
      execFile('bash', ['--norc', '--noprofile', '-c', program], (err, stdout) => (err ? reject(err) : resolve(stdout.trim().split('\n'))));
    });
    const [registered, ...top] = await complete('jetjobs su');
    assert.equal(registered, 'complete -o default -F _jetjobs_complete jetjobs');
    assert.deepEqual(top, ['submit']);
    assert.deepEqual((await complete('jetjobs vc ')).slice(1, 3), ['list', 'show']);
    assert.deepEqual((await complete('jetjobs list -o y')).slice(1), ['yaml']);
    assert.deepEqual((await complete('jetjobs list --state SU')).slice(1), ['SUCCEEDED']);
    assert.ok((await complete('jetjobs stop x --')).includes('--force'));
    assert.deepEqual((await complete('jetjobs completion f')).slice(1), ['fish']);
    assert.equal((await jetjobs(['completion', 'tcsh'])).code, 2);
    assert.match((await jetjobs(['completion', 'fish'])).stdout, /^complete -c jetjobs -n 'test "\(__jetjobs_path\)" = "vc"' -a 'list show'$/m);
  });
});
