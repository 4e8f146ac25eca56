/**
 * Slots for long-held responses (SSE streams, log follows, Spark's sync waits): at most N per user
 * and M per process, and the open ones ended when the server closes (an open response would
 * otherwise hold `close()` forever).
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { AppError, type Caller } from '../engine/index.ts';

export interface StreamSlots {
  /** Takes a slot or throws TOO_MANY_STREAMS; the returned function gives it back (once). */
  reserve(caller: Caller): () => void;
  /** An abort controller ended at server close; forget it with the returned function. */
  track(ac: AbortController): () => void;
}

/** `what` names the streams in the refusal (`live streams`, `log follows`). Registers a preClose hook on `app`. */
export function createStreamSlots(app: FastifyInstance, opts: { maxPerUser: number; maxTotal: number; what: string }): StreamSlots {
  const perUser = new Map<string, number>();
  let total = 0;
  const open = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const ac of open) ac.abort();
  });
  return {
    reserve(caller) {
      const mine = perUser.get(caller.user) ?? 0;
      if (total >= opts.maxTotal) throw new AppError('TOO_MANY_STREAMS', `This server has ${opts.maxTotal} ${opts.what} open; retry later.`);
      if (mine >= opts.maxPerUser) throw new AppError('TOO_MANY_STREAMS', `You have ${opts.maxPerUser} ${opts.what} open; close one first.`);
      perUser.set(caller.user, mine + 1);
      total++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total--;
        const n = (perUser.get(caller.user) ?? 1) - 1;
        if (n <= 0) perUser.delete(caller.user);
        else perUser.set(caller.user, n);
      };
    },
    track(ac) {
      open.add(ac);
      return () => open.delete(ac);
    },
  };
}

/**
 * Writes `text` to a long-held response; on a slow client waits for `drain` (or the signal) before
 * resolving, so the producer holds what comes meanwhile. Nothing is written once aborted or closed.
 */
export async function writeHeld(res: ServerResponse, signal: AbortSignal, text: string): Promise<void> {
  if (signal.aborted || res.destroyed || text === '') return;
  if (res.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
