import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderInto } from '../../../scripts/errorTable.ts';

it('docs/api.md lists exactly the error codes of engine/errors.ts (run scripts/errorTable.ts --write)', () => {
  const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
  assert.equal(doc, renderInto(doc));
});
