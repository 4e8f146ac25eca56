import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { JOB_FAILURE_CODES, TASK_ERROR_CODES } from '../../../actors/failureCodes.ts';
import { renderInto } from '../../../scripts/failureCodeTable.ts';

it('docs/events.md lists exactly the failure codes of actors/failureCodes.ts (run scripts/failureCodeTable.ts --write)', () => {
  const doc = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
  assert.equal(doc, renderInto(doc));
});

/** Literal codes in the sources under `dir` (relative to engine/) matching `pattern` (group 1 = the code). */
function codesIn(dir: string, pattern: RegExp): Map<string, string> {
  const root = new URL(`../../../engine/${dir}/`, import.meta.url);
  const found = new Map<string, string>();
  for (const file of readdirSync(root, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts')) continue;
    for (const m of readFileSync(new URL(file, root), 'utf8').matchAll(pattern)) found.set(m[1]!, `engine/${dir}/${file}`);
  }
  return found;
}

it('every failure code the engine writes literally is in the tables', () => {
  const literal = /code: [^,}\n]*'([A-Z][A-Z_]+)'/g;
  const jobCodes = new Map([...codesIn('coordinator', literal), ...codesIn('jobtypes', literal)]);
  const taskCodes = new Map([...codesIn('worker', literal), ...codesIn('jobtypes', /new TaskRunError\('([A-Z][A-Z_]+)'/g)]);
  assert.ok(jobCodes.has('TOO_MANY_FAILURES') && taskCodes.has('DELIVERY_EXHAUSTED'), 'the scan finds the codes');
  for (const [code, file] of jobCodes) assert.ok(code in JOB_FAILURE_CODES, `${code} (${file}) is not in JOB_FAILURE_CODES`);
  for (const [code, file] of taskCodes) assert.ok(code in TASK_ERROR_CODES, `${code} (${file}) is not in TASK_ERROR_CODES`);
});
