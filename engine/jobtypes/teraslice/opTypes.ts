/** The normalised operation configs of a teraslice job (every declared field present; see operations.ts). */

/** Fields every operation has. `_api_name` only when the job gave one. */
export type CommonOpConfig = {
  _encoding: 'json' | 'raw';
  /** What a bad record does: fail the slice, or skip it (counted as a failed item). */
  _dead_letter_action: 'throw' | 'log' | 'none';
  _api_name?: string;
};

export type DataFormat = 'ldjson' | 'json' | 'raw';
export type Compression = 'none' | 'gzip';
export type DateFormat = 'dateNow' | 'isoBetween' | 'utcDate' | 'utcBetween';

export type DataGeneratorConfig = CommonOpConfig & {
  _op: 'data_generator';
  size: number;
  json_schema: null;
  start: string | null;
  end: string | null;
  format: DateFormat | null;
  stress_test: boolean;
  /** Seconds to wait per slice. */
  delay: number;
  date_key: string;
  set_id: 'base64url' | 'hexadecimal' | 'HEXADECIMAL' | null;
  id_start_key: string | null;
};

export type FileReaderConfig = CommonOpConfig & {
  _op: 'file_reader';
  /** Relative to the files root. */
  path: string;
  /** Bytes per slice. */
  size: number;
  format: DataFormat;
  compression: Compression;
  line_delimiter: string;
  file_per_slice: boolean;
  ignore_empty: boolean;
  _connection: 'default';
};

export type NoopConfig = CommonOpConfig & { _op: 'noop' };
export type DelayConfig = CommonOpConfig & { _op: 'delay'; ms: number };
export type StdoutConfig = CommonOpConfig & { _op: 'stdout'; limit: number };

export type FileExporterConfig = CommonOpConfig & {
  _op: 'file_exporter';
  /** A directory relative to the files root. */
  path: string;
  /** Records per slice for a data_generator reader; null: the generator's size. */
  size: number | null;
  format: DataFormat;
  compression: Compression;
  line_delimiter: string;
  /** Accepted and recorded: one file per slice is always written (fileExporter.ts says why). */
  file_per_slice: boolean;
  _connection: 'default';
};

export type ReaderConfig = DataGeneratorConfig | FileReaderConfig;
export type ProcessorConfig = NoopConfig | DelayConfig | StdoutConfig;
export type OpConfig = ReaderConfig | ProcessorConfig | FileExporterConfig;
