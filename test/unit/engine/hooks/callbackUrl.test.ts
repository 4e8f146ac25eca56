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
  assert.equal(validateCallbackUrl('http://93.184.215.14:9000/a/../b'), 'http://93.184.215.14:9000/b');
  assert.equal(validateCallbackUrl('http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:80/x'), 'http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x');
});

test('refuses loopback, private, link-local and reserved hosts unless private targets are allowed', () => {
  const internal = [
    'http://127.0.0.1:9000/', 'http://127.1/', 'http://2130706433/', 'http://0x7f.0.0.1/', 'http://0.0.0.0/', 'http://10.1.2.3/',
    'http://172.16.0.1/', 'http://172.31.255.255/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/', 'http://224.0.0.1/', 'http://255.255.255.255/', 'http://[::1]/', 'http://[::]/', 'http://[fd00::1]/',
    'http://[fe80::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:a9fe:a9fe]/', 'http://localhost/', 'http://LOCALHOST./',
    'http://api.localhost/',
  ];
  for (const raw of internal) {
    assert.throws(() => validateCallbackUrl(raw), (e) => isAppError(e, 'INVALID_CALLBACK_URL') && /webhookAllowPrivate/.test(e.message), raw);
    assert.ok(validateCallbackUrl(raw, true), `${raw} with private targets allowed`);
  }
  // public addresses next to the private ranges stay allowed
  for (const raw of ['http://172.32.0.1/', 'http://192.169.0.1/', 'http://11.0.0.1/', 'http://[2001:4860::8888]/', 'https://localhost.example.com/']) {
    assert.ok(validateCallbackUrl(raw), raw);
  }
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
