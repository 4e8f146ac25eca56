/** docs/compat/alluxio.md's exit-code table of the `jetjobs` command line lists exactly cli/exitCodes.ts's codes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { EXIT } from '../../../cli/exitCodes.ts';
import { EXIT_INTERNAL } from '../../../cli/main.ts';

it('the exit codes documented for `jetjobs job` are the ones the CLI uses', () => {
  const doc = readFileSync(new URL('../../../docs/compat/alluxio.md', import.meta.url), 'utf8');
  const table = /<!-- cli-exit-codes:start -->([^]*?)<!-- cli-exit-codes:end -->/.exec(doc)?.[1];
  assert.ok(table !== undefined, 'the table markers are there');
  const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  assert.deepEqual(documented, [...Object.values(EXIT), EXIT_INTERNAL].sort((a, b) => a - b));
});
