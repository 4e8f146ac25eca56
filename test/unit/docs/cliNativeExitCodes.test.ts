/** docs/cli.md's exit-code table of the native commands lists exactly cli/exitCodes.ts's NATIVE_EXIT codes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { NATIVE_EXIT } from '../../../cli/exitCodes.ts';
import { EXIT_INTERNAL } from '../../../cli/main.ts';

it('the exit codes documented for the native commands are the ones the CLI uses', () => {
  const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
  const table = /<!-- native-exit-codes:start -->([^]*?)<!-- native-exit-codes:end -->/.exec(doc)?.[1];
  assert.ok(table !== undefined, 'the table markers are there');
  const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  assert.deepEqual(documented, [...Object.values(NATIVE_EXIT), EXIT_INTERNAL].sort((a, b) => a - b));
});
