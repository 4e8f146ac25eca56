/**
 * The `script` type's JavaScript runner: `node node-runner.mjs <app.mjs>`, cwd = the task's work
 * dir. Reads `job.json`, imports the module, calls the export `classPath` names and writes
 * `result.json` (see README.md for the protocol and the calling conventions). Dependency-free on
 * purpose: it runs on whatever Node the worker gives it.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Fixed at start: a job may chdir, the result still goes to the work dir.
const workDir = process.cwd();

async function main() {
  let outcome;
  try {
    outcome = await runJob(process.argv[2]);
  } catch (e) {
    outcome = errorOutcome(e);
  }
  writeResult(outcome);
  // The job is over when it returned: timers or sockets it left open must not hold the task.
  process.exit(0);
}

async function runJob(binaryPath) {
  if (!binaryPath) throw new Error('usage: node node-runner.mjs <module.mjs>');
  const job = JSON.parse(readFileSync(path.join(workDir, 'job.json'), 'utf8'));
  const config = job.config ?? {};
  const context = { jobId: job.jobId, taskId: job.taskId, contextName: job.context ?? null, config };
  const mod = await import(pathToFileURL(path.resolve(workDir, binaryPath)).href);
  const target = findExport(mod, String(job.classPath ?? ''));
  const entry = asEntry(target, job.classPath);
  if (typeof entry.runJob !== 'function') return ok(await entry(config, context));
  let data = config;
  if (typeof entry.validate === 'function') {
    let checked;
    try {
      checked = await entry.validate(context, config);
    } catch (e) {
      if (e?.name === 'ValidationError') return refusal(e.message, Array.isArray(e.problems) ? e.problems : [e.message]);
      throw e;
    }
    if (isProblems(checked)) return refusal(checked.message, checked.problems);
    if (checked !== undefined) data = checked;
  }
  return ok(await entry.runJob(context, data));
}

/** The export named `classPath`, else the one named by its last dotted segment (`spark.jobserver.X` → `X`). */
function findExport(mod, classPath) {
  const names = [classPath, classPath.slice(classPath.lastIndexOf('.') + 1)];
  for (const name of names) {
    if (name !== '' && Object.hasOwn(mod, name) && mod[name] != null) return mod[name];
  }
  const err = new Error(`no export ${JSON.stringify(classPath)} in the module (it exports: ${Object.keys(mod).join(', ') || 'nothing'})`);
  err.name = 'ClassNotFound';
  throw err;
}

/**
 * A class with `runJob` on its prototype becomes an instance; an object (or class) with its own
 * `runJob` stays; any other non-class function is called as `(config, context)`.
 */
function asEntry(target, classPath) {
  if (typeof target === 'function' && typeof target.prototype?.runJob === 'function') return new target();
  if (typeof target?.runJob === 'function') return target;
  if (typeof target === 'function' && !/^class\b/.test(Function.prototype.toString.call(target))) return target;
  throw new TypeError(`export ${JSON.stringify(classPath)} is neither a function nor a class or object with runJob(context, data)`);
}

/** validate's refusal: an object of `problems` (and an optional `message`) only, so job data with other fields is never taken for one. */
function isProblems(v) {
  return v !== null && typeof v === 'object' && Array.isArray(v.problems) &&
    Object.keys(v).every((k) => k === 'problems' || k === 'message');
}

function refusal(message, problems) {
  const list = problems.map((p) => (typeof p === 'string' ? p : p?.problem ?? p?.message ?? String(p)));
  const text = typeof message === 'string' && message !== '' ? message : `job validation failed: ${list.join('; ')}`;
  return { ok: false, kind: 'validation', message: text, problems: list };
}

/** Maps become objects, Sets arrays; a result JSON cannot hold (a BigInt, a cycle, a function) is an error. */
function ok(result) {
  const json = JSON.stringify(result === undefined ? null : result, (_key, value) => {
    if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), v]));
    if (value instanceof Set) return [...value];
    return value;
  });
  if (json === undefined) throw new TypeError(`the job's result (a ${typeof result}) cannot be serialised to JSON`);
  return { json: `{"ok":true,"result":${json}}` };
}

function errorOutcome(e) {
  const isError = e !== null && typeof e === 'object' && typeof e.message === 'string';
  const errorClass = isError && typeof e.name === 'string' && e.name !== '' ? e.name : 'Error';
  const message = isError ? e.message : String(e);
  const stack = isError && typeof e.stack === 'string' ? e.stack : `${errorClass}: ${message}`;
  return { ok: false, kind: 'error', message, errorClass, stack };
}

/** Written whole or not at all: a temp name, then a rename. */
function writeResult(outcome) {
  const file = path.join(workDir, 'result.json');
  const text = 'json' in outcome ? outcome.json : JSON.stringify(outcome);
  try {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    process.stderr.write(`node-runner: cannot write ${file}: ${e?.message ?? e}\n`);
    process.exit(1);
  }
}

await main();
