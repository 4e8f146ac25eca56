/**
 * xstate's pure `transition` and initial snapshot for a flat machine, without the generic statechart
 * work that such a machine never needs. Replay folds every stored event through the job machine, and
 * xstate's macrostep spent ~4 µs per event on exit and entry sets, transition domains, eventless
 * transitions and a state value and tag set recomputed for every intermediate snapshot; the machine's
 * own part (choosing the transition, its guards, its assign actions) is a fraction of it.
 *
 * **Flat** means: states directly under the root, all atomic, and no entry or exit actions, `always`,
 * `after`, `invoke` or history anywhere; every transition action is an `assign`; targets are the
 * root's children. For such a machine a transition is exactly: xstate's own `getTransitionData`
 * (the machine's candidates and guards) → the transition's assigns, in order, each merged into the
 * context the way xstate merges it → the target state's value, nodes and tags. Anything else (a
 * machine that is not flat, several transitions at once, a self-transition, an `xstate.*` event, a
 * snapshot that is not active, any exception) goes through xstate itself, so the result is xstate's
 * in every case (test/unit/actors/flatMachineSteps.test.ts folds random histories both ways).
 */
import type { ActorScope, AnyMachineSnapshot, AnyStateMachine, AnyStateNode, EventObject } from 'xstate';

/** `machine.transition` and `machine.getInitialSnapshot` with one scope. */
export interface MachineSteps<S extends AnyMachineSnapshot, E extends EventObject, I> {
  /** Same as `machine.transition(s, ev, scope)`: `s` itself when no transition is enabled. */
  transition(s: S, ev: E): S;
  /** Same as `machine.getInitialSnapshot(scope, input)`. */
  initial(input: I): S;
  /** The short path is on (false: every call is xstate's own). */
  readonly flat: boolean;
}

/** An `assign(…)` action object as xstate builds it. */
interface AssignAction {
  type: 'xstate.assign';
  assignment: ((args: object, params: unknown) => object | undefined) | Record<string, unknown>;
}

/** A transition's action as the machine config lists it: a name, `{ type, params }` or an inline action. */
type ActionRef = string | { type: string; params?: unknown } | ((...args: unknown[]) => unknown);

interface Transition {
  target: readonly AnyStateNode[] | undefined;
  actions: readonly ActionRef[];
}

/** xstate's `resolveAssign`: the assignment's update merged into a new context object. */
function assigned(a: AssignAction, context: object, event: EventObject, params: unknown, self: unknown, system: unknown): object {
  const args = { context, event, spawn: noSpawn, self, system };
  let update: object | undefined;
  if (typeof a.assignment === 'function') update = a.assignment(args, params);
  else {
    const u: Record<string, unknown> = {};
    for (const key of Object.keys(a.assignment)) {
      const p = a.assignment[key];
      u[key] = typeof p === 'function' ? (p as (x: object, y: unknown) => unknown)(args, params) : p;
    }
    update = u;
  }
  return merged(context, update);
}

/**
 * `Object.assign({}, context, update)`, which is what xstate does, as a spread: the same keys, values
 * and order, but a spread of a fast object stays fast, where `Object.assign` onto `{}` leaves an object
 * of the job context's ~30 keys in dictionary mode (slower to read, ~1.6 KB more per finished job held
 * in memory, measured). Only an own `__proto__` key would differ (assign sets the prototype); then assign.
 */
function merged(context: object, update: object | undefined): object {
  if (update === undefined || update === null) return { ...context };
  if (Object.hasOwn(context, '__proto__') || Object.hasOwn(update, '__proto__')) return Object.assign({}, context, update);
  return { ...context, ...update };
}

/** A folded machine spawns nothing; an assign that tries takes xstate's own path (see `transition`). */
function noSpawn(): never {
  throw new Error('spawn is not available on the short path');
}

const isAssign = (a: unknown): a is AssignAction =>
  typeof a === 'function' && (a as { type?: unknown }).type === 'xstate.assign' && (a as { assignment?: unknown }).assignment != null;

/** The assign an action of `machine` stands for, or undefined when it is anything else. */
function assignOf(machine: AnyStateMachine, ref: ActionRef): AssignAction | undefined {
  if (typeof ref === 'function') return isAssign(ref) ? ref : undefined;
  const impl: unknown = (machine.implementations.actions as Record<string, unknown>)[typeof ref === 'string' ? ref : ref.type];
  return isAssign(impl) ? impl : undefined;
}

/** A state node with no entry or exit actions (`after` adds some), no `always`, `invoke` or history. */
const bare = (n: AnyStateNode) => n.entry.length === 0 && n.exit.length === 0 && n.always === undefined && n.invoke.length === 0 && n.history === false;

/** True when `machine` is flat (see the file's comment). */
export function isFlatMachine(machine: AnyStateMachine): boolean {
  const root = machine.root;
  if (root.type !== 'compound' || !bare(root)) return false;
  const initial = root.initial as Transition | undefined;
  if (initial?.target?.length !== 1 || initial.actions.length > 0) return false;
  const children = Object.values(root.states);
  if (!children.every((n) => n.type === 'atomic' && bare(n))) return false;
  for (const node of [root, ...children]) {
    for (const list of node.transitions.values()) {
      for (const t of list as Transition[]) {
        if (t.target !== undefined && (t.target.length !== 1 || t.target[0]!.parent !== root)) return false;
        if (!t.actions.every((a) => assignOf(machine, a) !== undefined)) return false;
      }
    }
  }
  return true;
}

/** The steps of `machine` in `scope`: the short path when the machine is flat, xstate's own otherwise. */
export function createMachineSteps<S extends AnyMachineSnapshot, E extends EventObject, I>(machine: AnyStateMachine, scope: ActorScope<S, E>): MachineSteps<S, E, I> {
  const full = (s: S, ev: E) => machine.transition(s, ev, scope as never) as S;
  const fullInitial = (input: I) => machine.getInitialSnapshot(scope as never, input) as S;
  const flat = isFlatMachine(machine);
  if (!flat) return { transition: full, initial: fullInitial, flat };

  const root = machine.root;
  const { self, system } = scope;
  /** Per target state: a snapshot xstate made in it, whose value, nodes and tags every transition into it gets. */
  const inState = new Map<AnyStateNode, S>();
  /** The first initial snapshot xstate made: all but the context of every other. */
  let initialShape: S | undefined;

  function transition(s: S, ev: E): S {
    if (s.status !== 'active' || typeof s.value !== 'string' || ev.type.startsWith('xstate.')) return full(s, ev);
    try {
      const ts = machine.getTransitionData(s, ev) as Transition[];
      if (ts.length === 0) return s;
      if (ts.length > 1) return full(s, ev);
      const t = ts[0]!;
      const target = t.target?.[0];
      if (target === undefined && t.actions.length === 0) return s; // a forbidden transition: xstate changes nothing
      if (target !== undefined && target === root.states[s.value]) return full(s, ev); // reentry is xstate's to decide
      let context = s.context as object;
      for (const ref of t.actions) {
        const params = typeof ref === 'object' ? (typeof ref.params === 'function' ? (ref.params as (a: object) => unknown)({ context, event: ev }) : ref.params) : undefined;
        context = assigned(assignOf(machine, ref)!, context, ev, params, self, system);
      }
      if (target === undefined) return { ...s, context };
      const shape = inState.get(target);
      if (shape === undefined) {
        const next = full(s, ev);
        if (next.status === 'active' && next.value === target.key) inState.set(target, next);
        return next;
      }
      return { ...s, _nodes: shape._nodes, value: shape.value, tags: shape.tags, context };
    } catch {
      return full(s, ev); // xstate's own answer: the same error, or whatever it makes of it
    }
  }

  function initial(input: I): S {
    if (initialShape === undefined) {
      const first = fullInitial(input);
      if (first.status === 'active') initialShape = first;
      return first;
    }
    try {
      const ctx: unknown = machine.config.context;
      const context = typeof ctx === 'function' ? merged({}, ctx({ spawn: noSpawn, input, self }) as object) : (ctx ?? {});
      return { ...initialShape, context };
    } catch {
      return fullInitial(input);
    }
  }

  return { transition, initial, flat };
}

/**
 * `machine.resolveState({ value, context })` for a state `value` of a flat machine: the snapshot xstate
 * resolves for that state once, with `context` in it (xstate recomputes the nodes, the state value and
 * the tags every time: ~3 µs per restored job, which a replay of compacted jobs pays once per job).
 * Any other machine or value is xstate's own.
 */
export function createStateResolver<S extends AnyMachineSnapshot>(machine: AnyStateMachine): (value: string, context: S['context']) => S {
  const full = (value: string, context: S['context']) => machine.resolveState({ value, context }) as S;
  if (!isFlatMachine(machine)) return full;
  const shapes = new Map<string, S>();
  return (value, context) => {
    if (!Object.hasOwn(machine.root.states, value)) return full(value, context);
    let shape = shapes.get(value);
    if (shape === undefined) {
      shape = full(value, context);
      if (shape.status !== 'active') return shape;
      shapes.set(value, shape);
      return shape;
    }
    return { ...shape, context: context || {} };
  };
}
