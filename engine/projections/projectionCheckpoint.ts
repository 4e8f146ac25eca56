/**
 * A checkpoint of the job projection (decision 0013 §3.3): the projection at one record boundary as
 * text, and the projection rebuilt from it, which then follows the stream from the next record and
 * behaves as one that replayed from seq 1. A checkpoint is a cache: whenever it does not fit the
 * stream or this build, it is refused and the caller replays from seq 1.
 *
 * The text is two lines of JSON: a header (format and fold versions, the stream it was taken of, the
 * covered seq, the sha256 of the body's UTF-8 bytes) and the body, so that the digest covers the
 * body's exact bytes and a header can be checked before the body is parsed. A writer hands it to a
 * store as UTF-8 pieces (writeCheckpointSliced) and a loader reads it back from chunks
 * (collectCheckpoint): no turn joins, encodes or hashes the whole text (a start still decodes and
 * parses the body once, before it is ready).
 */
import { createHash } from 'node:crypto';
import type { SnapshotFrom } from 'xstate';
import type { JobState } from '../../actors/events.ts';
import { createStateResolver } from '../../actors/flatMachineSteps.ts';
import { jobMachine } from '../../actors/job.machine.ts';
import type { JobContext } from '../../actors/jobContext.ts';
import type { JobSnapshot } from '../../actors/jobFold.ts';
import { createJobProjection, type JobProjection, type JobProjectionOptions, type ProjectionState } from './jobProjection.ts';
import type { WorkerEntry } from './workerRegistry.ts';

/** Layout of the text; a reader refuses any other (written by another build). */
export const CHECKPOINT_FORMAT_VERSION = 1;

/**
 * What the job machine folds a history to. Raise it with any change that folds a stored history to
 * a different context or state: a checkpoint of another fold version is refused (full replay).
 */
export const FOLD_VERSION = 1;

const FORMAT = 'jetjobs.projection';

/** Which stream a checkpoint was taken of: a stream deleted and created again restarts its seqs. */
export interface StreamIdentity {
  /** The stream's creation time (stream info `created`). */
  created: string;
  /** The stream's first seq (stream info `state.first_seq`) when the checkpoint was taken. */
  firstSeq: number;
}

/** The stream as it is now, to check a checkpoint against. */
export interface StreamNow extends StreamIdentity {
  /** The stream's last seq (stream info `state.last_seq`). */
  lastSeq: number;
}

/** The first line of a checkpoint. */
export interface CheckpointHeader {
  format: typeof FORMAT;
  formatVersion: number;
  foldVersion: number;
  stream: StreamIdentity;
  /** The last stream seq the checkpoint covers: follow from the next one. */
  seq: number;
  jobs: number;
  /** sha256 (hex) of the body line. */
  digest: string;
}

/** Why a checkpoint was not used. */
export type CheckpointRefusal = 'json' | 'format' | 'fold' | 'stream' | 'seq' | 'digest';

export type CheckpointRead =
  | { ok: true; header: CheckpointHeader; state: ProjectionState }
  | { ok: false; reason: CheckpointRefusal; detail: string };

/** One job in the body: [id, state, context, submitSeq, lastEvSeq]. */
type JobRow = [string, JobState, JobContext, number, number];

interface Body {
  lastSeq: number;
  gapsSeen: number;
  rejected: number;
  jobs: JobRow[];
  waiting: readonly string[];
  active: readonly string[];
  virtualClusters: readonly string[];
  workers: readonly (readonly [string, WorkerEntry])[];
  strays: readonly string[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `jobMachine.resolveState` on the short path (flatMachineSteps.ts): the snapshot of a state and context. */
const resolveState = createStateResolver<SnapshotFrom<typeof jobMachine>>(jobMachine);

/**
 * The projection at one record boundary, cheap to take in one turn (a few references per job): the
 * parts that apply changes in place after the cut are copied (a job entry's snapshot, state and
 * lastEvSeq are reassigned on apply, so a row holds the snapshot's value and context themselves; a
 * worker entry's state and lastSeq are assigned in place, so each is copied). Snapshots and their
 * contexts are never mutated: a fold makes new ones (copy-on-write, flatMachineSteps.ts / jobContext.ts),
 * so a row may share them with the projection.
 */
interface Cut {
  body: Body;
  stream: StreamIdentity;
}

function takeCut(projection: JobProjection, stream: StreamIdentity): Cut {
  const st = projection.state();
  return {
    body: {
      lastSeq: st.lastSeq,
      gapsSeen: st.gapsSeen,
      rejected: st.rejected,
      jobs: st.jobs.map((e) => [e.id, e.snapshot.value, e.snapshot.context, e.submitSeq, e.lastEvSeq]),
      waiting: st.waiting,
      active: st.active,
      virtualClusters: st.virtualClusters,
      workers: st.workers.map(([id, w]) => [id, { ...w }] as const),
      strays: st.strays,
    },
    stream: { created: stream.created, firstSeq: stream.firstSeq },
  };
}

/** How many list items one slice of {@link writeCheckpointSliced} serializes (jobs ~15 µs each with the digest). */
export const CHECKPOINT_SLICE_ITEMS = 2_000;

/** A piece of the body text, and how many list items it holds (a writer yields once a slice of them is done). */
interface Piece {
  text: string;
  items: number;
}

/**
 * The body text of a cut in pieces, the digest updated with each: JSON.stringify of the whole body
 * (the same keys in the same order; an array's items joined by commas), a list at most `slice`
 * items per piece. The caller may yield between pieces.
 */
function* bodyPieces(body: Body, slice: number): Generator<Piece, void, undefined> {
  const fixed = (text: string): Piece => ({ text, items: 0 });
  yield fixed(`{"lastSeq":${JSON.stringify(body.lastSeq)},"gapsSeen":${JSON.stringify(body.gapsSeen)},"rejected":${JSON.stringify(body.rejected)},"jobs":`);
  yield* listPieces(body.jobs, slice);
  yield fixed(',"waiting":');
  yield* listPieces(body.waiting, slice);
  yield fixed(',"active":');
  yield* listPieces(body.active, slice);
  yield fixed(`,"virtualClusters":${JSON.stringify(body.virtualClusters)},"workers":${JSON.stringify(body.workers)},"strays":${JSON.stringify(body.strays)}}`);
}

/** JSON.stringify(list) in pieces of at most `slice` items (an item JSON.stringify leaves out is null, as in an array). */
function* listPieces(list: readonly unknown[], slice: number): Generator<Piece, void, undefined> {
  if (list.length === 0) {
    yield { text: '[]', items: 0 };
    return;
  }
  for (let i = 0; i < list.length; i += slice) {
    const parts: string[] = [];
    for (let k = i; k < Math.min(i + slice, list.length); k++) parts.push(JSON.stringify(list[k]) ?? 'null');
    yield { text: `${i === 0 ? '[' : ','}${parts.join(',')}${i + slice >= list.length ? ']' : ''}`, items: parts.length };
  }
}

/** The first line of a checkpoint of `cut`, with its newline. */
function headerLine(cut: Cut, digest: string): string {
  const header: CheckpointHeader = {
    format: FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    foldVersion: FOLD_VERSION,
    stream: cut.stream,
    seq: cut.body.lastSeq,
    jobs: cut.body.jobs.length,
    digest,
  };
  return `${JSON.stringify(header)}\n`;
}

/**
 * The projection as it is now, as checkpoint text. Synchronous: it covers exactly the records
 * applied so far (`projection.lastSeq()`), so call it between two records, never across an await.
 * Blocks the event loop ~15 µs per held job; a process that serves anything uses
 * {@link writeCheckpointSliced}, which makes the same text.
 */
export function writeCheckpoint(projection: JobProjection, stream: StreamIdentity): string {
  const cut = takeCut(projection, stream);
  const bodyText = JSON.stringify(cut.body);
  return headerLine(cut, sha256(bodyText)) + bodyText;
}

/** What {@link writeCheckpointSliced} made. */
export interface SlicedCheckpoint {
  /**
   * The checkpoint as UTF-8 in pieces, the header line first: one after the other they are the text
   * {@link writeCheckpoint} makes. A store writes them in order and never joins them (one piece per
   * slice, encoded in the slice's turn).
   */
  pieces: Uint8Array[];
  /** Bytes in all pieces. */
  bytes: number;
  /** The seq the checkpoint covers (the projection's last seq when the write was called). */
  seq: number;
  /** The longest stretch the write held the event loop (ms), and how many turns it took. */
  longestSliceMs: number;
  slices: number;
}

/**
 * The text {@link writeCheckpoint} makes of the projection as it is at the call, as UTF-8 pieces and
 * without holding the event loop: the cut is taken synchronously in the call (a few references per
 * job, so records may be applied as soon as it returns), then serialized, encoded and hashed `slice`
 * list items per turn (setImmediate between turns). Records applied meanwhile are not in it. Nothing
 * joins the pieces: the last turn only adds the header line, whose digest it now knows.
 */
export function writeCheckpointSliced(projection: JobProjection, stream: StreamIdentity, slice = CHECKPOINT_SLICE_ITEMS): Promise<SlicedCheckpoint> {
  let t = performance.now();
  const cut = takeCut(projection, stream);
  let longestSliceMs = 0;
  let slices = 0;
  let bytes = 0;
  const hash = createHash('sha256');
  const pieces: Uint8Array[] = [];
  slice = Math.max(1, Math.floor(slice));
  const gen = bodyPieces(cut.body, slice);
  return new Promise<SlicedCheckpoint>((resolve, reject) => {
    const turn = (): void => {
      try {
        if (slices > 0) t = performance.now();
        slices++;
        let items = 0;
        // a slice: pieces until `slice` list items (one list piece) are done, then yield
        for (;;) {
          const next = gen.next();
          if (next.done === true) {
            const header = Buffer.from(headerLine(cut, hash.digest('hex')), 'utf8');
            pieces.unshift(header);
            bytes += header.length;
            longestSliceMs = Math.max(longestSliceMs, performance.now() - t);
            resolve({ pieces, bytes, seq: cut.body.lastSeq, longestSliceMs, slices });
            return;
          }
          // the digest is of the body's UTF-8 bytes, as sha256(bodyText) hashes them
          const piece = Buffer.from(next.value.text, 'utf8');
          pieces.push(piece);
          hash.update(piece);
          bytes += piece.length;
          // a turn ends once it did `slice` list items: a small projection is written in one
          items += next.value.items;
          if (items >= slice) break;
        }
        longestSliceMs = Math.max(longestSliceMs, performance.now() - t);
        setImmediate(turn);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    turn();
  });
}

/**
 * A checkpoint as loaded: its first line (without the newline), the rest (the body; undefined when
 * there is no newline: not a checkpoint), and the sha256 (hex) of the body's UTF-8 bytes when the
 * loader hashed them as they came ({@link collectCheckpoint}), so that {@link readCheckpoint} need
 * not hash the body again in one turn.
 */
export interface CheckpointParts {
  header: string;
  body: string | undefined;
  bodyDigest?: string;
}

/** A checkpoint text split at its first newline. */
export function splitCheckpoint(text: string): CheckpointParts {
  const nl = text.indexOf('\n');
  return nl === -1 ? { header: text, body: undefined } : { header: text.slice(0, nl), body: text.slice(nl + 1) };
}

const NEWLINE = 0x0a;

/**
 * A checkpoint read from its bytes as a store streams them (`size` bytes, the size it recorded):
 * copied into one buffer as they come and the body hashed chunk by chunk, then decoded once. So a
 * load holds the bytes once and the body text once, not the chunks, their concatenation and the text,
 * and no turn hashes the whole body. Rejects when the chunks hold more or fewer bytes than `size`.
 */
export async function collectCheckpoint(chunks: AsyncIterable<Uint8Array>, size: number): Promise<CheckpointParts> {
  const all = Buffer.allocUnsafe(size);
  const hash = createHash('sha256');
  let filled = 0;
  let nl = -1;
  for await (const chunk of chunks) {
    if (filled + chunk.length > size) throw new RangeError(`checkpoint: more than the ${size} bytes recorded`);
    all.set(chunk, filled);
    if (nl === -1) {
      const i = chunk.indexOf(NEWLINE);
      if (i !== -1) {
        nl = filled + i;
        hash.update(chunk.subarray(i + 1));
      }
    } else {
      hash.update(chunk);
    }
    filled += chunk.length;
  }
  if (filled !== size) throw new RangeError(`checkpoint: ${filled} bytes read, ${size} recorded`);
  if (nl === -1) return { header: all.toString('utf8'), body: undefined };
  return { header: all.toString('utf8', 0, nl), body: all.toString('utf8', nl + 1), bodyDigest: hash.digest('hex') };
}

/** The header of a checkpoint (its text, or as loaded), without reading the body; undefined when it is not one. */
export function readCheckpointHeader(checkpoint: string | CheckpointParts): CheckpointHeader | undefined {
  const parts = typeof checkpoint === 'string' ? splitCheckpoint(checkpoint) : checkpoint;
  if (parts.body === undefined) return undefined;
  try {
    const h = JSON.parse(parts.header) as Partial<CheckpointHeader> | null;
    return h !== null && typeof h === 'object' && h.format === FORMAT ? (h as CheckpointHeader) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a checkpoint against this build and the stream, and parses it. Refused: not a checkpoint
 * or bad JSON; another format or fold version; another stream (created at another time, or a first
 * seq below the one recorded: seqs of one stream only grow); a seq past the stream's last (a store
 * reset or restored from an older backup); a body that does not match its digest.
 */
export function readCheckpoint(checkpoint: string | CheckpointParts, stream: StreamNow): CheckpointRead {
  const refuse = (reason: CheckpointRefusal, detail: string): CheckpointRead => ({ ok: false, reason, detail });
  const parts = typeof checkpoint === 'string' ? splitCheckpoint(checkpoint) : checkpoint;
  const header = readCheckpointHeader(parts);
  if (header === undefined) return refuse('json', 'not a projection checkpoint');
  if (header.formatVersion !== CHECKPOINT_FORMAT_VERSION) return refuse('format', `format version ${header.formatVersion}, this build reads ${CHECKPOINT_FORMAT_VERSION}`);
  if (header.foldVersion !== FOLD_VERSION) return refuse('fold', `fold version ${header.foldVersion}, this build folds ${FOLD_VERSION}`);
  if (header.stream?.created !== stream.created || !(header.stream.firstSeq <= stream.firstSeq)) {
    return refuse('stream', `taken of the stream created ${header.stream?.created} (first seq ${header.stream?.firstSeq}), the stream now was created ${stream.created} (first seq ${stream.firstSeq})`);
  }
  if (!Number.isSafeInteger(header.seq) || header.seq < 0 || header.seq > stream.lastSeq) return refuse('seq', `covers seq ${header.seq}, the stream ends at ${stream.lastSeq}`);
  const bodyText = parts.body ?? '';
  if ((parts.bodyDigest ?? sha256(bodyText)) !== header.digest) return refuse('digest', 'the body does not match its digest');
  let body: Body;
  try {
    body = JSON.parse(bodyText) as Body;
  } catch (err) {
    return refuse('json', `body: ${(err as Error).message}`);
  }
  if (body.lastSeq !== header.seq || !Array.isArray(body.jobs) || body.jobs.length !== header.jobs) return refuse('json', 'body and header disagree');
  try {
    return { ok: true, header, state: toState(body) };
  } catch (err) {
    return refuse('json', `body: ${(err as Error).message}`);
  }
}

function toState(body: Body): ProjectionState {
  return {
    lastSeq: body.lastSeq,
    gapsSeen: body.gapsSeen,
    rejected: body.rejected,
    jobs: body.jobs.map(([id, value, context, submitSeq, lastEvSeq]) => ({ id: context.jobId === id ? context.jobId : id, snapshot: resolveState(value, context) as JobSnapshot, submitSeq, lastEvSeq })),
    waiting: body.waiting,
    active: body.active,
    virtualClusters: body.virtualClusters,
    workers: body.workers,
    strays: body.strays,
  };
}

/**
 * A projection rebuilt from a checkpoint's state: follow the stream from `state.lastSeq + 1`. Throws
 * RangeError on a state whose lists name jobs it does not hold (a checkpoint written by a bug).
 */
export function restoreProjection(state: ProjectionState, opts: JobProjectionOptions): JobProjection {
  return createJobProjection({ ...opts, from: state });
}
