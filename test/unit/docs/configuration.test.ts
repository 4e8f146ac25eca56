import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderInto } from '../../../scripts/configTable.ts';
import { DEFAULTS, parseFlags, readEnv, resolveConfig } from '../../../engine/config.ts';

const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

/** The settings table's rows as documented: setting, env, flag, default (backticks and asides stripped). */
function documentedRows(): { key: string; env: string; flag: string; def: string }[] {
  return doc
    .split('\n')
    .filter((l) => /^\| [a-zA-Z]+ \| `/.test(l))
    .map((l) => {
      const [key, env, flag, def] = l.slice(2).split(' | ');
      const code = (s: string) => /^`([^`]*)`/.exec(s)?.[1] ?? s;
      return { key: key!, env: code(env!), flag: code(flag!), def: code(def!) };
    });
}

describe('docs/configuration.md', () => {
  it('has the settings table of engine/config.ts (run scripts/configTable.ts --write)', () => {
    assert.equal(doc, renderInto(doc));
  });

  it('documents every setting once, with the env variable, flag and default the code reads', () => {
    const rows = documentedRows();
    const resolved = resolveConfig({ stateDir: '/state' });
    assert.deepEqual(rows.map((r) => r.key).sort(), Object.keys(resolved).sort(), 'documented settings = Config keys');
    for (const { key, env, flag, def } of rows) {
      const defaults = DEFAULTS as Record<string, unknown>;
      const derived = /^<stateDir>\/(\w+)$/.exec(def);
      if (derived) assert.equal((resolved as Record<string, unknown>)[key], `/state/${derived[1]}`, key);
      else if (def === 'unset') assert.equal(defaults[key], null, key);
      else assert.deepEqual(readEnv({ [env]: def }), { [key]: defaults[key] }, `${key}: documented default ${def}`);
      const sample = derived || def === 'unset' ? 'x'.repeat(40) : def;
      assert.deepEqual(Object.keys(readEnv({ [env]: sample })), [key], `${env} sets ${key}`);
      assert.deepEqual(Object.keys(parseFlags([flag, sample])), [key], `${flag} sets ${key}`);
    }
  });
});
