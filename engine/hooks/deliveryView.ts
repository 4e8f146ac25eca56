/**
 * What a caller may see of a job's delivery records. A global webhook is the admin's: its URL (and
 * error details that may name its host) stay with admins; everyone else sees it by its id (`target`)
 * with `url: "global"`. The job's own callback (`target: "callback"`) was given by the job's owner
 * and is shown as recorded.
 */
import type { Caller, DeliveryEntry, LiveMessage } from '../serviceTypes.ts';
import { CALLBACK_TARGET } from './deliverer.ts';

/** The `url` non-admins see for a global webhook. */
export const GLOBAL_WEBHOOK_URL = 'global';

/** Errors that name nothing of the target are kept; others are cut to their leading code (`EBLOCKEDTARGET: host…`). */
function targetFreeError(error: string): string {
  if (/^(?:HTTP \d{3}\b|timed out after \d+ ms$)/.test(error)) return error;
  return /^E[A-Z0-9_]+\b/.exec(error)?.[0] ?? 'delivery failed';
}

/** Attempt data with a global webhook's URL and error details hidden; anything else unchanged. */
export function hideGlobalTarget(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  const d = data as Record<string, unknown>;
  if (typeof d['url'] !== 'string' || d['target'] === CALLBACK_TARGET) return data;
  const error = d['error'];
  return { ...d, url: GLOBAL_WEBHOOK_URL, ...(typeof error === 'string' ? { error: targetFreeError(error) } : {}) };
}

/** The delivery log as `caller` may see it: admins see every URL, others see global webhooks by id only. */
export function deliveryLogFor(caller: Pick<Caller, 'role'>, entries: readonly DeliveryEntry[]): DeliveryEntry[] {
  return caller.role === 'admin' ? [...entries] : entries.map((e) => ({ ...e, data: hideGlobalTarget(e.data) }));
}

/** A live message as `caller` may see it: delivery records (`subject: 'hook'`) as in {@link deliveryLogFor}. */
export function liveMessageFor(caller: Pick<Caller, 'role'>, m: LiveMessage): LiveMessage {
  if (caller.role === 'admin' || m.kind !== 'event' || m.subject !== 'hook') return m;
  return { ...m, data: hideGlobalTarget(m.data) };
}
