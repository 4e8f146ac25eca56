/**
 * `submit -f job.json|job.yaml|-`: a `POST /jobs` body (docs/api.md, Submit body) from a file or
 * stdin. JSON for `.json`, YAML (its JSON schema: no dates or other implicit types) otherwise.
 */
import { readFile, stat } from 'node:fs/promises';
import { JSON_SCHEMA, load } from 'js-yaml';
import { CliError, NATIVE_EXIT } from '../exitCodes.ts';
import { readAll, type NativeIo } from './nativeIo.ts';

/** The API's own body limit (docs/api.md): a larger file could not be submitted anyway. */
export const MAX_JOB_FILE_BYTES = 1024 * 1024;

function bad(where: string, why: string): CliError {
  return new CliError(NATIVE_EXIT.INVALID_INPUT, `${where}: ${why}`);
}

/** Parses a job file's text into a submit body (type and spec at least). */
export function parseJobFile(text: string, where: string, json: boolean): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = json ? JSON.parse(text) : load(text, { schema: JSON_SCHEMA });
  } catch (e) {
    throw bad(where, `not valid ${json ? 'JSON' : 'YAML'}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad(where, 'expected an object with type and spec (docs/api.md, Submit body)');
  const body = doc as Record<string, unknown>;
  if (typeof body['type'] !== 'string') throw bad(where, 'type is missing (a job type: load, copy, exec, script, sleep, …; jetjobs job-types)');
  if (typeof body['spec'] !== 'object' || body['spec'] === null || Array.isArray(body['spec'])) throw bad(where, 'spec is missing or not an object');
  return body;
}

/** Reads `-f <path>` (`-`: stdin). */
export async function readJobFile(path: string, io: NativeIo): Promise<Record<string, unknown>> {
  if (path === '-') {
    if (io.stdin === undefined) throw bad('-', 'no stdin to read');
    const text = await readAll(io.stdin);
    return parseJobFile(text, 'stdin', text.trimStart().startsWith('{'));
  }
  let text: string;
  try {
    if ((await stat(path)).size > MAX_JOB_FILE_BYTES) throw bad(path, `larger than ${MAX_JOB_FILE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw bad(path, `cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseJobFile(text, path, path.toLowerCase().endsWith('.json'));
}
