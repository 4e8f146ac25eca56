/**
 * Paths in Teraslice op configs. A Teraslice job names host paths ("/data/out"); here every path is
 * taken relative to the files root (`dataDir`): a leading "/" is dropped and `..` is refused, so a
 * spec can never name anything outside the root by name. Symlinks are checked at submission
 * (`resolveInside`) and again whenever a file is opened (rootedDir.ts).
 */
import { MAX_PATH_LENGTH } from '../paths.ts';
import { FieldError, type Field } from './fields.ts';

/** The normalised form: relative, `/`-separated, no empty, `.` or `..` segments (`''` = the root). */
export const DATA_PATH_SCHEMA = Object.freeze({
  type: 'string',
  maxLength: MAX_PATH_LENGTH,
  pattern: '^(?!/)(?!.*(^|/)\\.\\.?(/|$))(?!.*//)[^\\u0000-\\u001F\\u007F\\\\]*$',
});

/** "/data/out/" → "data/out"; throws FieldError for `..`, control characters, backslashes, overlong paths. */
export function normalizeDataPath(p: unknown): string {
  if (typeof p !== 'string') throw new FieldError('This field is required and must be of type string');
  if (p.length > MAX_PATH_LENGTH) throw new FieldError(`must be at most ${MAX_PATH_LENGTH} characters long`);
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(p)) throw new FieldError('must not contain control characters');
  if (p.includes('\\')) throw new FieldError('must not contain a backslash');
  const segments = p.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new FieldError(`must stay inside the files root (".." is not allowed): value was ${JSON.stringify(p.slice(0, 64))}`);
  return segments.join('/');
}

/** A required path field (file_reader, file_exporter). */
export function dataPath(): Field<string> {
  return { required: true, schema: DATA_PATH_SCHEMA, parse: normalizeDataPath };
}
