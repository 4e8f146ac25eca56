/**
 * OpenPAI v2 job tags (`PUT|DELETE /api/v2/jobs/:user~:job/tag`): a document per job in the
 * document store (namespace `openpaitag`, id = the job's UUID), written with compare-and-set.
 */
import { AppError, isAppError, type DocumentStore } from '../../../engine/index.ts';

const NAMESPACE = 'openpaitag';
/** Tags one job keeps at most. */
export const MAX_TAGS = 64;

interface TagDoc {
  tags: string[];
}

export function tagsOf(documents: DocumentStore, jobId: string): string[] {
  return [...(documents.get<TagDoc>(NAMESPACE, jobId)?.value.tags ?? [])];
}

/** Applies `change` to the job's tags with CAS, retrying a lost race a few times; false when `change` says nothing changes. */
async function changeTags(documents: DocumentStore, jobId: string, change: (tags: string[]) => string[] | undefined): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const current = documents.get<TagDoc>(NAMESPACE, jobId);
    const next = change([...(current?.value.tags ?? [])]);
    if (next === undefined) return false;
    try {
      if (current === undefined) await documents.create(NAMESPACE, jobId, { tags: next } satisfies TagDoc);
      else await documents.update(NAMESPACE, jobId, { tags: next } satisfies TagDoc, current.revision);
      return true;
    } catch (err) {
      if (attempt >= 5 || !isAppError(err, 'CONFLICT')) throw err;
    }
  }
}

/** Adds `tag` (a no-op when present); VALIDATION_FAILED beyond MAX_TAGS. */
export async function addTag(documents: DocumentStore, jobId: string, tag: string): Promise<void> {
  await changeTags(documents, jobId, (tags) => {
    if (tags.includes(tag)) return undefined;
    if (tags.length >= MAX_TAGS) throw new AppError('VALIDATION_FAILED', `a job keeps at most ${MAX_TAGS} tags`);
    return [...tags, tag];
  });
}

/** Removes `tag`; false when the job did not have it. */
export async function deleteTag(documents: DocumentStore, jobId: string, tag: string): Promise<boolean> {
  return changeTags(documents, jobId, (tags) => (tags.includes(tag) ? tags.filter((t) => t !== tag) : undefined));
}
