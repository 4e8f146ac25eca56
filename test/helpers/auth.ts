/**
 * The admin credential of services started by the test helpers: a static `adminToken` (a real,
 * opt-in setting meant for automation) that every helper-built service and process accepts, and
 * that the helpers' HTTP functions send unless the caller passes its own `authorization` header.
 */
import { randomBytes } from 'node:crypto';

/** Random per test process, so no test depends on a known secret. */
export const TEST_ADMIN_TOKEN = `test-admin-${randomBytes(24).toString('hex')}`;

/** Headers with the admin bearer token added unless `authorization` is present (an empty value sends none). */
export function withAuth(headers: Record<string, string> = {}): Record<string, string> {
  if (!('authorization' in headers)) return { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers };
  if (headers['authorization'] === '') {
    const { authorization: _omit, ...rest } = headers;
    return rest;
  }
  return headers;
}
