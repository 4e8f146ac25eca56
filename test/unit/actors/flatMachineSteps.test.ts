/**
 * The short path of flatMachineSteps.ts gives xstate's own result: random job histories (legal and
 * illegal events mixed) folded both ways, snapshot by snapshot; and machines it cannot take are left
 * to xstate.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assign, createActor, createMachine, initialTransition, setup, transition, type ActorScope, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import type { JobEvent, TaskPlan } from '../../../actors/events.ts';
import { createMachineSteps, createStateResolver, isFlatMachine } from '../../../actors/flatMachineSteps.ts';
import { jobMachine } from '../../../actors/job.machine.ts';
import { canApply, compactedContext, pendingTasks, restoreJob, startJob, tryApply, type JobSnapshot } from '../../../actors/jobFold.ts';
import { JOB_STATES } from '../../../actors/events.ts';
import { jobEvents, result } from './jobEvents.fixture.ts';

/** Everything xstate puts in a snapshot, compared by content (the short path shares unchanged parts). */
function assertSame(actual: AnyMachineSnapshot, expected: AnyMachineSnapshot, what: string): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${what}: fields`);
  assert.equal(actual.status, expected.status, `${what}: status`);
  assert.deepEqual(actual.value, expected.value, `${what}: value`);
  assert.deepEqual(actual.context, expected.context, `${what}: context`);
  assert.deepEqual([...actual.tags].sort(), [...expected.tags].sort(), `${what}: tags`);
  assert.deepEqual(actual._nodes.map((n) => n.id).sort(), expected._nodes.map((n) => n.id).sort(), `${what}: nodes`);
  assert.deepEqual(actual.children, expected.children, `${what}: children`);
  assert.deepEqual(actual.historyValue, expected.historyValue, `${what}: history`);
  assert.equal(actual.output, expected.output, `${what}: output`);
  assert.equal(actual.error, expected.error, `${what}: error`);
  assert.equal(actual.machine, expected.machine, `${what}: machine`);
}

const e = jobEvents('job-1');
const other = jobEvents('job-2');
const taskId = fc.constantFrom('t0', 't1', 't2', 't9');
const epoch = fc.nat(2);
const plan = fc.array(fc.record({ items: fc.nat(4), bytes: fc.nat(50) }), { maxLength: 3 }).map((ts): TaskPlan[] => ts.map((t, i) => ({ taskId: `t${i}`, payload: null, ...t })));

/** Any job event, legal or not in whatever state the job is in. */
const eventArb: fc.Arbitrary<JobEvent> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ ep: epoch, c: fc.constantFrom('c1', 'c2') }).map(({ ep, c }) => e.claimed(ep, c)) },
  { weight: 4, arbitrary: fc.record({ p: plan, ep: epoch }).map(({ p, ep }) => e.planned(p, ep)) },
  { weight: 1, arbitrary: fc.record({ p: plan, ep: epoch, after: fc.nat(3), open: fc.boolean() }).map(({ p, ep, after, open }) => ({ type: 'TasksExtended', data: { after, tasks: p.map((t, i) => ({ ...t, taskId: `x${after}-${i}` })), ...(open ? { cursor: after + 1 } : {}) }, meta: e.meta(ep) }) as JobEvent) },
  { weight: 4, arbitrary: fc.record({ id: taskId, a: fc.integer({ min: 1, max: 4 }), done: fc.nat(5), bad: fc.nat(2), ep: epoch }).map(({ id, a, done, bad, ep }) => e.taskOk(id, a, result(done, bad), ep)) },
  { weight: 1, arbitrary: fc.record({ id: taskId, a: fc.integer({ min: 1, max: 4 }), retryable: fc.boolean(), ep: epoch }).map(({ id, a, retryable, ep }) => e.taskFail(id, a, { retryable, result: result(1), epoch: ep })) },
  { weight: 1, arbitrary: epoch.map((ep) => e.paused(ep)) },
  { weight: 1, arbitrary: epoch.map((ep) => e.resumed(ep)) },
  { weight: 1, arbitrary: fc.record({ ep: epoch, c: fc.constantFrom('c1', 'c2') }).map(({ ep, c }) => e.requeued(ep, c)) },
  { weight: 4, arbitrary: epoch.map((ep) => e.verifying(ep)) },
  { weight: 1, arbitrary: fc.record({ ep: epoch, early: fc.boolean() }).map(({ ep, early }) => ({ ...e.verifying(ep), data: early ? { early: true } : {} }) as JobEvent) },
  { weight: 3, arbitrary: epoch.map((ep) => e.succeeded(ep, { files: ep })) },
  { weight: 1, arbitrary: epoch.map((ep) => e.failed(ep)) },
  { weight: 1, arbitrary: epoch.map((ep) => e.stopped(ep, 'asked')) },
  { weight: 1, arbitrary: epoch.map((ep) => e.stopRequested(ep)) },
  { weight: 1, arbitrary: fc.record({ ep: epoch, mode: fc.constantFrom('failed' as const, 'notSucceeded' as const) }).map(({ ep, mode }) => e.recovered(ep, mode)) },
  { weight: 1, arbitrary: fc.record({ ep: epoch, a: fc.nat(3) }).map(({ ep, a }) => e.retried(ep, a)) },
  { weight: 1, arbitrary: fc.record({ ep: epoch, active: fc.boolean() }).map(({ ep, active }) => e.activeSet(ep, active)) },
  { weight: 1, arbitrary: fc.record({ ep: epoch, n: fc.option(fc.integer({ min: 1, max: 4 })) }).map(({ ep, n }) => ({ type: 'ParallelismSet', data: { parallelism: n }, meta: e.meta(ep) }) as JobEvent) },
  { weight: 1, arbitrary: epoch.map((ep) => other.paused(ep)) },
);

/** The next event of a job's ordinary life in state `s`. */
function forward(s: JobSnapshot): JobEvent {
  const c = s.context;
  switch (s.value) {
    case 'WAITING': return e.claimed(c.epoch + 1);
    case 'PAUSED': return e.resumed(c.epoch);
    case 'RUNNING': {
      if (c.tasks === null) return e.planned([{ taskId: 't0', payload: null, items: 2, bytes: 20 }, { taskId: 't1', payload: null, items: 1, bytes: 0 }], c.epoch);
      const pending = pendingTasks(s)[0];
      return pending === undefined ? e.verifying(c.epoch) : e.taskOk(pending.task.taskId, pending.nextAttempt, result(1), c.epoch);
    }
    case 'VERIFYING': return e.succeeded(c.epoch, { ok: true });
    default: return e.recovered(c.epoch, 'notSucceeded');
  }
}

/** An inert scope, like jobFold's, for xstate's own path. */
function scopeOf<S extends AnyMachineSnapshot, E extends EventObject>(machine: AnyStateMachine, input?: unknown): ActorScope<S, E> {
  const self = createActor(machine, { input });
  const noop = () => {};
  return { self, id: '', sessionId: '', system: self.system, logger: noop, defer: noop, emit: noop, stopChild: noop, actionExecutor: noop } as unknown as ActorScope<S, E>;
}

const steps = createMachineSteps<JobSnapshot, JobEvent, JobEvent>(jobMachine, scopeOf(jobMachine, e.submitted()));

describe('flatMachineSteps', () => {
  it('takes the job machine on the short path', () => {
    assert.equal(isFlatMachine(jobMachine), true);
    assert.equal(steps.flat, true);
  });

  it('folds random job histories exactly as xstate does, legal and illegal events alike', () => {
    let accepted = 0;
    let rejected = 0;
    const states = new Set<string>();
    fc.assert(
      fc.property(
        fc.record({ labels: fc.boolean(), parallelism: fc.option(fc.nat(3)) }),
        fc.array(fc.record({ candidates: fc.array(eventArb, { minLength: 1, maxLength: 5 }), hint: fc.boolean() }), { maxLength: 40 }),
        (sub, rounds) => {
          const submitted = e.submitted({ ...(sub.labels ? { labels: { team: 'a' } } : {}), ...(sub.parallelism !== null ? { parallelism: sub.parallelism } : {}) });
          let s: JobSnapshot = startJob(submitted);
          assertSame(s, initialTransition(jobMachine, submitted)[0], 'initial');
          assertSame(steps.initial(submitted), s, 'initial, again');
          for (const round of rounds) {
            // half the rounds lead with the event that moves the job along its happy path, so runs get deep
            const candidates = round.hint ? [forward(s), ...round.candidates] : round.candidates;
            let next: JobSnapshot | undefined;
            for (const ev of candidates) {
              const expected = transition(jobMachine, s, ev)[0];
              const actual = steps.transition(s, ev);
              assert.equal(actual === s, expected === s, `${ev.type} in ${s.value}: accepted by both or neither`);
              if (actual !== s) assertSame(actual, expected, `${ev.type} in ${s.value}`);
              // the projection's one transition agrees with the machine's `can` (and the job id check)
              const applied = tryApply(s, ev);
              assert.equal(applied !== undefined, canApply(s, ev), `${ev.type} in ${s.value}: tryApply and canApply`);
              if (applied === undefined) {
                rejected++;
                continue;
              }
              accepted++;
              states.add(applied.value);
              assertSame(applied, expected, `${ev.type} in ${s.value}, tryApply`);
              next ??= applied;
            }
            if (next !== undefined) s = next;
          }
        },
      ),
      { numRuns: 500 },
    );
    assert.ok(accepted > 1000 && rejected > 1000, `accepted ${accepted}, rejected ${rejected}`);
    for (const st of ['WAITING', 'RUNNING', 'PAUSED', 'VERIFYING', 'SUCCEEDED', 'FAILED', 'STOPPED']) assert.ok(states.has(st), `never reached ${st}`);
  });

  it('answers with xstate for what it does not take: an error in an assign, an error snapshot', () => {
    const m = setup({ types: { context: {} as { n: number }, events: {} as { type: 'inc' } | { type: 'boom' } } }).createMachine({
      context: { n: 0 },
      initial: 'a',
      states: {
        a: {
          on: {
            inc: { target: 'b', actions: assign(({ context }) => ({ n: context.n + 1 })) },
            boom: { actions: assign(() => { throw new Error('boom'); }) },
          },
        },
        b: { on: { inc: { actions: assign(({ context }) => ({ n: context.n + 1 })) } } },
      },
    });
    const steps = createMachineSteps(m, scopeOf(m));
    assert.equal(steps.flat, true);
    const s0 = steps.initial(undefined);
    assertSame(s0, initialTransition(m)[0], 'initial');
    const s1 = steps.transition(s0, { type: 'inc' });
    assertSame(s1, transition(m, s0, { type: 'inc' })[0], 'a → b');
    const s2 = steps.transition(s1, { type: 'inc' });
    assertSame(s2, transition(m, s1, { type: 'inc' })[0], 'b, assign only');
    assert.equal(steps.transition(s2, { type: 'boom' }), s2, 'not handled in b');
    assert.throws(() => steps.transition(s0, { type: 'boom' }), /boom/, 'the error xstate throws');
  });

  it('leaves machines that are not flat to xstate', () => {
    const machines = {
      entry: createMachine({ initial: 'a', states: { a: { entry: assign({}) } } }),
      always: createMachine({ initial: 'a', states: { a: { always: { target: 'b' } }, b: {} } }),
      after: createMachine({ initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } }),
      nested: createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: {} } } } }),
      final: createMachine({ initial: 'a', states: { a: { on: { go: 'b' } }, b: { type: 'final' } } }),
      sideEffect: createMachine({ initial: 'a', states: { a: { on: { go: { actions: () => undefined } } } } }),
    };
    for (const [name, m] of Object.entries(machines)) assert.equal(isFlatMachine(m), false, name);
    const steps = createMachineSteps(machines.final, scopeOf(machines.final));
    assert.equal(steps.flat, false);
    const s = steps.transition(steps.initial(undefined), { type: 'go' });
    assert.equal(s.status, 'done');
  });

  it('resolves a state with a context as xstate does (restored compacted jobs)', () => {
    const resolve = createStateResolver<JobSnapshot>(jobMachine);
    const ctx = startJob(e.submitted({ labels: { a: 'b' } })).context;
    for (const value of JOB_STATES) {
      for (let i = 0; i < 2; i++) {
        const context = { ...ctx, epoch: i };
        assertSame(resolve(value, context), jobMachine.resolveState({ value, context }), `${value} #${i}`);
      }
    }
    for (const state of ['SUCCEEDED', 'FAILED', 'STOPPED'] as const) {
      const ev = e.compacted(3, { state, context: compactedContext(ctx), submitSeq: 7 });
      const restored = restoreJob(ev);
      assertSame(restored, jobMachine.resolveState({ value: state, context: restored.context }), `restoreJob ${state}`);
    }
    const nested = createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: {} } } } });
    const viaXstate = createStateResolver(nested);
    assertSame(viaXstate('a', {}), nested.resolveState({ value: 'a', context: {} }), 'not flat: xstate');
  });
});
