/** The worker's running tasks: a task attempt delivered again while it still runs is a second run that a stop reaches too. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRunningTasks } from '../../../../engine/worker/runningTasks.ts';

const JOB = '0b6f5c1e-6a4f-4a8e-9c1d-2f3e4a5b6c7d';

describe('running tasks', () => {
  it('two runs of one task attempt (a redelivery while it runs) are both aborted by a stop, and one ending leaves the other', () => {
    const tasks = createRunningTasks();
    const key = `${JOB}:t:1:1`;
    const first = tasks.start(key, JOB, 1);
    const second = tasks.start(key, JOB, 1);
    assert.equal(tasks.size, 2);
    second.done();
    assert.equal(tasks.size, 1, 'the first run still counts as running');
    tasks.abortJob(JOB, 1, 'stopped');
    assert.equal(first.abort.signal.aborted, true, 'the stop reaches the first run');
    first.done();
    assert.equal(tasks.size, 0);
  });

  it('a stop reaches every run of the job, and a task id may hold colons', () => {
    const tasks = createRunningTasks();
    const a = tasks.start(`${JOB}:s:a:b:2:1`, JOB, 1);
    const b = tasks.start(`${JOB}:s:a:b:2:1`, JOB, 1);
    assert.deepEqual(tasks.list(5), [{ jobId: JOB, taskId: 's:a:b' }, { jobId: JOB, taskId: 's:a:b' }]);
    tasks.abortObsolete(JOB, (taskId, attempt) => taskId === 's:a:b' && attempt === 2, 'reset');
    assert.equal(a.abort.signal.aborted && b.abort.signal.aborted, true);
  });
});
