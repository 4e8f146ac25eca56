import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCallbackUrl, redactUrl, MAX_CALLBACK_URL_LENGTH } from '../../../../engine/hooks/callbackUrl.ts';
import { isAppError } from '../../../../engine/errors.ts';

function rejects(raw: string): void {
  assert.throws(() => validateCallbackUrl(raw), (e) => isAppError(e, 'INVALID_CALLBACK_URL'), `expected rejection of ${JSON.stringify(raw)}`);
}

test('accepts http(s) URLs and returns them normalized', () => {
  assert.equal(validateCallbackUrl('https://example.com/hook?x=1'), 'https://example.com/hook?x=1');
  assert.equal(validateCallbackUrl('HTTP://Example.COM:8080'), 'http://example.com:8080/');
  assert.equal(validateCallbackUrl('http://127.0.0.1:9000/a/../b'), 'http://127.0.0.1:9000/b');
  assert.equal(validateCallbackUrl('http://[::1]:80/x'), 'http://[::1]/x');
});

test('rejects other schemes', () => {
  for (const raw of ['file:///etc/passwd', 'ftp://example.com/', 'javascript:alert(1)', 'data:text/plain,hi', 'gopher://x/', 'ws://example.com/']) rejects(raw);
});

test('rejects credentials, fragments and missing hosts', () => {
  rejects('https://user:pass@example.com/');
  rejects('https://user@example.com/');
  rejects('https://@example.com/');
  rejects('https://example.com/#frag');
  rejects('https://example.com/#');
  rejects('http:///path');
  rejects('http:\\\\example.com/');
  rejects('https:example.com');
  rejects('https://');
  rejects('/relative/path');
  rejects('example.com/hook');
  rejects('');
});

test('rejects control, whitespace and bidi characters', () => {
  for (const ch of ['\n', '\r', '\t', ' ', '\u0000', '\u007f', '\u0085', '\u00a0', '\u200b', '\u202e', '\u2066', '\ufeff']) {
    rejects(`https://example.com/a${ch}b`);
  }
  rejects(' https://example.com/');
});

test('rejects URLs longer than the limit', () => {
  const base = 'https://example.com/';
  assert.ok(validateCallbackUrl(base + 'a'.repeat(MAX_CALLBACK_URL_LENGTH - base.length)));
  rejects(base + 'a'.repeat(MAX_CALLBACK_URL_LENGTH - base.length + 1));
});

test('redactUrl drops the query string', () => {
  assert.equal(redactUrl('https://example.com:8443/hook?token=secret'), 'https://example.com:8443/hook');
});
