/**
 * OpenPAI v2 job tags (`PUT|DELETE /api/v2/jobs/:user~:job/tag`): a document per job in the
 * document store (namespace `openpaitag`, id = the job's UUID), written with compare-and-set. The
 * document also holds the job's `submitSeq`: a job id can come back (retention removed every job of
 * a name, and a new one of that name gets the first one's id), and the new job starts without the
 * old one's tags.
 */
import { AppError, isAppError, type DocumentStore, type JobView } from '../../../engine/index.ts';

const NAMESPACE = 'openpaitag';
/** Tags one job keeps at most. */
export const MAX_TAGS = 64;

interface TagDoc {
  submitSeq?: number;
  tags: string[];
}

type TaggedJob = Pick<JobView, 'id' | 'submitSeq'>;

/** The tags of this very job (none from an earlier job that had its id). */
function current(doc: TagDoc | undefined, job: TaggedJob): string[] {
  return doc !== undefined && doc.submitSeq === job.submitSeq ? [...doc.tags] : [];
}

export function tagsOf(documents: DocumentStore, job: TaggedJob): string[] {
  return current(documents.get<TagDoc>(NAMESPACE, job.id)?.value, job);
}

/** Applies `change` to the job's tags with CAS, retrying a lost race a few times; false when `change` says nothing changes. */
async function changeTags(documents: DocumentStore, job: TaggedJob, change: (tags: string[]) => string[] | undefined): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const stored = documents.get<TagDoc>(NAMESPACE, job.id);
    const next = change(current(stored?.value, job));
    if (next === undefined) return false;
    const doc: TagDoc = { submitSeq: job.submitSeq, tags: next };
    try {
      if (stored === undefined) await documents.create(NAMESPACE, job.id, doc);
      else await documents.update(NAMESPACE, job.id, doc, stored.revision);
      return true;
    } catch (err) {
      if (attempt >= 5 || !isAppError(err, 'CONFLICT')) throw err;
    }
  }
}

/** Adds `tag` (a no-op when present); VALIDATION_FAILED beyond MAX_TAGS. */
export async function addTag(documents: DocumentStore, job: TaggedJob, tag: string): Promise<void> {
  await changeTags(documents, job, (tags) => {
    if (tags.includes(tag)) return undefined;
    if (tags.length >= MAX_TAGS) throw new AppError('VALIDATION_FAILED', `a job keeps at most ${MAX_TAGS} tags`);
    return [...tags, tag];
  });
}

/** Removes `tag`; false when the job did not have it. */
export async function deleteTag(documents: DocumentStore, job: TaggedJob, tag: string): Promise<boolean> {
  return changeTags(documents, job, (tags) => (tags.includes(tag) ? tags.filter((t) => t !== tag) : undefined));
}

/** Drops the job's tags (v1 DELETE: the name is free again). */
export async function dropTags(documents: DocumentStore, job: TaggedJob): Promise<void> {
  await documents.delete(NAMESPACE, job.id);
}
