/**
 * One contract for every TaskLogs implementation (the memory twin stands in for stream LOGS in unit
 * tests and the simulation, so this is what makes those runs count):
 * `taskLogsContract('memory', async () => ({ logs: createMemoryTaskLogs({ maxBytesPerTask: CONTRACT_MAX_BYTES_PER_TASK }), cleanup }))`.
 * Each test gets a fresh store with that bound, writes under job ids of its own (a fixture may share
 * one stream between tests) and always calls `cleanup`. Waits are on conditions, never fixed sleeps.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isAppError } from '../../engine/errors.ts';
import type { LogChunk, LogEnd, LogFollowOptions, TaskLogs } from '../../engine/tasklogs/taskLogs.ts';
import { waitFor } from '../helpers/wait.ts';

/** The per-task bound every fixture's store is made with. */
export const CONTRACT_MAX_BYTES_PER_TASK = 64 * 1024;
/** Chunks are at most this big (engine/tasklogs/taskLogRecords.ts MAX_CHUNK_BYTES). */
const MAX_CHUNK = 16 * 1024;

export interface TaskLogsFixture {
  /** A store made with `maxBytesPerTask: CONTRACT_MAX_BYTES_PER_TASK`. */
  logs: TaskLogs;
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);
const isEnd = (x: LogChunk | LogEnd): x is LogEnd => 'reason' in x;
const textOf = (chunks: readonly LogChunk[]) => chunks.map((c) => c.text).join('');
const refused = (err: unknown) => isAppError(err, 'VALIDATION_FAILED');

/** A follow running in the background: what it has yielded so far, and how it ended. */
interface Following {
  items: (LogChunk | LogEnd)[];
  chunks(): LogChunk[];
  /** Resolves when the iteration ends (rejects with its error). */
  done: Promise<void>;
  abort(): void;
}

function startFollow(logs: TaskLogs, jobId: string, taskId: string, opts: Omit<LogFollowOptions, 'signal'> = {}): Following {
  const ac = new AbortController();
  const items: (LogChunk | LogEnd)[] = [];
  const done = (async () => {
    for await (const x of logs.follow(jobId, taskId, { ...opts, signal: ac.signal })) items.push(x);
  })();
  done.catch(() => undefined);
  return { items, chunks: () => items.filter((x): x is LogChunk => !isEnd(x)), done, abort: () => ac.abort() };
}

/** Waits until a read of the newest attempt shows `text` in full (the writer's ~200 ms flush). */
async function untilStored(logs: TaskLogs, jobId: string, taskId: string, text: string): Promise<void> {
  await waitFor(async () => textOf((await logs.read(jobId, taskId)).chunks) === text, { what: `stored output ${JSON.stringify(text.slice(0, 40))}` });
}

export function taskLogsContract(name: string, make: () => Promise<TaskLogsFixture>): void {
  const test = (title: string, fn: (logs: TaskLogs) => Promise<void>) =>
    it(title, async () => {
      const f = await make();
      // the writers' flush timers are unref'd (systemClock): with the memory store nothing else keeps
      // the event loop alive while a test awaits a flush, and Node 20's runner then cancels the test
      const keepAlive = setInterval(() => undefined, 1000);
      try {
        await fn(f.logs);
      } finally {
        clearInterval(keepAlive);
        await f.cleanup();
      }
    });

  describe(`TaskLogs contract: ${name}`, () => {
    test('write then read: chunks in written order with their streams, the end record, increasing seqs', async (logs) => {
      const job = randomUUID();
      const w = logs.writer(job, 't00000', 1);
      w.write('stdout', bytes('hello\n'));
      w.write('stderr', bytes('oops\n'));
      w.write('stdout', bytes('world\n'));
      await w.end({ reason: 'exited', exitCode: 0 });
      const r = await logs.read(job, 't00000');
      assert.equal(r.attempt, 1);
      assert.equal(r.truncated, false);
      assert.deepEqual(r.chunks.map((c) => [c.stream, c.text, c.attempt]), [['stdout', 'hello\n', 1], ['stderr', 'oops\n', 1], ['stdout', 'world\n', 1]]);
      for (let i = 1; i < r.chunks.length; i++) assert.ok(r.chunks[i]!.seq > r.chunks[i - 1]!.seq);
      for (const c of r.chunks) assert.ok(!Number.isNaN(Date.parse(c.at)) && c.at.endsWith('Z'), c.at);
      assert.ok(r.end);
      assert.deepEqual({ ...r.end, seq: 0, at: '' }, { seq: 0, attempt: 1, reason: 'exited', exitCode: 0, droppedBytes: 0, at: '' });
      assert.ok(r.end.seq > r.chunks.at(-1)!.seq);
      assert.deepEqual((await logs.read(job, 't00000', { stream: 'stderr' })).chunks.map((c) => c.text), ['oops\n']);
      assert.equal(textOf((await logs.read(job, 't00000', { stream: 'stdout' })).chunks), 'hello\nworld\n');
      // another task of the job, and an unknown one
      assert.deepEqual(await logs.read(job, 't00001'), { chunks: [], end: null, truncated: false, attempt: null });
    });

    test('both streams interleaved: the order written, each chunk one stream, small writes coalesced', async (logs) => {
      const job = randomUUID();
      const w = logs.writer(job, 's000000', 1);
      let all = '';
      let out = '';
      let err = '';
      for (let i = 0; i < 300; i++) {
        // runs of a few lines on one stream, then the other
        const stream = Math.floor(i / 7) % 2 === 0 ? 'stdout' : 'stderr';
        const line = `${stream} line ${i} ${'x'.repeat(i % 50)}\n`;
        w.write(stream, bytes(line));
        all += line;
        if (stream === 'stdout') out += line;
        else err += line;
      }
      await w.end({ reason: 'exited', exitCode: 0 });
      const r = await logs.read(job, 's000000');
      assert.equal(textOf(r.chunks), all);
      for (const c of r.chunks) assert.ok(c.text.split('\n').filter((l) => l !== '').every((l) => l.startsWith(c.stream)), `a chunk mixes streams: ${c.text.slice(0, 80)}`);
      // 43 runs of one stream: one chunk each, not one per write
      assert.equal(r.chunks.length, 43);
      assert.equal(textOf((await logs.read(job, 's000000', { stream: 'stdout' })).chunks), out);
      assert.equal(textOf((await logs.read(job, 's000000', { stream: 'stderr' })).chunks), err);
    });

    test('a long run is cut into chunks of at most 16 KiB, never inside a UTF-8 character', async (logs) => {
      const job = randomUUID();
      const w = logs.writer(job, 't00000', 1);
      const text = 'é€😀a'.repeat(5_000); // 2+3+4+1 bytes: every cut position is tried
      const b = bytes(text);
      // written in pieces that split characters too
      for (let at = 0; at < b.length; at += 999) w.write('stdout', b.subarray(at, at + 999));
      await w.end({ reason: 'exited', exitCode: 0 });
      const r = await logs.read(job, 't00000');
      assert.equal(textOf(r.chunks), text);
      assert.ok(r.chunks.length >= Math.ceil(b.length / MAX_CHUNK));
      for (const c of r.chunks) {
        assert.ok(bytes(c.text).length <= MAX_CHUNK);
        assert.ok(!c.text.includes('\uFFFD'), 'a chunk starts or ends inside a character');
      }
    });

    test('tailBytes: the last bytes (cut at a character), truncated when something was left out', async (logs) => {
      const job = randomUUID();
      const w = logs.writer(job, 't00000', 1);
      w.write('stdout', bytes('aaaaaaaaaa'));
      w.write('stderr', bytes('bbbbbbbbbb'));
      w.write('stdout', bytes('cccccccccé')); // 11 bytes
      await w.end({ reason: 'exited', exitCode: 0 });
      const tail = await logs.read(job, 't00000', { tailBytes: 15 });
      assert.equal(textOf(tail.chunks), 'bbbbcccccccccé');
      assert.deepEqual(tail.chunks.map((c) => c.stream), ['stderr', 'stdout']);
      assert.equal(tail.truncated, true);
      assert.ok(tail.end);
      const cut = await logs.read(job, 't00000', { tailBytes: 1 }); // half of 'é': nothing rather than a broken character
      assert.equal(textOf(cut.chunks), '');
      assert.equal(textOf((await logs.read(job, 't00000', { tailBytes: 2 })).chunks), 'é');
      const stdoutTail = await logs.read(job, 't00000', { stream: 'stdout', tailBytes: 12 });
      assert.equal(textOf(stdoutTail.chunks), 'acccccccccé');
      const whole = await logs.read(job, 't00000', { tailBytes: 31 });
      assert.equal(textOf(whole.chunks), 'aaaaaaaaaabbbbbbbbbbcccccccccé');
      assert.equal(whole.truncated, false);
      assert.equal((await logs.read(job, 't00000', { tailBytes: 0 })).chunks.length, 0);
    });

    test('attempts: the newest by default, any other by number, none yet for a later one', async (logs) => {
      const job = randomUUID();
      const w1 = logs.writer(job, 't00007', 1);
      w1.write('stdout', bytes('first try\n'));
      await w1.end({ reason: 'exited', exitCode: 1 });
      const w2 = logs.writer(job, 't00007', 2);
      w2.write('stdout', bytes('second try\n'));
      await untilStored(logs, job, 't00007', 'second try\n');
      const newest = await logs.read(job, 't00007');
      assert.equal(newest.attempt, 2);
      assert.equal(newest.end, null); // still running
      const one = await logs.read(job, 't00007', { attempt: 1 });
      assert.equal(textOf(one.chunks), 'first try\n');
      assert.equal(one.end?.exitCode, 1);
      assert.equal(one.end?.reason, 'exited');
      assert.deepEqual(await logs.read(job, 't00007', { attempt: 3 }), { chunks: [], end: null, truncated: false, attempt: 3 });
      await w2.end({ reason: 'timeLimit', exitCode: null });
      const ended = await logs.read(job, 't00007');
      assert.deepEqual([ended.end?.reason, ended.end?.exitCode, ended.end?.attempt], ['timeLimit', null, 2]);
      // an attempt that ended without output is the newest too
      await logs.writer(job, 't00007', 3).end({ reason: 'spawnFailed', exitCode: null });
      const three = await logs.read(job, 't00007');
      assert.deepEqual([three.attempt, three.chunks.length, three.end?.reason], [3, 0, 'spawnFailed']);
    });

    test('the per-task bound: older chunks go first, across attempts; truncated says so; end records stay', async (logs) => {
      const job = randomUUID();
      const line = (a: number, i: number) => `attempt ${a} line ${String(i).padStart(5, '0')} ${'-'.repeat(i % 90)}\n`;
      const w1 = logs.writer(job, 't00000', 1);
      let first = '';
      for (let i = 0; i < 1500; i++) {
        w1.write('stdout', bytes(line(1, i)));
        first += line(1, i);
      }
      await w1.end({ reason: 'exited', exitCode: 3 });
      const r1 = await logs.read(job, 't00000');
      assert.ok(bytes(first).length > CONTRACT_MAX_BYTES_PER_TASK);
      const kept1 = textOf(r1.chunks);
      assert.ok(first.endsWith(kept1) && kept1.length > 0);
      assert.ok(bytes(kept1).length <= CONTRACT_MAX_BYTES_PER_TASK && bytes(kept1).length > CONTRACT_MAX_BYTES_PER_TASK - MAX_CHUNK, `${bytes(kept1).length} bytes kept`);
      assert.equal(r1.truncated, true);
      // a second attempt that writes more than the bound: nothing of the first one's output is left
      const w2 = logs.writer(job, 't00000', 2);
      let second = '';
      for (let i = 0; i < 3000; i++) {
        const s = i % 3 === 0 ? 'stderr' : 'stdout';
        w2.write(s, bytes(line(2, i)));
        second += line(2, i);
      }
      await w2.end({ reason: 'exited', exitCode: 0 });
      const r2 = await logs.read(job, 't00000');
      assert.equal(r2.attempt, 2);
      assert.equal(r2.truncated, true);
      const kept2 = textOf(r2.chunks);
      assert.ok(second.endsWith(kept2), 'the newest output is kept, in order');
      assert.ok(bytes(kept2).length <= CONTRACT_MAX_BYTES_PER_TASK, `${bytes(kept2).length} bytes kept`);
      const old = await logs.read(job, 't00000', { attempt: 1 });
      assert.deepEqual(old.chunks, []);
      assert.equal(old.truncated, true);
      assert.equal(old.end?.exitCode, 3); // the end record outlives the attempt's output
      // a small attempt under the bound is not truncated
      const small = logs.writer(job, 't00001', 1);
      small.write('stdout', bytes('fits\n'));
      await small.end({ reason: 'exited', exitCode: 0 });
      assert.equal((await logs.read(job, 't00001')).truncated, false);
    });

    test('follow: what is stored, then live chunks as they are written, then the end record, then it ends', async (logs) => {
      const job = randomUUID();
      const w = logs.writer(job, 't00000', 1);
      w.write('stdout', bytes('before\n'));
      await untilStored(logs, job, 't00000', 'before\n');
      const f = startFollow(logs, job, 't00000');
      try {
        await waitFor(() => textOf(f.chunks()) === 'before\n', { what: 'the stored chunk' });
        w.write('stderr', bytes('live 1\n'));
        await waitFor(() => textOf(f.chunks()) === 'before\nlive 1\n', { what: 'a live chunk before the end' });
        w.write('stdout', bytes('live 2\n'));
        await w.end({ reason: 'exited', exitCode: 0 });
        await f.done;
        assert.deepEqual(f.chunks().map((c) => [c.stream, c.text]), [['stdout', 'before\n'], ['stderr', 'live 1\n'], ['stdout', 'live 2\n']]);
        const last = f.items.at(-1)!;
        assert.ok(isEnd(last));
        assert.deepEqual([last.reason, last.exitCode, last.attempt], ['exited', 0, 1]);
        assert.equal(f.items.filter(isEnd).length, 1);
      } finally {
        f.abort();
      }
      // following a finished attempt gives what is stored and its end at once
      const again = startFollow(logs, job, 't00000', { stream: 'stderr' });
      await again.done;
      assert.deepEqual(again.items.map((x) => (isEnd(x) ? 'end' : x.text)), ['live 1\n', 'end']);
    });

    test('follow resumes after afterSeq: no duplicate, no gap', async (logs) => {
      const job = randomUUID();
      const w = logs.writer(job, 't00000', 1);
      const parts = ['one\n', 'two\n', 'three\n', 'four\n'];
      // alternate streams: each part is a chunk of its own
      w.write('stdout', bytes(parts[0]!));
      w.write('stderr', bytes(parts[1]!));
      await untilStored(logs, job, 't00000', parts[0]! + parts[1]!);
      const f = startFollow(logs, job, 't00000');
      await waitFor(() => f.chunks().length === 2, { what: 'two chunks' });
      f.abort();
      await f.done;
      const seen = f.chunks();
      // the client "lost" the second chunk: it resumes after the first
      w.write('stdout', bytes(parts[2]!));
      w.write('stderr', bytes(parts[3]!));
      const resumed = startFollow(logs, job, 't00000', { afterSeq: seen[0]!.seq });
      try {
        await untilStored(logs, job, 't00000', parts.join(''));
        await w.end({ reason: 'exited', exitCode: 0 });
        await resumed.done;
        assert.deepEqual(resumed.chunks().map((c) => c.text), parts.slice(1));
        assert.ok(resumed.chunks().every((c) => c.seq > seen[0]!.seq));
        assert.ok(isEnd(resumed.items.at(-1)!));
        // after the end record: nothing more, and it ends
        const end = resumed.items.at(-1)!;
        const after = startFollow(logs, job, 't00000', { afterSeq: end.seq });
        await after.done;
        assert.deepEqual(after.items, []);
        // tailBytes without afterSeq: the tail (the oldest chunk cut), then the end
        const tail = startFollow(logs, job, 't00000', { tailBytes: 6 });
        await tail.done;
        assert.deepEqual(tail.items.map((x) => (isEnd(x) ? 'end' : x.text)), ['\n', 'four\n', 'end']);
      } finally {
        resumed.abort();
      }
    });

    test('follow of a task with no output yet waits for its first output, then follows that attempt', async (logs) => {
      const job = randomUUID();
      const f = startFollow(logs, job, 't00003');
      try {
        let settled = false;
        void f.done.finally(() => (settled = true));
        // an unrelated task's output does not wake it
        const other = logs.writer(job, 't00004', 1);
        other.write('stdout', bytes('other\n'));
        await other.end({ reason: 'exited', exitCode: 0 });
        assert.equal(f.items.length, 0);
        assert.equal(settled, false);
        const w = logs.writer(job, 't00003', 1);
        w.write('stdout', bytes('at last\n'));
        await waitFor(() => f.chunks().length === 1, { what: 'the first output' });
        await w.end({ reason: 'aborted', exitCode: null });
        await f.done;
        assert.deepEqual(f.items.map((x) => (isEnd(x) ? `end:${x.reason}` : x.text)), ['at last\n', 'end:aborted']);
      } finally {
        f.abort();
      }
    });

    test('follow ends when its signal aborts, and when a newer attempt writes', async (logs) => {
      const job = randomUUID();
      const f = startFollow(logs, job, 't00000');
      f.abort();
      await f.done; // no output, no end: only the signal ends it
      const w1 = logs.writer(job, 't00000', 1);
      w1.write('stdout', bytes('attempt 1\n'));
      await untilStored(logs, job, 't00000', 'attempt 1\n');
      const g = startFollow(logs, job, 't00000', { attempt: 1 });
      try {
        await waitFor(() => g.chunks().length === 1, { what: 'attempt 1 output' });
        // attempt 1's worker died without an end record; attempt 2 starts
        const w2 = logs.writer(job, 't00000', 2);
        w2.write('stdout', bytes('attempt 2\n'));
        await g.done;
        assert.deepEqual(g.items.map((x) => (isEnd(x) ? 'end' : x.text)), ['attempt 1\n']);
        await w2.end({ reason: 'exited', exitCode: 0 });
      } finally {
        g.abort();
      }
    });

    test('purgeJob removes every task of that job and nothing else', async (logs) => {
      const [a, b] = [randomUUID(), randomUUID()];
      for (const [job, task] of [[a, 't00000'], [a, 'r000001'], [b, 't00000']] as const) {
        const w = logs.writer(job, task, 1);
        w.write('stdout', bytes(`${task}\n`));
        await w.end({ reason: 'exited', exitCode: 0 });
      }
      await logs.purgeJob(a);
      assert.deepEqual(await logs.read(a, 't00000'), { chunks: [], end: null, truncated: false, attempt: null });
      assert.deepEqual(await logs.read(a, 'r000001'), { chunks: [], end: null, truncated: false, attempt: null });
      assert.equal(textOf((await logs.read(b, 't00000')).chunks), 't00000\n');
      await logs.purgeJob(randomUUID()); // a job without output: nothing to do
      // written again after a purge: readable as before
      const w = logs.writer(a, 't00000', 2);
      w.write('stdout', bytes('again\n'));
      await w.end({ reason: 'exited', exitCode: 0 });
      assert.equal(textOf((await logs.read(a, 't00000')).chunks), 'again\n');
    });

    test('ids and options that could not be a subject or a read are refused (VALIDATION_FAILED)', async (logs) => {
      const job = randomUUID();
      const badJobs = ['', 'job', 'not-a-uuid', job.toUpperCase(), `${job}.x`, `${job.slice(0, -1)}*`, '>', `${job}\n`];
      const badTasks = ['', 't1', 't0000', 'x00000', 's00000', 't00000.out', 't00000.>', 't00000 ', '*', '>', 't'.padEnd(40, '0'), 'T00000'];
      const signal = new AbortController().signal;
      for (const j of badJobs) {
        assert.throws(() => logs.writer(j, 't00000', 1), refused, j);
        await assert.rejects(logs.read(j, 't00000'), refused, j);
        assert.throws(() => logs.follow(j, 't00000', { signal }), refused, j);
        await assert.rejects(logs.purgeJob(j), refused, j);
      }
      for (const t of badTasks) {
        assert.throws(() => logs.writer(job, t, 1), refused, t);
        await assert.rejects(logs.read(job, t), refused, t);
        assert.throws(() => logs.follow(job, t, { signal }), refused, t);
      }
      for (const attempt of [0, -1, 1.5, Number.NaN]) {
        assert.throws(() => logs.writer(job, 't00000', attempt), refused, String(attempt));
        await assert.rejects(logs.read(job, 't00000', { attempt }), refused, String(attempt));
      }
      await assert.rejects(logs.read(job, 't00000', { tailBytes: -1 }), refused);
      await assert.rejects(logs.read(job, 't00000', { tailBytes: 0.5 }), refused);
      await assert.rejects(logs.read(job, 't00000', { stream: 'stdin' as 'stdout' }), refused);
      assert.throws(() => logs.follow(job, 't00000', { signal, afterSeq: -1 }), refused);
      // the good ones
      for (const t of ['t00000', 't123456', 's000000', 'r000123']) assert.deepEqual((await logs.read(job, t)).attempt, null);
    });

    test('a writer never throws: not after close, not with odd input, not when ended twice', async (logs) => {
      const job = randomUUID();
      const w = logs.writer(job, 't00000', 1);
      w.write('stdout', bytes('kept\n'));
      await w.end({ reason: 'exited', exitCode: 0 });
      await w.end({ reason: 'exited', exitCode: 0 }); // twice: no second end record
      w.write('stdout', bytes('after the end\n')); // ignored
      const r = await logs.read(job, 't00000');
      assert.equal(textOf(r.chunks), 'kept\n');
      w.write('stdout', new Uint8Array(0));
      w.write('stdin' as 'stdout', bytes('x'));
      w.write('stdout', 'not bytes' as unknown as Uint8Array);
      const open = logs.writer(job, 't00001', 1);
      open.write('stdout', bytes('written before close\n'));
      await logs.close();
      open.write('stdout', bytes('written after close\n'));
      await open.end({ reason: 'aborted', exitCode: null });
      const late = logs.writer(job, 't00002', 1);
      late.write('stderr', bytes('x'.repeat(100_000)));
      await late.end({ reason: 'exited', exitCode: 0 });
      await logs.close(); // twice
    });
  });
}
