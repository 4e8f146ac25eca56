/**
 * The Teraslice operations this job type runs, with their declared fields and defaults (from
 * standard-assets, file-assets v3 op-level configs and Teraslice's builtins). Anything else is
 * refused at submission, as Teraslice refuses an operation it cannot find: no asset is ever
 * loaded as code here.
 */
import { dataPath } from './dataPath.ts';
import { boolean, duration, FieldError, integer, nullOnly, number, oneOf, string, type Field, type Fields } from './fields.ts';

export type OpKind = 'reader' | 'processor' | 'exporter';

export interface OpDef {
  readonly kind: OpKind;
  readonly fields: Fields;
  /** One line for the docs and messages. */
  readonly about: string;
}

/** Records a slice may carry (a data_generator slice's `count`, an exporter's `size`). */
export const MAX_SLICE_RECORDS = 1_000_000;
/** Largest data_generator `size` (a once job's total). */
export const MAX_GENERATOR_SIZE = 1e12;
/** Largest file_reader `size` (bytes per slice). */
export const MAX_READ_SLICE_BYTES = 2 ** 30;
/** Default file_reader `size` (file-assets). */
export const DEFAULT_READ_SLICE_BYTES = 10_000_000;
/** Longest `delay` a processor may ask for (one hour). */
export const MAX_DELAY_MS = 3_600_000;

/** `_dead_letter_action`: Teraslice also takes the name of a dead-letter API (e.g. kafka); we do not. */
const DEAD_LETTER = oneOf(['throw', 'log', 'none'] as const, { default: 'throw' });

/** Fields every operation has (Teraslice's `opSchema`). `_api_name` is kept only when given. */
export const COMMON_FIELDS: Fields = {
  _encoding: oneOf(['json', 'raw'] as const, { default: 'json' }),
  _dead_letter_action: DEAD_LETTER,
};
export const API_NAME_FIELD = string({ minLength: 1, maxLength: 256 });

/** `line_delimiter`: null (file-assets' default) means "\n". */
const lineDelimiter: Field<string> = {
  default: '\n',
  schema: { type: 'string', minLength: 1, maxLength: 16 },
  parse(v) {
    if (v === null) return '\n';
    const s = string({ minLength: 1, maxLength: 16 }).parse(v) as string;
    // A delimiter that can overlap itself ("aa") would make a slice starting mid-file find a
    // different line boundary than a read from the start.
    for (let k = 1; k < s.length; k++) if (s.slice(0, k) === s.slice(s.length - k)) throw new FieldError('must not overlap itself (e.g. "aa")');
    return s;
  },
};

const FORMATS = ['ldjson', 'json', 'raw'] as const;
const REFUSED_FORMATS = { csv: 'format csv is not supported here', tsv: 'format tsv is not supported here' };
const COMPRESSIONS = ['none', 'gzip'] as const;
const REFUSED_COMPRESSIONS = { lz4: 'compression lz4 is not supported here' };
const CONNECTION = oneOf(['default'] as const, { default: 'default', refused: {} });

export const OPERATIONS: Readonly<Record<string, OpDef>> = {
  data_generator: {
    kind: 'reader',
    about: 'mock records (standard-assets)',
    fields: {
      size: integer({ min: 1, max: MAX_GENERATOR_SIZE, default: 5000 }),
      json_schema: nullOnly('custom mocker schemas (json_schema) are not supported here'),
      start: string({ default: null, maxLength: 64 }),
      end: string({ default: null, maxLength: 64 }),
      format: oneOf([null, 'dateNow', 'isoBetween', 'utcDate', 'utcBetween'] as const, { default: null }),
      stress_test: boolean(false),
      delay: number({ min: 0, max: MAX_DELAY_MS / 1000, default: 0 }),
      date_key: string({ default: 'created', minLength: 1, maxLength: 256 }),
      set_id: oneOf([null, 'base64url', 'hexadecimal', 'HEXADECIMAL'] as const, { default: null }),
      id_start_key: string({ default: null, minLength: 1, maxLength: 32 }),
    },
  },
  file_reader: {
    kind: 'reader',
    about: 'lines or JSON of files under the files root (file-assets)',
    fields: {
      path: dataPath(),
      size: integer({ min: 1, max: MAX_READ_SLICE_BYTES, default: DEFAULT_READ_SLICE_BYTES }),
      format: oneOf(FORMATS, { default: 'ldjson', nullAs: 'ldjson', refused: REFUSED_FORMATS }),
      compression: oneOf(COMPRESSIONS, { default: 'none', refused: REFUSED_COMPRESSIONS }),
      line_delimiter: lineDelimiter,
      file_per_slice: boolean(false),
      ignore_empty: boolean(true),
      _connection: CONNECTION,
    },
  },
  noop: { kind: 'processor', about: 'passes records through', fields: {} },
  delay: { kind: 'processor', about: 'waits `ms` once per slice', fields: { ms: duration({ default: 100, max: MAX_DELAY_MS }) } },
  stdout: {
    kind: 'processor',
    about: 'prints records as JSON lines',
    fields: { limit: integer({ min: 0, max: MAX_SLICE_RECORDS, default: 0 }) },
  },
  file_exporter: {
    kind: 'exporter',
    about: 'writes one file per slice under the files root (file-assets)',
    fields: {
      path: dataPath(),
      // Records per slice for a data_generator reader (the slicer reads the last op's size).
      size: integer({ min: 1, max: MAX_SLICE_RECORDS, default: null, nullable: true }),
      format: oneOf(FORMATS, { default: 'ldjson', nullAs: 'ldjson', refused: REFUSED_FORMATS }),
      compression: oneOf(COMPRESSIONS, { default: 'none', refused: REFUSED_COMPRESSIONS }),
      line_delimiter: lineDelimiter,
      file_per_slice: boolean(false),
      _connection: CONNECTION,
    },
  },
};

/** Names of the operations we run, in the order messages list them. */
export const SUPPORTED_OPS: readonly string[] = ['data_generator', 'file_reader', 'noop', 'delay', 'stdout', 'file_exporter'];

/** Operations and APIs of elasticsearch-assets (and the old builtins): named in a clearer refusal. */
export const ELASTICSEARCH_OPS: ReadonlySet<string> = new Set([
  'elasticsearch_reader', 'elasticsearch_bulk', 'elasticsearch_data_generator', 'elasticsearch_index_selector',
  'elasticsearch_date_range', 'elasticsearch_reader_api', 'elasticsearch_sender_api', 'elasticsearch_state_storage',
  'id_reader', 'spaces_reader', 'spaces_reader_api',
]);

/** The definition of `op`, or undefined when we do not run it. */
export function opDef(op: string): OpDef | undefined {
  return Object.hasOwn(OPERATIONS, op) ? OPERATIONS[op] : undefined;
}

/** Teraslice's message for an operation it cannot find, with what we do run (and why not Elasticsearch). */
export function unknownOpMessage(op: string): string {
  const shown = op.slice(0, 128);
  const why = ELASTICSEARCH_OPS.has(op) || op.startsWith('elasticsearch') ? ' (Elasticsearch operations are not supported here)' : '';
  return `Unable to find module for operation: ${shown}${why}; supported: ${SUPPORTED_OPS.join(', ')}`;
}
