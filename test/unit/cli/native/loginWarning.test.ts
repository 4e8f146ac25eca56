/** `jetjobs login` warns before a password crosses the network in clear text (plain http to another host). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleartextWarning } from '../../../../cli/native/loginCommands.ts';

describe('login: a password about to cross the network in clear text', () => {
  it('is warned about for plain http to another host', () => {
    for (const url of ['http://jobs.example.com:8080', 'http://10.0.0.5:8080/', 'http://[fd00::1]:8080', 'http://127.example.com']) {
      assert.match(cleartextWarning(url) ?? '', /plain http.*unencrypted/, url);
    }
  });
  it('is not for https, nor for this machine', () => {
    for (const url of ['https://jobs.example.com', 'http://127.0.0.1:8080', 'http://127.1.2.3:9', 'http://localhost:8080', 'http://[::1]:8080']) {
      assert.equal(cleartextWarning(url), undefined, url);
    }
  });
});
