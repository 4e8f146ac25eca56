/**
 * Spark contexts as named pools of job slots, kept durably in the document store (namespace
 * `sparkcontext`, id derived from the name, so a create is one compare-and-set and every API
 * process sees the same contexts). A context's jobs carry the label `spark/context=<name>`; its
 * slots (`max-jobs-per-context`, else `num-cpu-cores`, else Spark's default 8) bound how many of
 * them are unfinished at once; `memory-per-node` is what a job may use beyond what its runtime
 * needs to start.
 */
import { createHash, randomUUID } from 'node:crypto';
import { AppError, isAppError, type DocumentStore } from '../../../engine/index.ts';
import { SparkError } from './errors.ts';

export const CONTEXT_NAMESPACE = 'sparkcontext';
/** Spark Jobserver's `spark.jobserver.max-jobs-per-context` default. */
export const DEFAULT_CONTEXT_SLOTS = 8;
export const MAX_CONTEXT_SLOTS = 1000;
/** The label a context's jobs carry (its value is the context name). */
export const CONTEXT_LABEL = 'spark/context';
/** The label with the context's id at the job's start (contexts re-created under a name get new ids). */
export const CONTEXT_ID_LABEL = 'spark/context-id';
/** Letters first (Spark's own rule), then what a label value may hold. */
const CONTEXT_NAME_RE = /^[A-Za-z][A-Za-z0-9._:@+-]{0,127}$/;

export interface SparkContextDoc {
  name: string;
  /** A new UUID each time the name is (re)created. */
  id: string;
  startTime: string;
  endTime: string | null;
  state: 'RUNNING' | 'STOPPED';
  slots: number;
  /** Extra MiB a job may use beyond its runtime's start-up need; null: the service's default. */
  memoryMb: number | null;
  /** What the creator asked for (query parameters and `spark.context-settings`), as strings. */
  params: Record<string, string>;
  owner: string;
}

export function checkContextName(name: string): string {
  if (name.length === 0 || !/^[A-Za-z]/.test(name)) throw new SparkError(400, 'context name must start with letters');
  if (!CONTEXT_NAME_RE.test(name)) throw new SparkError(400, `context names are 1-128 of letters, digits and '._:@+-' (got ${JSON.stringify(name.slice(0, 80))})`);
  return name;
}

/** The document id of a context name: a UUID made from the name's sha256. */
export function contextDocId(name: string): string {
  const h = createHash('sha256').update(`spark-context:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** `512m`, `2g`, `1024` (MiB), `-Xmx`-style, as MiB; undefined when it is not one. */
export function parseMemory(v: string): number | undefined {
  const m = /^(\d{1,9})([kmgt]?)b?$/i.exec(v.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const mib = unit === 'k' ? Math.ceil(n / 1024) : unit === 'g' ? n * 1024 : unit === 't' ? n * 1024 * 1024 : n;
  return mib >= 1 && mib <= 1024 * 1024 ? mib : undefined;
}

function intParam(params: Record<string, string>, key: string, max: number): number | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (!/^\d{1,7}$/.test(v.trim()) || Number(v) < 1 || Number(v) > max) throw new SparkError(400, `${key} must be an integer from 1 to ${max}, got ${JSON.stringify(v.slice(0, 40))}`);
  return Number(v);
}

export interface SparkContexts {
  get(name: string): SparkContextDoc | undefined;
  /** Running contexts, by name. */
  list(): SparkContextDoc[];
  create(name: string, params: Record<string, string>, owner: string, now: string): Promise<SparkContextDoc>;
  /** Marks it stopped (the caller stops its jobs); false when it was not running. */
  stop(name: string, now: string): Promise<boolean>;
}

export function createSparkContexts(documents: DocumentStore): SparkContexts {
  const get = (name: string): { value: SparkContextDoc; revision: number } | undefined =>
    CONTEXT_NAME_RE.test(name) ? documents.get<SparkContextDoc>(CONTEXT_NAMESPACE, contextDocId(name)) : undefined;
  return {
    get(name) {
      const d = get(name);
      return d?.value.state === 'RUNNING' ? d.value : undefined;
    },
    list() {
      return documents.list<SparkContextDoc>(CONTEXT_NAMESPACE).map((d) => d.value).filter((c) => c.state === 'RUNNING').sort((a, b) => (a.name < b.name ? -1 : 1));
    },
    async create(name, params, owner, now) {
      checkContextName(name);
      const slots = intParam(params, 'max-jobs-per-context', MAX_CONTEXT_SLOTS) ?? intParam(params, 'num-cpu-cores', MAX_CONTEXT_SLOTS) ?? DEFAULT_CONTEXT_SLOTS;
      let memoryMb: number | null = null;
      if (params['memory-per-node'] !== undefined) {
        const m = parseMemory(params['memory-per-node']);
        if (m === undefined) throw new SparkError(400, `memory-per-node must be a size like 512m or 2g, got ${JSON.stringify(params['memory-per-node'].slice(0, 40))}`);
        memoryMb = m;
      }
      const doc: SparkContextDoc = { name, id: randomUUID(), startTime: now, endTime: null, state: 'RUNNING', slots, memoryMb, params, owner };
      const existing = get(name);
      try {
        if (existing === undefined) await documents.create(CONTEXT_NAMESPACE, contextDocId(name), doc);
        else if (existing.value.state === 'RUNNING') throw exists(name);
        else await documents.update(CONTEXT_NAMESPACE, contextDocId(name), doc, existing.revision);
      } catch (err) {
        if (isAppError(err, 'CONFLICT')) throw exists(name);
        throw err;
      }
      return doc;
    },
    async stop(name, now) {
      for (let i = 0; i < 5; i++) {
        const d = get(name);
        if (d === undefined || d.value.state !== 'RUNNING') return false;
        try {
          await documents.update(CONTEXT_NAMESPACE, contextDocId(name), { ...d.value, state: 'STOPPED', endTime: now }, d.revision);
          return true;
        } catch (err) {
          if (!isAppError(err, 'CONFLICT')) throw err;
        }
      }
      throw new AppError('CONFLICT', `context ${name} changed while being stopped; try again`);
    },
  };
}

const exists = (name: string) => new SparkError(400, `context ${name} exists`);
