/**
 * Builds the web dashboard (dashboard/) with esbuild into `.cache/dashboard/` (gitignored): one
 * bundle of the Preact app and one stylesheet, with content hashes in their names, and index.html
 * naming them. `--if-changed` skips the build when the sources, the lockfile and this script hash to
 * what the last build recorded (scripts/setup.sh runs it that way before `npm start` and `npm test`).
 * The new build is written beside the old one and swapped in by rename, so a server reading it never
 * sees half of one.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'dashboard');
const out = join(root, '.cache', 'dashboard');
const STAMP = '.build-stamp';

async function files(dir: string): Promise<string[]> {
  const all: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) all.push(...(await files(p)));
    else all.push(p);
  }
  return all.sort();
}

/** What the build depends on: the dashboard's files, the lockfile (library versions) and this script. */
async function inputsHash(): Promise<string> {
  const h = createHash('sha256');
  for (const p of [...(await files(src)), join(root, 'package-lock.json'), fileURLToPath(import.meta.url)]) {
    h.update(relative(root, p)).update('\0').update(await readFile(p)).update('\0');
  }
  return h.digest('hex');
}

async function main(argv: string[]): Promise<void> {
  const hash = await inputsHash();
  if (argv.includes('--if-changed')) {
    const before = await readFile(join(out, STAMP), 'utf8').catch(() => '');
    if (before.trim() === hash) return;
  }
  const started = performance.now();
  const tmp = `${out}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const result = await build({
    entryPoints: { app: join(src, 'src', 'main.tsx'), styles: join(src, 'styles.css') },
    outdir: join(tmp, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true, minify: true, format: 'esm', target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic', jsxImportSource: 'preact',
    metafile: true, legalComments: 'none', logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const script = outputs.find((p) => p.startsWith('app-') && p.endsWith('.js'));
  const styles = outputs.find((p) => p.startsWith('styles-') && p.endsWith('.css'));
  if (script === undefined || styles === undefined) throw new Error(`the build made no app bundle or stylesheet: ${outputs.join(', ')}`);
  const html = (await readFile(join(src, 'index.html'), 'utf8')).replace('%SCRIPT%', `assets/${script}`).replace('%STYLES%', `assets/${styles}`);
  await writeFile(join(tmp, 'index.html'), html);
  await writeFile(join(tmp, STAMP), hash + '\n');
  const old = `${out}.old-${process.pid}`;
  await rename(out, old).catch(() => undefined);
  await rename(tmp, out);
  await rm(old, { recursive: true, force: true });
  process.stderr.write(`built the dashboard into ${relative(root, out)}/ in ${Math.round(performance.now() - started)} ms\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`dashboard build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
