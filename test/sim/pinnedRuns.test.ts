/**
 * The (seed, path) pairs of failures the simulation found, replayed exactly: each now passes. Its own
 * file: replaying a shrunk path takes seconds per pin, and the runner's 120 s timeout counts per file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createSimEnv, runSimulation, type SimOutcome } from './runSimulation.ts';
import { scenarioArb } from './simCommands.ts';
import { replayableScheduler } from './simScheduler.ts';

/** As in simulation.test.ts and skewedClocks.test.ts: a path is tied to these arbitraries. */
const MAX_COMMANDS = 40;
/** As in skewedClocks.test.ts. */
const SKEWS_MS = [30_000, -30_000] as const;

describe('deterministic simulation: pinned failures', () => {
  it('replays the failures it found in CI, which now pass', async () => {
    // Pinned (seed, path) pairs. A path is tied to the scenario and scheduler arbitraries: when those
    // change, a pin replays some other run, so move its bug into regressions.test.ts as a directed test.
    const pins = [
      // A requeue seen by the requeuing coordinator before its own append was acknowledged: the
      // stop-requested job waited for a VC slot instead of being stopped at once (engine/coordinator/stopJob.ts stopIfOwnerLost).
      { seed: 692390163, path: '460:0:0:1:0:1:1:7:16:22:22:22:29:29:29:29:36:36:37:35:36:41:41:41:41:41:46:46:46:46:46:51:55:56:57:48:48:48:50:48:54:55:58:60:58:58:58:58:58:64:66:63:65:63:63:64:64:62:62:42:0:53' },
      // Claims decided while the peers were alive landed after a partition healed, when those peers
      // were gone: the VC-share check must judge a claim by when it was decided (simWorld #checkShares).
      { seed: 951150069, path: '277:0:2:1:1:1:1:2:2:2:2:2:2:2:2:8:7:10:12:21:27:14:23:25:29:30:30:34:35:37:29:34:35:21:21' },
      // A lagging API process skipped the records of a job that a coordinator compacted and removed
      // meanwhile, and kept showing it (RUNNING, or finished but not compacted): removalReconciler.ts.
      { seed: 210895484, path: '564:0:0:1:1:1:1:1:4:0:10:10:13:13:17:22:31:34:34:35:35:35:35:35:40:40:40:57:54:55:54:56:62:61:62:62:64:73:78:78:78' },
      { seed: 1062622884, path: '570:0:0:0:0:0:8:15:24:31:31:31:31:31:35:43:43:50:49:49:49:49:53:65:68:65:66:65:66:70:70:70' },
      { seed: 951192981, path: '2712:0:3:2:2:2:3:3:3:3:3:3:3:3:3:10:8:8:8:8:8:8:9:14:18:11:14:13:13:13:15:18:31:34:38:40:41:42:41:41:41:41:41:41:41:41:41:41:44:38:46:41:43:45:44:44:47:44:44:44' },
      // Coordinators started after their peers crashed counted the dead peers' keys left in the liveness
      // bucket for a detection timeout after their own start, and took alpha to 6 running jobs, max share
      // 3 (engine/quota/provenCoordinators.ts). Found on 3159c74, where it failed with and without callbacks;
      // a later change of microtask order makes the path replay another run: regressions.test.ts holds the bug.
      { seed: 325039403, path: '47:0:1:1:1:1:1:1:1:1:7:6:10:11:13:17:16:16:16:16:22:9:13:16:22:21:24:25:30:30:30:30:30:33:13:23:23:27:30:34:38:46:45:44:47:48:16:35:46:45:45:45:45:45:45:45:48:48:48:48' },
      // skewedClocks.test.ts (callbacks on): a coordinator 30 s ahead removed a job and crashed between
      // its purge of `.ev` and its JobsRemoved notice; the API and a worker, which had read the job to
      // its end, kept it (engine/retention/removeJobs.ts now announces first). The fix adds I/O, so this
      // path replays a neighbouring run: regressions.test.ts holds the bug itself.
      { seed: 593629379, path: '36:0:2:3:2:2:2:2:2:2:2:7:10:15:19:19:23:20:20:27:26:33:38:39:46:19:5:4:13:7:12:17:18:27:23:23:25:33:37:37:37:42:42:41:42:43:41:42:44:45:44:46', skewed: true },
      // skewedClocks.test.ts: two writers removed jobs a few records apart; worker3 (worker-only, slim
      // job view) was a few records behind, read only the second removal's notices (the first's were
      // rolled up) and held the first removal's two jobs until it restarted. Now each notice says which
      // notices it makes up for (sinceSeq), and the worker's retention pass forgets what a missed one
      // named (engine/retention/slimViewRetention.ts). Replays the failing run itself, and only that
      // (exact): once it passes, fast-check walks the rest of its shrink tree, 391 runs (~30 s here).
      { seed: 539230714, path: '115:0:5:7:4:4:4:4:13:16:26:34:32:32:33:32:38:42:41:44:41', skewed: true, exact: true },
      // simulation.test.ts (callbacks on): the owner crashed right after the job's terminal record, before
      // its WebhookDue; the other coordinator compacted the job and crashed within its due grace; the two
      // coordinators started then skipped the compacted job in their start-up check, and the callback was
      // never POSTed (engine/hooks/hookDue.ts now checks compacted jobs too). Exact, as the pin above.
      { seed: 297722144, path: '138:0:0:0:0:0:4:3:5:6:20:29:29:36:41:41:45:17:22:27:32:32:38:38:41:24:43:48:48:50:53:28:40:40:41:40:53:56:61:56:66:66:65:68:68:65:65', callbacks: true, exact: true },
    ];
    // Pinned before submissions carried callbacks: without them each pin replays its run unchanged.
    const plainEnv = { ...createSimEnv(), callbacks: false };
    // As skewedClocks.test.ts runs (callbacks on).
    const skewedEnv = createSimEnv({}, SKEWS_MS);
    // As simulation.test.ts runs (callbacks on).
    const callbackEnv = createSimEnv();
    for (const pin of pins) {
      const simEnv = 'skewed' in pin ? skewedEnv : 'callbacks' in pin ? callbackEnv : plainEnv;
      let ran: SimOutcome | undefined;
      const property = fc.asyncProperty(replayableScheduler(), scenarioArb(MAX_COMMANDS), async (s, scenario) => {
        if (ran && 'exact' in pin) return; // the first run is the one at the path
        ran = await runSimulation(s, scenario, simEnv);
        assert.deepEqual(ran.violations, []);
      });
      const details = await fc.check(property, { numRuns: 1, seed: pin.seed, path: pin.path, endOnFailure: true });
      assert.ok(ran, `pin ${pin.seed} ran`);
      assert.equal(details.failed, false, `pin ${pin.seed}: ${details.errorInstance instanceof Error ? details.errorInstance.message : ''}`);
    }
  });
});
