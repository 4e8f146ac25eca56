/** A task's wait that keeps its delivery alive and ends when the task is aborted. */
import { TaskRunError } from './jobType.ts';

/** How often a waiting task tells the queue it is still working. */
const HEARTBEAT_EVERY_MS = 1000;

/** Waits `ms`, heartbeating every second; rejects with TaskRunError ABORTED when `signal` fires. */
export function abortableWait(ms: number, task: { signal: AbortSignal; heartbeat: () => void }): Promise<void> {
  const { signal, heartbeat } = task;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TaskRunError('ABORTED', 'task aborted', false));
    const cleanup = (): void => {
      clearTimeout(timer);
      clearInterval(beat);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      reject(new TaskRunError('ABORTED', 'task aborted', false));
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve();
    }, ms);
    const beat = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
