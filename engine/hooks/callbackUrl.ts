import { AppError } from '../errors.ts';
import { blockedHostReason } from './targetPolicy.ts';

/** Longest callback URL we accept (raw and normalized). */
export const MAX_CALLBACK_URL_LENGTH = 2048;

/**
 * C0/C1 controls, whitespace (incl. Unicode spaces) and bidi/invisible formatting characters. The WHATWG
 * URL parser silently strips tabs and newlines, so we reject them on the raw string first.
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/u;

function invalid(message: string): AppError {
  return new AppError('INVALID_CALLBACK_URL', message);
}

/**
 * Validates a webhook / callback target and returns its normalized form (`new URL(raw).href`).
 * Accepts only absolute http(s) URLs with a host, without userinfo (`user:pass@`) and without a
 * fragment, at most {@link MAX_CALLBACK_URL_LENGTH} characters, without control, whitespace or bidi
 * characters. Unless `allowPrivate`, the host may not be `localhost` or a loopback, private,
 * link-local or reserved address (names are checked again at delivery, see targetPolicy.ts).
 * Throws `AppError('INVALID_CALLBACK_URL')` otherwise.
 */
export function validateCallbackUrl(raw: string, allowPrivate = false): string {
  if (typeof raw !== 'string' || raw.length === 0) throw invalid('The callback URL is empty.');
  if (raw.length > MAX_CALLBACK_URL_LENGTH) throw invalid(`The callback URL is longer than ${MAX_CALLBACK_URL_LENGTH} characters.`);
  if (FORBIDDEN_CHARS.test(raw)) throw invalid('The callback URL contains control, whitespace or bidi characters.');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('The callback URL is not an absolute URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('The callback URL must use http or https.');
  if (url.username !== '' || url.password !== '' || /^[a-z]+:\/\/[^/?#]*@/i.test(raw)) {
    throw invalid('The callback URL must not contain credentials.');
  }
  if (url.hash !== '' || raw.includes('#')) throw invalid('The callback URL must not contain a fragment.');
  // The WHATWG parser turns `http:///x` or `http:\\x` into `http://x/`: require a literal authority.
  if (url.hostname === '' || !/^https?:\/\/[^/?#\\]/i.test(raw)) throw invalid('The callback URL has no host.');
  const blocked = allowPrivate ? undefined : blockedHostReason(url.hostname);
  if (blocked !== undefined) throw invalid(`The callback URL is refused: ${blocked}, which webhooks may not reach unless webhookAllowPrivate is set.`);
  const href = url.href;
  if (href.length > MAX_CALLBACK_URL_LENGTH) throw invalid(`The callback URL is longer than ${MAX_CALLBACK_URL_LENGTH} characters.`);
  return href;
}

/** The URL without its query string, for logs and delivery records (queries may carry tokens). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
