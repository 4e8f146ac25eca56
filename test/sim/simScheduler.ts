/**
 * `fc.scheduler()` made replayable under shrinking.
 *
 * fast-check 4.10's scheduler clones itself once per shrink candidate, but every clone of one
 * generated scheduler shares a single task selector: the second clone continues the first one's
 * random stream instead of restarting it. A shrink step that passed or failed during the run can
 * then behave differently when `SIM_SEED`/`SIM_PATH` replays it. Here every clone is a pristine
 * scheduler built from the same saved random state, so a path always replays the same order.
 */
import fc from 'fast-check';

class ReplayableSchedulerArbitrary extends fc.Arbitrary<fc.Scheduler> {
  readonly #inner = fc.scheduler();

  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<fc.Scheduler> {
    const saved = mrng.clone(); // fc.scheduler() does not advance mrng either
    const fresh = (): fc.Scheduler => {
      // generate() clones `saved` before drawing from it: each call starts from the same state
      const s = this.#inner.generate(saved, biasFactor).value_;
      return Object.assign(s, { [fc.cloneMethod]: fresh });
    };
    return new fc.Value(fresh(), undefined);
  }

  canShrinkWithoutContext(_value: unknown): _value is fc.Scheduler {
    return false;
  }

  shrink(): fc.Stream<fc.Value<fc.Scheduler>> {
    return fc.Stream.nil();
  }
}

/** Like `fc.scheduler()`, but every copy fast-check makes of a generated scheduler picks the same order. */
export function replayableScheduler(): fc.Arbitrary<fc.Scheduler> {
  return new ReplayableSchedulerArbitrary();
}
