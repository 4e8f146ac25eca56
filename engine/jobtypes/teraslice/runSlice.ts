/**
 * Running one slice: the reader's records, `CHUNK_RECORDS` at a time, through the processors in
 * order and, when the last operation is file_exporter, into the slice's file.
 *
 * Result: `itemsDone` = records that went through the pipeline, `itemsFailed` = bad records
 * skipped (dead letter "log"/"none"), `bytesDone` = bytes the reader read (0 for data_generator),
 * so it matches the plan's `bytes` for file slices. Errors: bad input (payload, records, paths
 * outside the root, a missing file) fails the slice for good; other I/O errors may pass on retry.
 */
import { mkdir } from 'node:fs/promises';
import type { TaskResult } from '../../../actors/events.ts';
import { isAppError } from '../../errors.ts';
import { TaskRunError, type RunContext } from '../jobType.ts';
import { openRoot, type RootedDir } from '../rootedDir.ts';
import { generatorChunks } from './dataGenerator.ts';
import { openSliceWriter, type SliceWriter } from './fileExporter.ts';
import { fileChunks, type DataRecord, type ReadTally } from './fileReader.ts';
import { FieldError } from './fields.ts';
import type { FileExporterConfig, FileReaderConfig, ProcessorConfig } from './opTypes.ts';
import { parseFileSlice, parseGeneratorSlice } from './payloads.ts';
import { abortableWait } from '../taskWait.ts';
import { createProcessor } from './processors.ts';
import type { TerasliceSpec } from './spec.ts';

/** Failed items listed per slice (all are counted). */
export const MAX_FAILURES = 100;
const HEARTBEAT_EVERY_MS = 1000;
/** errno codes that name a problem with the input or the spec's paths: a retry would meet them again. */
const DETERMINISTIC_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENAMETOOLONG']);

export interface RunOptions {
  /** Where stdout prints. @defaultValue process.stdout */
  print?: (text: string) => void;
  /** "Now" for generated dates. @defaultValue Date.now */
  now?: () => number;
}

function payloadOf<T>(parse: (v: unknown) => T, payload: unknown): T {
  try {
    return parse(payload);
  } catch (e) {
    if (e instanceof FieldError) throw new TaskRunError('BAD_PAYLOAD', `invalid teraslice slice: ${e.message}`, false);
    throw e;
  }
}

/** The files root, created if missing (it is configuration, not input: e.g. a wiped data dir). */
async function openDataRoot(dataDir: string): Promise<RootedDir> {
  return await openRoot(dataDir).catch(async (e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dataDir, { recursive: true });
    return await openRoot(dataDir);
  });
}

function classify(e: unknown, signal: AbortSignal): unknown {
  if (e instanceof TaskRunError) return e;
  if (signal.aborted) return new TaskRunError('ABORTED', 'task aborted', false);
  if (isAppError(e)) return new TaskRunError(e.code, e.message, e.retryable);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && DETERMINISTIC_CODES.has(code)) return new TaskRunError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR', `${(e as Error).message}`, false);
  if (code !== undefined) return new TaskRunError('IO_ERROR', `I/O error: ${code}`, true);
  return e; // unexpected: the engine records it as a retryable TASK_ERROR
}

/** The slice a recovery's `r…` task re-runs, when its recovery names it. */
function originOf(spec: TerasliceSpec, taskId: string): { exId: string; taskId: string } | undefined {
  const m = /^r(\d+)$/.exec(taskId);
  return m === null ? undefined : spec.recovery?.slices[Number(m[1])]?.origin;
}

export async function runSlice(spec: TerasliceSpec, payload: unknown, ctx: RunContext, opts: RunOptions = {}): Promise<TaskResult> {
  const ops = spec.operations;
  const reader = ops[0]!;
  const last = ops.at(-1)!;
  const exporter = last._op === 'file_exporter' ? (last as FileExporterConfig) : undefined;
  const print = opts.print ?? ((text: string) => void process.stdout.write(text));
  let lastBeat = Date.now();
  const progress = (): void => {
    if (Date.now() - lastBeat < HEARTBEAT_EVERY_MS) return;
    lastBeat = Date.now();
    ctx.heartbeat();
  };
  const io = { jobId: ctx.jobId, taskId: ctx.taskId, signal: ctx.signal, heartbeat: () => ctx.heartbeat(), print };
  const processors = ops.slice(1, exporter ? -1 : undefined).map((op) => createProcessor(op as ProcessorConfig, io));
  const tally: ReadTally = { bytes: 0, failed: 0, failures: [] };
  const skip = (item: string, error: string): void => {
    tally.failed++;
    if (tally.failures.length < MAX_FAILURES) tally.failures.push({ item, error });
  };

  let root: RootedDir | undefined;
  let writer: SliceWriter | undefined;
  let records = 0;
  try {
    let source: Iterable<DataRecord[]> | AsyncIterable<DataRecord[]>;
    if (reader._op === 'data_generator') {
      const slice = payloadOf(parseGeneratorSlice, payload);
      if (reader.delay > 0) await abortableWait(reader.delay * 1000, io);
      source = generatorChunks(reader, slice, opts.now ?? Date.now);
    } else {
      const slice = payloadOf(parseFileSlice, payload);
      root = await openDataRoot(ctx.roots.dataDir);
      source = fileChunks(reader as FileReaderConfig, slice, root, { signal: ctx.signal, progress, skip }, tally);
    }
    if (exporter !== undefined) {
      root ??= await openDataRoot(ctx.roots.dataDir);
      // a re-run slice writes under the name of the slice it re-runs: its earlier file (if it got that far) is replaced, not doubled
      const origin = originOf(spec, ctx.taskId);
      writer = await openSliceWriter(exporter, root, origin?.exId ?? ctx.jobId, origin?.taskId ?? ctx.taskId);
    }
    let chunks = 0;
    for await (const records0 of source) {
      // A macrotask hop per chunk: a slice that is all CPU (a generator into noop) would otherwise
      // run as one microtask chain and, slice after slice, starve timers (heartbeats, a stop).
      await new Promise<void>((resolve) => setImmediate(resolve));
      ctx.signal.throwIfAborted();
      ctx.heartbeat();
      let chunk = records0;
      for (const p of processors) chunk = await p(chunk);
      await writer?.write(chunk);
      records += chunk.length;
      chunks++;
    }
    if (chunks === 0) for (const p of processors) await p([]); // every slice passes the processors (delay waits)
    await writer?.finish();
  } catch (e) {
    await writer?.abort();
    throw classify(e, ctx.signal);
  } finally {
    await root?.close();
  }
  return { itemsDone: records, itemsFailed: tally.failed, bytesDone: tally.bytes, failures: tally.failures };
}
