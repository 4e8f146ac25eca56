/**
 * Reads the runner's `result.json` from a work dir the script owns. The script may have put
 * anything there (a symlink to a secret, a FIFO, a huge file), so: no link is followed
 * (O_NOFOLLOW), nothing blocks (O_NONBLOCK: a FIFO is refused, not waited on), only a regular file
 * is read and only up to the cap.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

export const RESULT_FILE = 'result.json';

/** What the runner wrote (runners/README.md: the protocol). */
export type RunnerResult =
  | { ok: true; result: unknown }
  | { ok: false; kind: 'validation'; message: string; problems: string[] }
  | { ok: false; kind: 'error'; message: string; errorClass: string; stack: string };

export type ResultRead =
  | { kind: 'missing' }
  | { kind: 'tooLarge'; bytes: number }
  | { kind: 'invalid'; why: string }
  | { kind: 'read'; value: RunnerResult; bytes: number };

/** Slack over the result cap for the envelope `{"ok":true,"result":…}` and an error's stack. */
const ENVELOPE_SLACK = 64 * 1024;
const MAX_TEXT = 64 * 1024;

export async function readResultFile(workDir: string, maxResultBytes: number): Promise<ResultRead> {
  let fh;
  try {
    fh = await open(path.join(workDir, RESULT_FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', why: `result.json cannot be opened (${code ?? String(e)})` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { kind: 'invalid', why: 'result.json is not a regular file' };
    if (st.size > maxResultBytes + ENVELOPE_SLACK) return { kind: 'tooLarge', bytes: st.size };
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    let v: unknown;
    try {
      v = JSON.parse(buf.subarray(0, bytesRead).toString('utf8'));
    } catch {
      return { kind: 'invalid', why: 'result.json is not JSON' };
    }
    const r = checkShape(v);
    if (typeof r === 'string') return { kind: 'invalid', why: r };
    if (r.ok) {
      const bytes = Buffer.byteLength(JSON.stringify(r.result ?? null));
      if (bytes > maxResultBytes) return { kind: 'tooLarge', bytes };
      return { kind: 'read', value: { ok: true, result: r.result ?? null }, bytes };
    }
    return { kind: 'read', value: r, bytes: bytesRead };
  } finally {
    await fh.close();
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v)).slice(0, MAX_TEXT);

function checkShape(v: unknown): RunnerResult | string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'result.json is not an object';
  const o = v as Record<string, unknown>;
  if (o.ok === true) return { ok: true, result: o.result };
  if (o.ok !== false) return 'result.json has no boolean "ok"';
  if (o.kind === 'validation') {
    const problems = Array.isArray(o.problems) ? o.problems.slice(0, 100).map(text) : [];
    return { ok: false, kind: 'validation', message: text(o.message), problems };
  }
  return { ok: false, kind: 'error', message: text(o.message), errorClass: text(o.errorClass) || 'Error', stack: text(o.stack) };
}
