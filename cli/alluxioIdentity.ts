/**
 * How a job's Alluxio identity (type, path) appears on the wire, derived exactly as the Alluxio
 * facade derives it (api/compat/alluxio/jobIdentity.ts; a test checks both agree): the label every
 * path job carries, and the idempotency key that makes two identical submissions one job.
 */
import { createHash } from 'node:crypto';

/** The label that carries a job's identity path, hashed. */
export const PATH_LABEL = 'alluxio/path';

/** The label's value for a normalized native path (`normalizeNative`): 32 hex digits of its sha256. */
export function pathHash(nativePath: string): string {
  return createHash('sha256').update(nativePath).digest('hex').slice(0, 32);
}

/** `label` selector of a path's jobs for `GET /jobs`. */
export function pathSelector(nativePath: string): string {
  return `${PATH_LABEL}=${pathHash(nativePath)}`;
}

/** The idempotency key of a submission for (type, path) after the job numbered `previousSubmitSeq` (none: 0). */
export function identityKey(type: string, nativePath: string, previousSubmitSeq: number): string {
  return `alluxio-ee/${type}/${pathHash(nativePath)}/after/${previousSubmitSeq}`;
}
