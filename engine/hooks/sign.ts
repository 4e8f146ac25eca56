/**
 * Webhook signatures, Stripe-style. Every POST carries
 *
 *   x-jetjobs-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${rawBody}`)>
 *   x-jetjobs-delivery:  <deliveryId>   (stable across retries of one delivery: dedupe on it)
 *   x-jetjobs-event:     job.succeeded | job.failed | job.stopped
 *
 * A receiver recomputes the HMAC over the raw body bytes it received (before any JSON parsing),
 * compares in constant time and rejects timestamps outside its tolerance (replay protection):
 *
 *   import { verifySignature } from 'jetjobs/engine/hooks/sign.ts';
 *   if (!verifySignature(secret, req.headers['x-jetjobs-signature'], rawBody, 300)) return 401;
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-jetjobs-signature';
export const DELIVERY_HEADER = 'x-jetjobs-delivery';
export const EVENT_HEADER = 'x-jetjobs-event';

/** Webhook event names, from the terminal job event. */
export const WEBHOOK_EVENTS = ['job.succeeded', 'job.failed', 'job.stopped'] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/** Hex HMAC-SHA256 of `${t}.${rawBody}`. */
export function computeSignature(secret: string, t: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
}

/** The value of the signature header for `rawBody` signed at `nowMs`. */
export function signatureHeader(secret: string, rawBody: string | Buffer, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${computeSignature(secret, t, rawBody)}`;
}

/** Headers of one delivery attempt (plus content-type). */
export function webhookHeaders(opts: { secret: string; rawBody: string; nowMs: number; deliveryId: string; event: WebhookEventName }): Record<string, string> {
  return {
    'content-type': 'application/json',
    [SIGNATURE_HEADER]: signatureHeader(opts.secret, opts.rawBody, opts.nowMs),
    [DELIVERY_HEADER]: opts.deliveryId,
    [EVENT_HEADER]: opts.event,
  };
}

/**
 * For receivers: true when `header` holds a `v1` signature of `rawBody` under `secret` whose
 * timestamp is within `toleranceSec` of now (several `v1=` entries are allowed, e.g. during a
 * secret rotation; any match passes). Constant-time comparison.
 */
export function verifySignature(
  secret: string,
  header: string | string[] | undefined,
  rawBody: string | Buffer,
  toleranceSec: number,
  nowMs: number = Date.now(),
): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' || value.length > 4096) return false;
  let t: number | undefined;
  const sigs: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) sigs.push(v);
  }
  if (t === undefined || sigs.length === 0) return false;
  if (Math.abs(nowMs / 1000 - t) > toleranceSec) return false;
  const expected = Buffer.from(computeSignature(secret, t, rawBody), 'hex');
  return sigs.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}
