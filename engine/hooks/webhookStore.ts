/**
 * Global webhooks (`hook.<id>` in the control store) and the per-job callback signing secret
 * (`setting.callbackSecret`). Secrets are returned only by `createWebhook` and `callbackSecret`;
 * lists never carry them, and they never go into events or logs.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { controlKey, type ControlStore } from '../controlstore/controlStore.ts';
import { AppError, isAppError } from '../errors.ts';
import { sleep } from '../retry.ts';
import { validateCallbackUrl } from './callbackUrl.ts';
import { WEBHOOK_EVENTS, type WebhookEventName } from './sign.ts';

/** A global webhook as stored (with its secret). */
export interface WebhookDef {
  id: string;
  url: string;
  secret: string;
  events: WebhookEventName[];
  createdAt: string;
  createdBy: string;
}

/** A webhook as listed (no secret). */
export type WebhookSummary = Omit<WebhookDef, 'secret'>;

export interface CreateWebhookInput {
  url: string;
  /** Default: every terminal event. */
  events?: readonly string[];
  /** Default: generated (32 random bytes). */
  secret?: string;
}

const HOOK_PREFIX = 'hook.';
const SETTING_CALLBACK_SECRET = controlKey('setting', 'callbackSecret');
/** Reads or creates of the callback secret before giving up (UNAVAILABLE). */
const CALLBACK_SECRET_TRIES = 5;
/** After a lost create race, wait this times the try number for the winner's value to reach the mirror. */
const CALLBACK_SECRET_WAIT_STEP_MS = 20;
/** A secret given by a client: 16..256 visible ASCII characters. */
const SECRET_RE = /^[\x21-\x7e]{16,256}$/;

/** A fresh random secret (base64url, 256 bits). */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function summary(d: WebhookDef): WebhookSummary {
  return { id: d.id, url: d.url, events: [...d.events], createdAt: d.createdAt, createdBy: d.createdBy };
}

function parseEvents(events: readonly string[] | undefined): WebhookEventName[] {
  if (events === undefined) return [...WEBHOOK_EVENTS];
  const set = new Set(events);
  if (set.size === 0) throw new AppError('VALIDATION_FAILED', 'events must name at least one event');
  for (const e of set) {
    if (!(WEBHOOK_EVENTS as readonly string[]).includes(e)) {
      throw new AppError('VALIDATION_FAILED', `unknown webhook event ${JSON.stringify(e.slice(0, 40))} (known: ${WEBHOOK_EVENTS.join(', ')})`);
    }
  }
  return WEBHOOK_EVENTS.filter((e) => set.has(e));
}

/** Creates a global webhook; the result is the only place its secret is ever shown. */
export async function createWebhook(store: ControlStore, input: CreateWebhookInput, createdBy: string, clock: Clock, allowPrivate = false): Promise<WebhookDef> {
  const url = validateCallbackUrl(input.url, allowPrivate);
  const events = parseEvents(input.events);
  if (input.secret !== undefined && !SECRET_RE.test(input.secret)) {
    throw new AppError('VALIDATION_FAILED', 'secret must be 16 to 256 visible ASCII characters');
  }
  const def: WebhookDef = {
    id: `wh_${randomBytes(12).toString('hex')}`,
    url,
    secret: input.secret ?? generateSecret(),
    events,
    createdAt: new Date(clock.now()).toISOString(),
    createdBy,
  };
  await store.create(controlKey('hook', def.id), def);
  return def;
}

/** Every global webhook, without secrets, in id order. */
export function listWebhooks(store: ControlStore): WebhookSummary[] {
  return webhookDefs(store).map(summary);
}

/** Every global webhook with its secret (for the deliverer only). */
export function webhookDefs(store: ControlStore): WebhookDef[] {
  return store.list<WebhookDef>(HOOK_PREFIX).map((e) => e.value);
}

/** Deletes a webhook; WEBHOOK_NOT_FOUND if there is none with that id. */
export async function deleteWebhook(store: ControlStore, id: string): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new AppError('WEBHOOK_NOT_FOUND');
  const key = controlKey('hook', id);
  if (store.get(key) === undefined) throw new AppError('WEBHOOK_NOT_FOUND');
  await store.delete(key);
}

/**
 * The HMAC key of per-job callbacks: `config.callbackSecret` if set, else the one kept in the
 * control store, created on first use. Concurrent first uses agree (create is CAS; a loser re-reads).
 */
export async function callbackSecret(store: ControlStore, config: Pick<Config, 'callbackSecret'>): Promise<string> {
  if (config.callbackSecret !== null) return config.callbackSecret;
  await store.ready;
  for (let i = 0; i < CALLBACK_SECRET_TRIES; i++) {
    const cur = store.get<{ secret: string }>(SETTING_CALLBACK_SECRET);
    if (cur !== undefined && typeof cur.value?.secret === 'string') return cur.value.secret;
    try {
      const secret = generateSecret();
      await store.create(SETTING_CALLBACK_SECRET, { secret, createdAt: new Date().toISOString() });
      return secret;
    } catch (err) {
      if (!isAppError(err, 'CONFLICT')) throw err;
      // another process created it first: wait for our mirror to see it (a linear wait, longer each try)
      await sleep(CALLBACK_SECRET_WAIT_STEP_MS * (i + 1));
    }
  }
  throw new AppError('UNAVAILABLE', 'could not read or create the callback secret');
}
