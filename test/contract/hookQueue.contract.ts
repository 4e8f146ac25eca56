/**
 * One contract for every HookQueue implementation (the simulation runs on the in-memory one, so
 * this is what makes its runs count for JetStream's):
 * `hookQueueContract('memory', async () => ({ log, queue: createMemoryHookQueue({ eventLog: log, clock }), clock, now: …, passTime: …, until: …, cleanup: … }))`.
 * Each test gets a fresh queue (on JetStream a durable of its own) over the log whose records it
 * queues, appends only under job and worker ids of its own, and always calls `cleanup`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope } from '../../actors/events.ts';
import type { Clock } from '../../engine/clock.ts';
import type { EventLog } from '../../engine/eventlog/eventLog.ts';
import type { HookConsumerHandle, HookMessage } from '../../engine/hooks/hookMessage.ts';
import type { HookConsumeOptions, HookQueue } from '../../engine/hooks/hookQueue.ts';
import { silentLogger } from '../../engine/log.ts';

export interface HookQueueFixture {
  /** The stream the queue follows: what is appended here is what it may deliver. */
  log: EventLog;
  queue: HookQueue;
  /** Given to every consume() (the consumer's keep-alive timers); the memory queue's fake clock. */
  clock?: Clock;
  /** The queue's time, monotonic ms: when a delivery came, to show a redelivery came no sooner than due. */
  now(): number;
  /**
   * Lets `ms` of the queue's time pass: a fake clock's advance in memory, real time on a server.
   * Used only where the claim is that something does NOT happen within a stretch of the queue's
   * time, and always followed by a marker record that shows what did happen meanwhile.
   */
  passTime(ms: number): Promise<void>;
  /** Resolves once `cond` holds, letting the queue's time run; rejects naming `what` after `withinMs` of it. */
  until(cond: () => boolean, what: string, withinMs?: number): Promise<void>;
  cleanup(): Promise<void>;
}

export interface HookQueueContractOptions {
  /** Cases this implementation is known to fail: test title → the difference (the case is skipped, naming it). */
  knownDifferences?: Readonly<Record<string, string>>;
}

/** Long enough that only a nak or a throw, never the ack deadline, brings a record back within {@link SOON_MS}. */
const LONG_ACK_WAIT_MS = 60_000;
/** The ack wait of the cases that wait for (or past) it. */
const SHORT_ACK_WAIT_MS = 400;
/** Time a queue has to do what it does at once (deliver, redeliver when due). */
const SOON_MS = 10_000;
const NAK_DELAY_MS = 1_000;
/** A handler that throws has its record nak'ed with this delay (hookQueue.ts: "a throw naks it after 1 s"). */
const THROW_RETRY_MS = 1_000;
/** The server starts the ack wait when it sends a record, a moment before the handler is called. */
const SEND_SLACK_MS = 50;

let runNo = 0;
/** Job and worker ids of one test: a fixture may share one stream between tests. */
const newPrefix = () => `h${process.pid}r${++runNo}`;
const envelope = (jobId: string, n: number): Envelope => ({
  type: 'test.event', data: { n }, meta: { jobId, epoch: 0, actor: 'test', at: new Date(0).toISOString(), v: 1 },
});

/** One delivery as a test sees it: `label` is `<name>.<kind>#<nth delivery of that record>`. */
interface Seen {
  label: string;
  m: HookMessage;
  at: number;
}

/** What each case gets: the fixture plus helpers that name its records and clean up after it. */
interface Case {
  f: HookQueueFixture;
  /** Appends one record to `job.<name>.<kind>` (default `hook`; `worker.<name>.ev` for kind 'worker') under this test's ids; its seq. */
  append(name: string, kind?: 'ev' | 'hook' | 'task' | 'worker'): Promise<number>;
  /** Every delivery so far, in the order handlers were called. */
  seen: Seen[];
  labels(): string[];
  /** A consumer recording into `seen` before calling `handler` (default: ack). Stopped after the test. */
  consume(opts: Partial<HookConsumeOptions> & { ackWaitMs: number }, handler?: (s: Seen) => Promise<void>): Promise<HookConsumerHandle>;
  /** A promise a handler may wait on; opened by the test, or after it so that stop() can finish. */
  gate(): { wait: Promise<void>; open(): void };
  /** Appends a marker and waits for its delivery: every record due before it has been seen by then. */
  marker(name?: string): Promise<void>;
}

export function hookQueueContract(name: string, make: () => Promise<HookQueueFixture>, options: HookQueueContractOptions = {}): void {
  const known = options.knownDifferences ?? {};
  const test = (title: string, fn: (c: Case) => Promise<void>) =>
    it(title, { skip: known[title] ?? false }, async () => {
      const f = await make();
      const prefix = newPrefix();
      const handles: HookConsumerHandle[] = [];
      const gates: (() => void)[] = [];
      const seen: Seen[] = [];
      const deliveries = new Map<number, number>();
      const short = (subject: string) => {
        const [a, id, kind] = subject.split('.');
        const n = id?.slice(prefix.length + 1);
        return a === 'worker' ? `${n}.worker` : `${n}.${kind}`;
      };
      const c: Case = {
        f,
        seen,
        labels: () => seen.map((s) => s.label),
        async append(n, kind = 'hook') {
          const id = `${prefix}-${n}`;
          const subject = kind === 'worker' ? `worker.${id}.ev` : `job.${id}.${kind}`;
          return (await f.log.append(subject, [envelope(id, 1)])).seq;
        },
        async consume(opts, handler = async (s) => s.m.ack()) {
          const h = await f.queue.consume({
            mayTrigger: () => true,
            logger: silentLogger,
            ...(f.clock !== undefined ? { clock: f.clock } : {}),
            ...opts,
            handler: async (m) => {
              const nth = (deliveries.get(m.seq) ?? 0) + 1;
              deliveries.set(m.seq, nth);
              const s = { label: `${short(m.subject)}#${nth}`, m, at: f.now() };
              seen.push(s);
              await handler(s);
            },
          });
          handles.push(h);
          return h;
        },
        gate() {
          let open!: () => void;
          const wait = new Promise<void>((resolve) => (open = resolve));
          gates.push(open);
          return { wait, open };
        },
        async marker(n = 'marker') {
          await c.append(n);
          await f.until(() => c.labels().includes(`${n}.hook#1`), `the ${n}`, SOON_MS);
        },
      };
      try {
        await fn(c);
      } finally {
        for (const open of gates) open();
        await Promise.all(handles.map((h) => h.stop()));
        await f.cleanup();
      }
    });

  describe(`HookQueue contract: ${name}`, () => {
    test('delivers every record of job.*.hook, as appended, and none of other subjects', async (c) => {
      await c.consume({ ackWaitMs: LONG_ACK_WAIT_MS });
      const want = new Map<number, string>();
      for (const [n, kind] of [['a', 'ev'], ['a', 'task'], ['w', 'worker'], ['a', 'hook'], ['b', 'hook'], ['b', 'ev'], ['a', 'hook']] as const) {
        const seq = await c.append(n, kind);
        if (kind === 'hook') want.set(seq, `${n}.${kind}`);
      }
      await c.marker();
      assert.deepEqual(c.labels().sort(), ['a.hook#1', 'a.hook#1', 'b.hook#1', 'marker.hook#1']);
      for (const [seq, label] of want) {
        const s = c.seen.find((x) => x.m.seq === seq);
        assert.ok(s !== undefined, `seq ${seq} (${label}) delivered`);
        const jobId = s.m.subject.split('.')[1]!;
        assert.deepEqual(JSON.parse(new TextDecoder().decode(s.m.data)), [envelope(jobId, 1)], `seq ${seq}: the body is the stored JSON array of envelopes`);
      }
    });

    test('a record mayTrigger refuses is acked without reaching the handler, and does not come back', async (c) => {
      const asked: string[] = [];
      await c.consume({
        ackWaitMs: SHORT_ACK_WAIT_MS,
        mayTrigger: (subject, data) => {
          asked.push(`${subject.split('.')[1]!.split('-')[1]}:${JSON.parse(new TextDecoder().decode(data)).length}`);
          return !subject.includes('-skip.');
        },
      });
      await c.append('skip');
      await c.marker('first');
      await c.f.passTime(3 * SHORT_ACK_WAIT_MS);
      await c.marker();
      assert.deepEqual(c.labels(), ['first.hook#1', 'marker.hook#1']);
      assert.deepEqual(asked, ['skip:1', 'first:1', 'marker:1']);
    });

    test('records appended before the first consume() are not delivered (a new durable starts at the end of the stream)', async (c) => {
      await c.append('before');
      await c.consume({ ackWaitMs: LONG_ACK_WAIT_MS });
      await c.marker();
      assert.deepEqual(c.labels(), ['marker.hook#1']);
    });

    test('an acked record does not come back', async (c) => {
      await c.consume({ ackWaitMs: SHORT_ACK_WAIT_MS });
      await c.append('t1');
      await c.f.until(() => c.seen.length === 1, 'the delivery', SOON_MS);
      await c.f.passTime(3 * SHORT_ACK_WAIT_MS);
      await c.marker();
      assert.deepEqual(c.labels(), ['t1.hook#1', 'marker.hook#1']);
    });

    test('a record neither acked nor kept alive is delivered again after the ack wait, not before', async (c) => {
      await c.consume({ ackWaitMs: SHORT_ACK_WAIT_MS }, async (s) => {
        if (s.label !== 't1.hook#1') s.m.ack(); // the first delivery "crashes": no ack, no keep-alive
      });
      await c.append('t1');
      await c.f.until(() => c.labels().includes('t1.hook#2'), 'the redelivery', SOON_MS);
      const [first, second] = c.seen;
      assert.ok(second!.at - first!.at >= SHORT_ACK_WAIT_MS - SEND_SLACK_MS, `redelivered ${second!.at - first!.at} ms after the delivery`);
      await c.f.passTime(3 * SHORT_ACK_WAIT_MS);
      await c.marker();
      assert.deepEqual(c.labels(), ['t1.hook#1', 't1.hook#2', 'marker.hook#1']);
    });

    test('working() holds a record past the ack wait after its handler returned', async (c) => {
      await c.consume({ ackWaitMs: 1_000 }, async (s) => {
        if (!s.label.startsWith('slow.')) s.m.ack();
      });
      await c.append('slow');
      await c.f.until(() => c.seen.length === 1, 'the delivery', SOON_MS);
      const slow = c.seen[0]!.m;
      for (let i = 0; i < 8; i++) {
        await c.f.passTime(200); // 1.6 s in all, a working() every 200 ms of a 1 s ack wait
        slow.working();
      }
      slow.ack();
      await c.f.passTime(1_500);
      await c.marker();
      assert.deepEqual(c.labels(), ['slow.hook#1', 'marker.hook#1']);
    });

    test('a handler still running keeps its record past the ack wait', async (c) => {
      let acked = false;
      await c.consume({ ackWaitMs: 1_000 }, async (s) => {
        if (s.label.startsWith('slow.')) {
          await c.f.passTime(2_500);
          acked = true;
        }
        s.m.ack();
      });
      await c.append('slow');
      await c.f.until(() => acked, 'the slow record acked', SOON_MS);
      await c.marker();
      assert.deepEqual(c.labels(), ['slow.hook#1', 'marker.hook#1']);
    });

    test('nak(delay) delivers the record again after the delay, not before', async (c) => {
      let nakAt = 0;
      await c.consume({ ackWaitMs: LONG_ACK_WAIT_MS }, async (s) => {
        if (s.label === 'n.hook#1') {
          nakAt = c.f.now();
          s.m.nak(NAK_DELAY_MS);
        } else s.m.ack();
      });
      await c.append('n');
      await c.f.until(() => c.seen.length === 1, 'the first delivery', SOON_MS);
      await c.marker(); // appended after the nak: delivered while the record waits out its delay
      await c.f.until(() => c.labels().includes('n.hook#2'), 'the redelivery', SOON_MS);
      assert.deepEqual(c.labels(), ['n.hook#1', 'marker.hook#1', 'n.hook#2']);
      const after = c.seen[2]!.at - nakAt;
      assert.ok(after >= NAK_DELAY_MS, `redelivered ${after} ms after nak(${NAK_DELAY_MS})`);
    });

    test('a handler that throws gives its record back: delivered again after a second, not before', async (c) => {
      await c.consume({ ackWaitMs: LONG_ACK_WAIT_MS }, async (s) => {
        if (s.label === 'boom.hook#1') throw new Error('boom');
        s.m.ack();
      });
      await c.append('boom');
      await c.f.until(() => c.seen.length === 1, 'the first delivery', SOON_MS);
      await c.marker();
      await c.f.until(() => c.labels().includes('boom.hook#2'), 'the redelivery', SOON_MS);
      assert.deepEqual(c.labels(), ['boom.hook#1', 'marker.hook#1', 'boom.hook#2']);
      const after = c.seen[2]!.at - c.seen[0]!.at;
      assert.ok(after >= THROW_RETRY_MS, `redelivered ${after} ms after the throw`);
    });

    test('runs at most `concurrency` handlers at once, and that many when records wait', async (c) => {
      let running = 0;
      let maxRunning = 0;
      let done = 0;
      const gate = c.gate();
      // a short ack wait: the records waiting for a slot are kept too (and a consumer's wait for a slot is short)
      await c.consume({ ackWaitMs: 1_000, concurrency: 3 }, async (s) => {
        maxRunning = Math.max(maxRunning, ++running);
        await gate.wait;
        running--;
        s.m.ack();
        done++;
      });
      for (let i = 0; i < 10; i++) await c.append(`t${i}`);
      await c.f.until(() => running === 3, 'three handlers running', SOON_MS);
      gate.open();
      await c.f.until(() => done === 10, 'every record', SOON_MS);
      assert.equal(maxRunning, 3);
      assert.ok(c.labels().every((l) => l.endsWith('#1')), c.labels().join(','));
    });

    test('consumers of one queue share it: each record goes to one of them', async (c) => {
      const by = new Map<string, string>();
      const handler = (who: string) => async (s: Seen) => {
        by.set(s.label, who);
        s.m.ack();
      };
      await c.consume({ ackWaitMs: LONG_ACK_WAIT_MS, concurrency: 1 }, handler('a'));
      await c.consume({ ackWaitMs: LONG_ACK_WAIT_MS, concurrency: 1 }, handler('b'));
      const names = Array.from({ length: 8 }, (_, i) => `t${i}`);
      for (const n of names) await c.append(n);
      await c.f.until(() => c.seen.length >= names.length, 'every record', SOON_MS);
      await c.marker();
      assert.deepEqual(c.labels().sort(), [...names.map((n) => `${n}.hook#1`), 'marker.hook#1'].sort());
    });

    test('after stop() and a new consume() delivery resumes: un-acked and new records come, acked ones do not', async (c) => {
      const a = await c.consume({ ackWaitMs: SHORT_ACK_WAIT_MS }, async (s) => {
        if (s.label === 'acked.hook#1') s.m.ack(); // 'held' is neither acked nor nak'ed: its holder "dies"
      });
      await c.append('acked');
      await c.append('held');
      await c.f.until(() => c.seen.length === 2, 'both deliveries', SOON_MS);
      await a.stop();
      await c.append('while-stopped');
      await c.consume({ ackWaitMs: SHORT_ACK_WAIT_MS });
      await c.f.until(() => c.labels().includes('held.hook#2') && c.labels().includes('while-stopped.hook#1'), 'the held and the new record', SOON_MS);
      await c.f.passTime(3 * SHORT_ACK_WAIT_MS);
      await c.marker();
      assert.deepEqual(c.labels().sort(), ['acked.hook#1', 'held.hook#1', 'held.hook#2', 'marker.hook#1', 'while-stopped.hook#1']);
    });

    test('stop() waits for the handlers in flight, then nothing more reaches the stopped consumer', async (c) => {
      const order: string[] = [];
      const gate = c.gate();
      const a = await c.consume({ ackWaitMs: LONG_ACK_WAIT_MS, concurrency: 2 }, async (s) => {
        order.push(`a got ${s.label}`);
        await gate.wait;
        s.m.ack();
        order.push(`a done ${s.label}`);
      });
      await c.append('t1');
      await c.f.until(() => order.length === 1, 'a running handler', SOON_MS);
      const stopped = a.stop().then(() => void order.push('a stopped'));
      gate.open();
      await stopped;
      await a.stop(); // a second stop() is a no-op
      await c.append('t2');
      await c.consume({ ackWaitMs: LONG_ACK_WAIT_MS }, async (s) => {
        order.push(`b got ${s.label}`);
        s.m.ack();
      });
      await c.f.until(() => order.includes('b got t2.hook#1'), 't2 on the second consumer', SOON_MS);
      await c.marker();
      assert.deepEqual(order, ['a got t1.hook#1', 'a done t1.hook#1', 'a stopped', 'b got t2.hook#1', 'b got marker.hook#1']);
    });
  });
}
