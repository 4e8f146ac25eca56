/**
 * The event log's guarantees on R3 streams of a real 3-node cluster: one CAS winner per round with
 * 8 racers on 3 servers (nats-server#4320 broke this in 2.9.x; see docs/operations.md, nats-server versions), appends that
 * resume by themselves when the stream leader is SIGKILLed under load, and no acked append lost or
 * stored twice afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { Envelope } from '../../../actors/events.ts';
import { isAppError } from '../../../engine/errors.ts';
import { connectNats, ensureStreams } from '../../../engine/nats/connection.ts';
import { createJetStreamEventLog } from '../../../engine/eventlog/jetStreamEventLog.ts';
import type { EventLog, LogRecord } from '../../../engine/eventlog/eventLog.ts';
import { startTestCluster, type TestCluster } from '../../helpers/natsCluster.ts';
import { NO_OLDER_SERVER, OLDER_NATS_SERVER_BIN } from '../../helpers/natsServer.ts';
import { waitFor, sleep } from '../../helpers/wait.ts';

const RACERS = 8;
const ROUNDS = 25;
const ROUNDS_AFTER_FAILOVER = 3;
const KILL_AFTER_ACKS = 200;
const MAX_APPENDS = 2_000;
const WRITER_MAX_MS = 30_000;
/** Pause between the writer's appends: ~2,000 appends then take ~10 s plus the failover stall. */
const PACE_MS = 4;
/** Each append waits this long for its ack before it is retried (same msgId). */
const REQUEST_TIMEOUT_MS = 2_000;
/** Retries of one append while the store is unavailable: bounded in count and time. */
const MAX_ATTEMPTS = 500;
const RETRY_DEADLINE_MS = 20_000;
const WAIT_MS = 20_000;
const STREAMS = ['JOBS', 'TASKS', 'KV_liveness'];
const LOAD_SUBJECT = 'job.load.ev';
/**
 * Measured on nats-server 2.10.27 (6 runs in 24 with sync_interval 1s, 1 in 10 with `always`):
 * after the leader's SIGKILL one replica's store diverges from what was acked (committed messages
 * stored again at later seqs, the acks after them shifted, an acked record missing), seen by every
 * reader that replica serves. Later releases fixed several stream desyncs (e.g. nats-server#5939,
 * #6459, #6943); whether they fix this one is not tested here. On other versions the check is strict.
 */
const KNOWN_DESYNC = 'nats-server 2.10.x: a replica desyncs after the leader is SIGKILLed';

interface Ack {
  n: number;
  seq: number;
  duplicate: boolean;
  atMs: number;
}

function env(jobId: string, data: Record<string, number>): Envelope {
  return { type: 'Probe', data, meta: { jobId, epoch: 0, actor: 'test', at: new Date().toISOString(), v: 1 } };
}

/** A numeric field of the record's only event. */
function field(r: LogRecord, key: string): number {
  const data = r.events[0]?.data;
  const v = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined;
  assert.equal(typeof v, 'number', `record ${r.seq} has no numeric ${key}`);
  return v as number;
}

/**
 * Runs `op` again while the store is UNAVAILABLE (timeout, leader election); other errors (CONFLICT)
 * are thrown. An append retried with the same msgId comes back as a duplicate if it was stored.
 */
async function retryUnavailable<T>(op: () => Promise<T>, onRetry: (e: unknown) => void = () => {}): Promise<T> {
  const deadline = Date.now() + RETRY_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (!isAppError(e, 'UNAVAILABLE') || attempt >= MAX_ATTEMPTS || Date.now() > deadline) throw e;
      onRetry(e);
      await sleep(Math.min(10 * attempt, 200)); // backoff, not for correctness
    }
  }
}

/** Stream info once the stream has a leader and `replicas` followers, all current. */
async function waitHealthy(jsm: JetStreamManager, stream: string, replicas: number): Promise<StreamInfo> {
  let info: StreamInfo | undefined;
  await waitFor(async () => {
    info = await jsm.streams.info(stream).catch(() => undefined);
    const c = info?.cluster;
    return !!c?.leader && c.replicas?.length === replicas && c.replicas.every((r) => r.current && (r.lag ?? 0) === 0);
  }, { what: `${stream}: a leader and ${replicas} current replicas`, timeoutMs: WAIT_MS, intervalMs: 20 });
  return info!;
}

/** Every record on `subject`, read by following the whole stream from seq 1: data.n -> seqs. */
async function readWholeStream(nc: NatsConnection, subject: string): Promise<Map<number, number[]>> {
  const reader = createJetStreamEventLog({ nc, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const stored = new Map<number, number[]>();
  const follower = reader.follow(1, (r) => {
    if (r.subject === subject) stored.set(field(r, 'n'), [...(stored.get(field(r, 'n')) ?? []), r.seq]);
  });
  try {
    await follower.caughtUp;
  } finally {
    await follower.stop();
    await reader.close();
  }
  return stored;
}

/** Asks the leader of `stream` to step down until server `target` leads it; bounded tries. */
async function moveLeader(c: TestCluster, nc: NatsConnection, stream: string, target: number): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    if ((await c.streamLeader(stream)) === target) return true;
    // no client API for this in @nats-io/jetstream 3.x; the leader picks a random current peer
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5_000 }).catch(() => undefined);
  }
  return (await c.streamLeader(stream)) === target;
}

describe('R3 streams on a 3-node cluster', () => {
  let cluster: TestCluster | undefined;
  let admin: NatsConnection | undefined;
  let jsm: JetStreamManager;
  const racerConns: NatsConnection[] = [];
  let racers: EventLog[] = [];
  let raceRetries = 0;
  /** What the kill scenario acked, checked by the test after it. */
  let killRun: { acks: Ack[]; killed: number } | undefined;

  before(async () => {
    cluster = await startTestCluster();
    admin = await connectNats(cluster.urls, { name: 'r3-admin' });
    jsm = await jetstreamManager(admin);
    // one connection per racer, spread over the three servers
    for (let i = 0; i < RACERS; i++) {
      racerConns.push(await connectNats(cluster.servers[i % cluster.servers.length]!.url, { name: `racer-${i}` }));
    }
    racers = racerConns.map((nc) => createJetStreamEventLog({ nc, requestTimeoutMs: REQUEST_TIMEOUT_MS }));
  });

  after(async () => {
    await Promise.all(racers.map((l) => l.close()));
    await Promise.all([...racerConns, ...(admin ? [admin] : [])].map((nc) => nc.close().catch(() => undefined)));
    await cluster?.cleanup();
  });

  /** One round: every racer appends with the same expectation; returns the winners and losers. */
  async function race(subject: string, round: number, expected: number) {
    const outcomes = await Promise.all(
      racers.map((log, racer) =>
        retryUnavailable(() => log.append(subject, [env(subject, { round, racer })], { expectedLastSubjectSeq: expected, msgId: `${subject}:${round}:${racer}` }), () => raceRetries++).then(
          (r) => ({ racer, seq: r.seq, won: true as const }),
          (e: unknown) => {
            assert.ok(isAppError(e, 'CONFLICT'), `racer ${racer} round ${round}: expected CONFLICT, got ${String(e)}`);
            return { racer, seq: 0, won: false as const };
          },
        ),
      ),
    );
    const winners = outcomes.filter((o) => o.won);
    assert.equal(winners.length, 1, `round ${round} on ${subject}: ${winners.length} winners (${JSON.stringify(winners)})`);
    return winners[0]!;
  }

  /** `rounds` CAS rounds on a fresh subject; its history must hold exactly the winners, in order. */
  async function raceRounds(subject: string, rounds: number): Promise<void> {
    const winners: { racer: number; seq: number }[] = [];
    let expected = 0;
    for (let round = 0; round < rounds; round++) {
      const w = await race(subject, round, expected);
      winners.push(w);
      expected = w.seq;
    }
    const history = await retryUnavailable(() => racers[0]!.readSubject(subject));
    assert.equal(history.length, rounds, `${subject}: one record per round`);
    history.forEach((r, round) => {
      assert.equal(field(r, 'round'), round);
      assert.equal(field(r, 'racer'), winners[round]!.racer, `round ${round}: the stored record is the acked winner's`);
      assert.equal(r.seq, winners[round]!.seq);
    });
  }

  it('ensureStreams({ replicas: 3 }) creates R3 streams with a leader and 2 current replicas', async () => {
    const c = cluster!;
    const conf = await readFile(join(c.servers[0]!.storeDir, 'nats-server.conf'), 'utf8');
    assert.match(conf, /server_name: "n0"/);
    assert.match(conf, /cluster \{\n {2}name: "jetjobs-test"\n {2}listen: "127\.0\.0\.1:\d+"\n {2}routes: \["nats-route:\/\/127\.0\.0\.1:\d+", "nats-route:\/\/127\.0\.0\.1:\d+"\]/);
    await ensureStreams(admin!, { replicas: 3 });
    await ensureStreams(admin!, { replicas: 3 }); // idempotent on a cluster too
    for (const stream of STREAMS) {
      const info = await waitHealthy(jsm, stream, 2);
      assert.equal(info.config.num_replicas, 3, stream);
      const members = [info.cluster!.leader, ...info.cluster!.replicas!.map((r) => r.name)].sort();
      assert.deepEqual(members, ['n0', 'n1', 'n2'], `${stream} is placed on every server`);
    }
    assert.ok((await c.streamLeader('JOBS')) >= 0);
  });

  it(`${RACERS} concurrent CAS racers on 3 servers: exactly one winner in each of ${ROUNDS} rounds`, async () => {
    await raceRounds('job.race1.ev', ROUNDS);
  });

  it('an append retried after a lost ack is recognised as ours on any server: duplicate, never CONFLICT, stored once', async () => {
    await retriedAppendIsOurs(racers, 'job.retry1.ev');
  });

  it('kill -9 of the JOBS leader under load: appends resume by themselves, CAS keeps one winner', async (t) => {
    const c = cluster!;
    const writerConn = await connectNats(c.urls, { name: 'r3-writer' });
    t.after(() => writerConn.close().catch(() => undefined));
    const log = createJetStreamEventLog({ nc: writerConn, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    const acks: Ack[] = [];
    const retries = new Map<string, number>();
    let stopWriter = false;
    let writerDone = false;
    let writerError: unknown;
    /** A condition that also fails fast when the writer has died. */
    const writerCond = (cond: () => boolean) => () => {
      if (writerError !== undefined) throw writerError;
      return cond();
    };

    // the writer knows nothing of the kill: no reconnect code, only "retry the same msgId"
    const writer = (async () => {
      const deadline = Date.now() + WRITER_MAX_MS;
      for (let n = 0; n < MAX_APPENDS && !stopWriter && Date.now() < deadline; n++) {
        if (n > 0) await sleep(PACE_MS); // pacing only, so the load spans the kill, the race and the restart
        const r = await retryUnavailable(() => log.append(LOAD_SUBJECT, [env('load', { n })], { msgId: `load:${n}` }), (e) => {
          const kind = e instanceof Error && e.cause instanceof Error ? e.cause.name : String(e);
          retries.set(kind, (retries.get(kind) ?? 0) + 1);
        });
        acks.push({ n, seq: r.seq, duplicate: r.duplicate, atMs: performance.now() });
      }
    })().then(
      () => void (writerDone = true),
      (e: unknown) => void ((writerError = e), (writerDone = true)),
    );
    let ok = false;
    let killed = -1;
    let deadAt = Infinity;
    try {
      await waitFor(writerCond(() => acks.length >= KILL_AFTER_ACKS), { what: 'writer warm-up', timeoutMs: WAIT_MS, intervalMs: 20 });
      killed = await c.streamLeader('JOBS');
      const killAt = performance.now();
      await c.servers[killed]!.kill9();
      // acks that arrive before the process is gone were the old leader's: count from its exit
      deadAt = performance.now();
      await waitFor(writerCond(() => acks.some((a) => a.atMs > deadAt)), { what: 'first append acked after the kill', timeoutMs: WAIT_MS, intervalMs: 20 });
      const stallMs = Math.round(acks.find((a) => a.atMs > deadAt)!.atMs - killAt);
      const newLeader = await c.streamLeader('JOBS');
      assert.notEqual(newLeader, killed, 'a new leader took over');
      t.diagnostic(`leader n${killed} killed after ${acks.length} acks; next append acked ${stallMs} ms after the kill; new leader n${newLeader}`);

      // a CAS race right after the leader change: racers on the dead server must reconnect first
      const retriesBefore = raceRetries;
      await raceRounds('job.race2.ev', ROUNDS_AFTER_FAILOVER);
      t.diagnostic(`CAS race after the failover: ${raceRetries - retriesBefore} racer retries while UNAVAILABLE`);

      const restartAt = performance.now();
      await c.servers[killed]!.restart();
      await waitFor(writerCond(() => writerDone || acks.some((a) => a.atMs > restartAt)), { what: 'appends after the restart (or the writer is done)', timeoutMs: WAIT_MS, intervalMs: 20 });
      t.diagnostic(`n${killed} restarted ${Math.round(restartAt - killAt)} ms after the kill`);
      await waitFor(writerCond(() => writerDone), { what: 'the writer to finish', timeoutMs: WRITER_MAX_MS + RETRY_DEADLINE_MS, intervalMs: 20 });
      ok = true;
    } finally {
      stopWriter = !ok; // a failed assertion must not leave the writer running
      await writer;
    }
    if (writerError !== undefined) throw writerError;
    t.diagnostic(`${acks.length} appends acked (${acks.filter((a) => a.duplicate).length} as duplicates); retries: ${JSON.stringify(Object.fromEntries(retries))}`);
    assert.deepEqual(acks.map((a) => a.n), [...Array(acks.length).keys()], 'the writer never gave up on an append');
    assert.ok(acks.some((a) => a.atMs > deadAt), 'appends resumed after the kill');
    killRun = { acks, killed };
  });

  it('after the kill and the restart, every acked append is stored once at its acked seq', async (t) => {
    const version = admin!.info?.version ?? '';
    if (version.startsWith('2.10.')) t.todo(`${KNOWN_DESYNC} (server ${version})`);
    assert.ok(killRun !== undefined, 'the kill scenario ran');
    const { acks, killed } = killRun;
    const c = cluster!;
    await c.waitReady();
    await waitHealthy(jsm, 'JOBS', 2);
    const check = async () => {
      const via = `read via n${await c.streamLeader('JOBS')}`;
      const stored = await readWholeStream(admin!, LOAD_SUBJECT);
      const doubled = [...stored].filter(([, seqs]) => seqs.length > 1);
      assert.deepEqual(doubled.slice(0, 5), [], `${via}: ${doubled.length} msgIds stored twice ([n, seqs])`);
      const lost = acks.filter((a) => stored.get(a.n)?.[0] !== a.seq).map((a) => ({ ...a, storedAt: stored.get(a.n) }));
      assert.deepEqual(lost.slice(0, 5), [], `${via}: ${lost.length} acked appends not at their acked seq`);
      assert.ok(stored.size <= acks.length + 1, `${via}: nothing stored that was not attempted`);
    };
    await check(); // through the leader elected after the kill (or whoever leads now)
    // the killed server's own copy: synced at most 1 s before the kill, then caught up over Raft
    assert.ok(await moveLeader(c, admin!, 'JOBS', killed), `n${killed} took the lead back`);
    await check();
  });
});

// Servers answer a retried CAS append differently by version and topology (docs/operations.md, nats-server versions): the 2.10
// line keeps the same contract on R3. (The leader-kill checks above run on the default line only.)
describe('R3 streams on a 3-node cluster of the 2.10 server line', { skip: OLDER_NATS_SERVER_BIN === undefined ? NO_OLDER_SERVER : false }, () => {
  let cluster: TestCluster | undefined;
  const conns: NatsConnection[] = [];
  let logs: EventLog[] = [];

  before(async () => {
    cluster = await startTestCluster({ bin: OLDER_NATS_SERVER_BIN ?? '' });
    for (let i = 0; i < 4; i++) conns.push(await connectNats(cluster.servers[i % cluster.servers.length]!.url, { name: `old-line-${i}` }));
    await ensureStreams(conns[0]!, { replicas: 3 });
    logs = conns.map((nc) => createJetStreamEventLog({ nc, requestTimeoutMs: REQUEST_TIMEOUT_MS }));
  });

  after(async () => {
    await Promise.all(logs.map((l) => l.close()));
    await Promise.all(conns.map((nc) => nc.close().catch(() => undefined)));
    await cluster?.cleanup();
  });

  it('an append retried after a lost ack is recognised as ours on any server: duplicate, never CONFLICT, stored once', async () => {
    await retriedAppendIsOurs(logs, 'job.retry1.ev');
  });
});

/**
 * A writer whose ack was lost appends again with the same msg id and expectation, through other
 * servers, before and after another writer built on its record: each retry is a duplicate of the
 * first append; a writer with another msg id and the same stale expectation still loses.
 */
async function retriedAppendIsOurs(logs: EventLog[], subject: string): Promise<void> {
  const [a, b, c, d] = [logs[0]!, logs[1 % logs.length]!, logs[2 % logs.length]!, logs[3 % logs.length]!];
  const append = (log: EventLog, n: number, expected: number, msgId: string) =>
    retryUnavailable(() => log.append(subject, [env(subject, { n })], { expectedLastSubjectSeq: expected, msgId }));
  const first = await append(a, 1, 0, `${subject}:1`);
  assert.deepEqual(await append(b, 1, 0, `${subject}:1`), { seq: first.seq, duplicate: true });
  const next = await append(c, 2, first.seq, `${subject}:2`);
  assert.deepEqual(await append(d, 1, 0, `${subject}:1`), { seq: first.seq, duplicate: true }, 'found behind a newer record');
  await assert.rejects(append(a, 3, first.seq, `${subject}:3`), (e) => isAppError(e, 'CONFLICT'));
  const stored = await retryUnavailable(() => a.readSubject(subject));
  assert.deepEqual(stored.map((r) => [r.seq, field(r, 'n')]), [[first.seq, 1], [next.seq, 2]], 'nothing stored twice');
}
