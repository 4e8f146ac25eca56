import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LivenessEntry } from '../../../../engine/liveness/liveness.ts';
import { provenCoordinators } from '../../../../engine/quota/provenCoordinators.ts';

const coord = (id: string, revision: number): LivenessEntry => ({ kind: 'coord', id, revision, info: {}, seenAtMonotonic: 0 });

describe('provenCoordinators', () => {
  it('counts only ourselves until our view shows our own heartbeat', () => {
    assert.equal(provenCoordinators([coord('peer', 9)], 'me', undefined), 1);
  });

  it('counts the peers that beat after our first heartbeat, not keys older than it', () => {
    // dead: left in the bucket before we started; slow: alive, not beaten since; fresh: beaten since
    const alive = [coord('dead', 3), coord('slow', 4), coord('me', 7), coord('fresh', 8)];
    assert.equal(provenCoordinators(alive, 'me', 5), 2);
  });

  it('counts a live peer at its next heartbeat', () => {
    assert.equal(provenCoordinators([coord('me', 5), coord('peer', 4)], 'me', 5), 1);
    assert.equal(provenCoordinators([coord('me', 5), coord('peer', 6)], 'me', 5), 2);
  });
});
