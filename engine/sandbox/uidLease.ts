/**
 * One uid per running task, so one task cannot read another's work dir (each is 0700 and owned by
 * its task's uid) nor signal its processes. A worker running as root leases a uid from a range for
 * each task and hands it to `runSandboxed` (`user`).
 *
 * Host-wide: several worker processes on one host share the range safely. A lease is an `flock`
 * on `<lockDir>/<uid>.lock` held by a small helper process (`flock … cat`) whose stdin is a pipe
 * from the worker: the lock goes when the lease is released or when the worker dies (the pipe
 * closes, `cat` ends, the kernel drops the lock). No stale locks, no pid files.
 *
 * Every process of the uid is killed when the lease is taken and when it is released, so a
 * process that left its task's process group (`setsid`, a daemon) ends with the task and never
 * meets the next task that leases the same uid. The release-time kill is done by the lock holder
 * itself once its stdin closes (`setpriv` to the uid, then `kill -KILL -1`; then what the uid left at
 * the top of `/tmp` and `/dev/shm` is removed), before the lock goes:
 * so a worker that dies (SIGKILL, OOM) takes its tasks' processes with it instead of leaving them
 * running in their own sessions.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** Where the lock files live: host-wide, cleared at boot. */
export const DEFAULT_UID_LOCK_DIR = '/run/jetjobs-sandbox-uids';
/** `flock -E`: the exit code that means "held by someone else". */
const BUSY = 75;
const FLOCK = '/usr/bin/flock';
const SETPRIV = '/usr/bin/setpriv';
const KILL = '/bin/kill';

export interface UidLease {
  uid: number;
  gid: number;
  /** Kills whatever the uid still runs, then lets the uid go. Never throws. */
  release(): Promise<void>;
}

export interface UidPool {
  /** Leases a free uid of the range; `UNAVAILABLE` (retryable) when every one is in use. */
  acquire(): Promise<UidLease>;
  readonly first: number;
  readonly count: number;
}

export interface UidPoolOptions {
  first: number;
  count: number;
  lockDir?: string;
  logger?: Logger;
}

/** Parses `scriptUids`: `off`, `auto` (a range when running as root) or `FIRST-LAST`. */
export function parseUidRange(v: string, isRoot: boolean): { first: number; count: number } | null {
  if (v === 'off') return null;
  if (v === 'auto') return isRoot ? { first: 700_000, count: 1000 } : null;
  const m = /^(\d{1,10})-(\d{1,10})$/.exec(v);
  if (m === null) throw new AppError('VALIDATION_FAILED', `scriptUids must be off, auto or FIRST-LAST, got ${JSON.stringify(v)}`);
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first < 1000 || last < first || last > 4_000_000_000) throw new AppError('VALIDATION_FAILED', 'scriptUids: FIRST-LAST with 1000 <= FIRST <= LAST <= 4000000000');
  return { first, count: last - first + 1 };
}

export function createUidPool(opts: UidPoolOptions): UidPool {
  const lockDir = opts.lockDir ?? DEFAULT_UID_LOCK_DIR;
  let ready: Promise<unknown> | undefined;
  // start anywhere in the range: processes on one host try different uids first
  let next = randomInt(opts.count);

  async function acquire(): Promise<UidLease> {
    ready ??= mkdir(lockDir, { recursive: true, mode: 0o700 });
    await ready;
    for (let i = 0; i < opts.count; i++) {
      const uid = opts.first + ((next + i) % opts.count);
      const holder = await tryLock(path.join(lockDir, `${uid}.lock`), uid);
      if (holder === undefined) continue;
      next = (next + i + 1) % opts.count;
      await killAll(uid);
      let released: Promise<void> | undefined;
      return {
        uid,
        gid: uid,
        // the holder kills the uid's processes, then lets the lock go
        release: () => (released ??= holder.unlock().catch((err: unknown) => opts.logger?.warn({ err, uid }, 'releasing a sandbox uid failed'))),
      };
    }
    throw new AppError('UNAVAILABLE', `every sandbox uid (${opts.count} from ${opts.first}) is in use`);
  }

  return { acquire, first: opts.first, count: opts.count };
}

/**
 * Holds the lock through `flock -n`; undefined when another holder has it. The holder waits for its
 * stdin to close (unlock, or this process dying), kills every process of `uid`, and only then exits,
 * which releases the lock.
 */
function tryLock(file: string, uid: number): Promise<{ unlock(): Promise<void> } | undefined> {
  return new Promise((resolve, reject) => {
    const killUid = `${SETPRIV} --reuid=${uid} --regid=${uid} --clear-groups ${KILL} -KILL -1`;
    // what the uid left in the shared temp dirs goes too (top-level entries it owns; rm does not follow links)
    const cleanTmp = `find /tmp /dev/shm -xdev -mindepth 1 -maxdepth 1 -user ${uid} -exec rm -rf -- {} + 2>/dev/null`;
    const child = spawn(FLOCK, ['-n', '-E', String(BUSY), file, 'sh', '-c', `echo locked; cat >/dev/null; ${killUid}; ${cleanTmp}; exit 0`], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { PATH: '/usr/bin:/bin' },
      // its own group: a Ctrl-C or a signal to the worker's group must not end it before it has killed the uid's processes
      detached: true,
    });
    let settled = false;
    const exited = new Promise<void>((res) => child.once('close', () => res()));
    child.once('error', (e) => {
      if (!settled) {
        settled = true;
        reject(new AppError('INTERNAL', `cannot run ${FLOCK} for a sandbox uid: ${e.message}`, { cause: e }));
      }
    });
    child.stdout.once('data', () => {
      if (settled) return;
      settled = true;
      resolve({
        unlock: async () => {
          child.stdin.end();
          await exited;
        },
      });
    });
    child.once('exit', (code) => {
      if (settled) return;
      settled = true;
      if (code === BUSY) resolve(undefined);
      else reject(new AppError('INTERNAL', `${FLOCK} on ${file} exited with ${code}`));
    });
  });
}

/** SIGKILL to every process of `uid` (kill(-1) as that uid: all it may signal, itself excepted). */
function killAll(uid: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(KILL, ['-KILL', '-1'], { uid, gid: uid, stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
    child.once('error', () => resolve());
    child.once('close', () => resolve());
  });
}
