/**
 * The service around the jobs: `workers`, `vc list|show` (virtual clusters) and `users …` (user
 * administration, admins only: the service answers 403 to others, exit 2).
 */
import { Command, InvalidArgumentError } from 'commander';
import type { UserView, VirtualClusterStatus, WorkerView } from '../apiTypes.ts';
import { NATIVE_EXIT } from '../exitCodes.ts';
import type { ConnectionFlags } from './connection.ts';
import { withConnection, withOutput, type NativeContext, type OutputFlags } from './nativeContext.ts';
import { age, formatOutput, renderFields, renderTable } from './output.ts';
import { readPassword } from './password.ts';

const ROLES = ['admin', 'operator', 'viewer'];

function role(value: string): string {
  if (!ROLES.includes(value)) throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`);
  return value;
}

function list(value: string): string[] {
  return value === '' ? [] : value.split(',').map((s) => s.trim());
}

type Flags = ConnectionFlags & OutputFlags & Record<string, unknown>;

function vcRow(v: VirtualClusterStatus): string[] {
  return [v.name, `${v.capacity}%`, `${v.maxCapacity}%`, `${v.slots.used}/${v.slots.max}`, String(v.numActiveJobs), String(v.numPendingJobs), String(v.numJobs)];
}
const VC_HEADERS = ['NAME', 'CAPACITY', 'MAX', 'SLOTS USED/MAX', 'ACTIVE', 'WAITING', 'JOBS'];

function userRows(users: readonly UserView[]): string {
  return renderTable(['NAME', 'ROLE', 'VIRTUAL CLUSTERS', 'CREATED'], users.map((u) => [u.name, u.role, u.virtualClusters.join(',') || '-', u.createdAt ?? '-']));
}

export function registerAdminCommands(program: Command, cx: NativeContext): void {
  const { io } = cx;
  const print = (s: string) => io.stdout.write(s);
  const cmd = (parent: Command, spec: string, description: string) => withConnection(parent.command(spec).description(description).exitOverride());
  const run = (c: Command, f: (flags: Flags, ...args: string[]) => Promise<void>) =>
    c.action(async (...args: unknown[]) => {
      await f(args.at(-2) as Flags, ...(args.slice(0, -2) as string[]));
      cx.setExit(NATIVE_EXIT.OK);
    });

  run(withOutput(cmd(program, 'workers', 'the workers: state, liveness, what they run')), async (flags) => {
    const { workers } = await (await cx.connect(flags)).call<{ workers: WorkerView[] }>('GET', '/workers');
    print(formatOutput(workers, flags.output, () => renderTable(
      ['ID', 'POOL', 'STATE', 'ALIVE', 'SLOTS', 'RUNNING', 'HOST', 'UP'],
      workers.map((w) => [w.id, w.pool, w.state, w.alive ? 'yes' : 'no', String(w.concurrency), String(w.tasks.length), `${w.host}:${w.pid}`, age(w.registeredAt, cx.now())]),
    )));
  });

  const vc = program.command('vc').exitOverride().description('virtual clusters: shares of the running-job capacity and of the workers');
  run(withOutput(cmd(vc, 'list', 'the virtual clusters you may use (admins: all)')), async (flags) => {
    const { virtualClusters } = await (await cx.connect(flags)).call<{ virtualClusters: VirtualClusterStatus[] }>('GET', '/virtual-clusters');
    print(formatOutput(virtualClusters, flags.output, () => renderTable(VC_HEADERS, virtualClusters.map(vcRow))));
  });
  run(withOutput(cmd(vc, 'show <name>', 'one virtual cluster: its shares and use')), async (flags, name) => {
    const v = await (await cx.connect(flags)).call<VirtualClusterStatus>('GET', `/virtual-clusters/${encodeURIComponent(name!)}`);
    print(formatOutput(v, flags.output, () => renderFields([
      ['name', v.name], ['description', v.description ?? null], ['capacity', `${v.capacity}% guaranteed, up to ${v.maxCapacity}%`],
      ['slots', `${v.slots.used} used of ${v.slots.max} (guaranteed ${v.slots.guaranteed}; cluster total ${v.slots.total})`],
      ['jobs', `${v.numActiveJobs} active, ${v.numPendingJobs} waiting, ${v.numJobs} in all`],
    ])));
  });

  const users = program.command('users').exitOverride().description('user administration (admins)');
  run(withOutput(cmd(users, 'list', 'every user')), async (flags) => {
    const { users: all } = await (await cx.connect(flags)).call<{ users: UserView[] }>('GET', '/users');
    print(formatOutput(all, flags.output, () => userRows(all)));
  });
  run(withOutput(cmd(users, 'show <name>', 'one user')), async (flags, name) => {
    const u = await (await cx.connect(flags)).call<UserView>('GET', `/users/${encodeURIComponent(name!)}`);
    print(formatOutput(u, flags.output, () => userRows([u])));
  });
  run(cmd(users, 'create <name>', 'create a user; its password is asked for (or read with --password-stdin)')
    .requiredOption('--role <role>', ROLES.join(', '), role)
    .option('--vc <names>', 'virtual clusters granted besides default, comma-separated', list)
    .option('--password-stdin', 'read the password from the first line of stdin'), async (flags, name) => {
    const http = await cx.connect(flags);
    const password = await readPassword(io, flags['passwordStdin'] === true, `Password for the new user ${name}: `);
    const u = await http.call<UserView>('POST', '/users', { body: { name, password, role: flags['role'], ...(Array.isArray(flags['vc']) ? { virtualClusters: flags['vc'] } : {}) } });
    print(`created user ${u.name} (${u.role})\n`);
  });
  run(cmd(users, 'update <name>', "change a user's role or virtual clusters")
    .option('--role <role>', ROLES.join(', '), role)
    .option('--vc <names>', 'the virtual clusters granted besides default, comma-separated (replaces them; "" for none)', list), async (flags, name) => {
    const body = { ...(typeof flags['role'] === 'string' ? { role: flags['role'] } : {}), ...(Array.isArray(flags['vc']) ? { virtualClusters: flags['vc'] } : {}) };
    const u = await (await cx.connect(flags)).call<UserView>('PATCH', `/users/${encodeURIComponent(name!)}`, { body });
    print(`updated user ${u.name} (${u.role}; ${u.virtualClusters.join(',') || 'default only'})\n`);
  });
  run(cmd(users, 'delete <name>', 'delete a user (its tokens stop working; its jobs keep it as owner)'), async (flags, name) => {
    await (await cx.connect(flags)).call('DELETE', `/users/${encodeURIComponent(name!)}`);
    print(`deleted user ${name}\n`);
  });
  run(cmd(users, 'passwd <name>', "set a user's password (every token of the user stops working)")
    .option('--password-stdin', 'read the new password from the first line of stdin'), async (flags, name) => {
    const http = await cx.connect(flags);
    const password = await readPassword(io, flags['passwordStdin'] === true, `New password for ${name}: `);
    await http.call('PUT', `/users/${encodeURIComponent(name!)}/password`, { body: { password } });
    print(`password of ${name} changed; its tokens no longer work\n`);
  });
}
