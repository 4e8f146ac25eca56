/**
 * Sealed commands: the commands an `exec` instance really runs when they hold secrets (OpenPAI's
 * `<% $secrets.x %>`), kept out of the job's spec and so out of its events, the API and the event
 * streams. The spec's `sealed.id` names a document in the document store (namespace `execsealed`)
 * that the submitter (the OpenPAI facade) writes before submitting; the spec's own `commands` are
 * what is shown (secrets as `******`). The worker reads the document at run time and hides its
 * `redact` values in whatever the instance says (redactor.ts).
 */
import type { DocumentStore } from '../../documents/documentStore.ts';
import { AppError } from '../../errors.ts';
import type { Caller } from '../../serviceTypes.ts';
import { TaskRunError } from '../jobType.ts';
import { MAX_COMMAND_BYTES, MAX_COMMANDS, type ExecSpec } from './spec.ts';

/** The document store namespace of sealed commands. */
export const EXEC_SEALED_NAMESPACE = 'execsealed';

/** The document `execsealed/<sealed.id>`. */
export interface ExecSealedDocument {
  /**
   * The user who wrote it: only their submissions (and an admin's) may name it (admitSealed), so
   * an id seen in another user's spec grants nothing.
   */
  owner: string;
  /** Per task role, in the spec's order: the commands its instances run (instead of the spec's). */
  commands: string[][];
  /** Secret values to hide in the instances' output and messages (those under MIN_REDACT_CHARS are not). */
  redact: string[];
}

/** Most values one document may ask to hide. */
export const MAX_REDACT_VALUES = 1000;

/** How long a worker waits for a sealed document its mirror does not hold yet (the control store's watch may lag the task). */
export const DEFAULT_SEALED_WAIT_MS = 5_000;
const POLL_MS = 50;

/**
 * Refuses a spec naming sealed commands that are not the caller's (an admin may name any: a re-run
 * of another user's job). Checked at submission and re-run, where the document is mirrored locally
 * (the submitter wrote it in this process just before). Another user's id is refused like an
 * unknown one, so ids cannot be probed.
 * @throws AppError INVALID_SPEC
 */
export function admitSealed(documents: DocumentStore, spec: ExecSpec, caller: Caller): void {
  if (spec.sealed === undefined) return;
  const doc = documents.get<Partial<ExecSealedDocument>>(EXEC_SEALED_NAMESPACE, spec.sealed.id);
  if (doc !== undefined && (caller.role === 'admin' || doc.value.owner === caller.user)) return;
  throw new AppError('INVALID_SPEC', 'spec.sealed: no sealed commands of yours have this id (they are written by the facade that submits the job)', { details: { field: 'spec.sealed.id' } });
}

/** Why `value` is not a sealed document for `spec` (no content of it in the text), or undefined. */
export function sealedDocumentProblem(value: unknown, spec: ExecSpec): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'it is not an object';
  const { commands, redact } = value as Partial<Record<keyof ExecSealedDocument, unknown>>;
  if (!Array.isArray(commands)) return '`commands` is not a list';
  if (commands.length !== spec.taskRoles.length) return `it has commands for ${commands.length} task roles; the job has ${spec.taskRoles.length}`;
  for (let i = 0; i < commands.length; i++) {
    const role = commands[i] as unknown;
    const name = spec.taskRoles[i]!.name;
    if (!Array.isArray(role) || role.length === 0 || role.length > MAX_COMMANDS) return `the commands of task role ${name} are not a list of 1 to ${MAX_COMMANDS}`;
    if (!role.every((c) => typeof c === 'string' && c.trim() !== '' && c.length <= MAX_COMMAND_BYTES && !c.includes('\0'))) {
      return `a command of task role ${name} is not a non-empty string of at most ${MAX_COMMAND_BYTES} characters without NUL`;
    }
  }
  if (!Array.isArray(redact) || redact.length > MAX_REDACT_VALUES || !redact.every((v) => typeof v === 'string')) return `\`redact\` is not a list of at most ${MAX_REDACT_VALUES} strings`;
  return undefined;
}

/**
 * The sealed document of `spec` (which has `sealed`), checked against it. Waits up to `waitMs` for
 * one not mirrored yet (aborted with `signal`).
 * @throws TaskRunError SECRETS_UNAVAILABLE (not retryable) when it is missing or malformed.
 */
export async function readSealed(documents: DocumentStore, spec: ExecSpec & { sealed: { id: string } }, opts: { waitMs: number; signal: AbortSignal }): Promise<ExecSealedDocument> {
  const id = spec.sealed.id;
  const deadline = Date.now() + opts.waitMs;
  let doc = documents.get<unknown>(EXEC_SEALED_NAMESPACE, id);
  while (doc === undefined && Date.now() < deadline && !opts.signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, POLL_MS);
      opts.signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', done);
        resolve();
      }
    });
    doc = documents.get<unknown>(EXEC_SEALED_NAMESPACE, id);
  }
  if (opts.signal.aborted) throw new TaskRunError('ABORTED', 'the task was stopped', false);
  if (doc === undefined) {
    throw new TaskRunError('SECRETS_UNAVAILABLE', `exec: the sealed commands of this job (document ${EXEC_SEALED_NAMESPACE}/${id}) are gone: the job was deleted through its facade, or the document was never written`, false);
  }
  const problem = sealedDocumentProblem(doc.value, spec);
  if (problem !== undefined) throw new TaskRunError('SECRETS_UNAVAILABLE', `exec: the sealed commands of this job (document ${EXEC_SEALED_NAMESPACE}/${id}) are malformed: ${problem}`, false);
  return doc.value as ExecSealedDocument;
}
