/**
 * The import boundaries of eslint.config.js still hold: a file under api/ that imports an engine
 * module other than engine/index.ts, or a file outside the NATS adapters that imports @nats-io, is an
 * error. Linted for real (ESLint's Node API on temporary files in those folders), so the rules cannot
 * silently vanish or stop matching.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Lints `source` as a temporary file at `dir/<unique>.ts` and returns the rules it broke. */
async function brokenRules(dir: string, source: string): Promise<{ ruleId: string | null; message: string; line: number }[]> {
  const file = path.join(ROOT, dir, `__importBoundaries-${randomUUID().slice(0, 8)}.ts`);
  await writeFile(file, source);
  try {
    const [result] = await new ESLint({ cwd: ROOT }).lintFiles([file]);
    assert.ok(result, 'ESLint linted the file');
    return result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message, line: m.line }));
  } finally {
    await rm(file, { force: true });
  }
}

describe('import boundaries (eslint.config.js)', () => {
  it('api/ may import engine/index.ts only', async () => {
    const broken = await brokenRules(
      'api',
      [
        "import { AppError } from '../engine/errors.ts';",
        "import type { Caller } from '../engine/serviceTypes.ts';",
        "import { VERSION } from '../engine/index.ts';",
        'export const used = [AppError, VERSION] as unknown as Caller;',
        '',
      ].join('\n'),
    );
    const restricted = broken.filter((m) => m.ruleId === 'no-restricted-imports');
    assert.deepEqual(restricted.map((m) => m.line), [1, 2], JSON.stringify(broken));
    assert.match(restricted[0]!.message, /engine\/index\.ts/);
  });

  it('@nats-io is imported only in engine/nats/ and the JetStream adapters', async () => {
    const source = "import { connect } from '@nats-io/transport-node';\nexport const used = connect;\n";
    // engine/eventlog/: only its jetStream*.ts files are adapters (the temporary file is not one)
    for (const dir of ['api', 'engine/hooks', 'engine/eventlog']) {
      const broken = await brokenRules(dir, source);
      assert.deepEqual(broken.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.line), [1], `${dir}: ${JSON.stringify(broken)}`);
    }
    assert.deepEqual(await brokenRules('engine/nats', source), []);
  });

  it('actors/ imports neither I/O nor the layers built on it', async () => {
    const broken = await brokenRules(
      'actors',
      [
        "import { AppError } from '../engine/errors.ts';",
        "import { readFile } from 'node:fs/promises';",
        "import { jobMachine } from './job.machine.ts';",
        'export const used = [AppError, readFile, jobMachine];',
        '',
      ].join('\n'),
    );
    assert.deepEqual(broken.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.line), [1, 2], JSON.stringify(broken));
  });
});
