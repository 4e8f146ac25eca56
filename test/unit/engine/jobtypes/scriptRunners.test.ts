/**
 * The `script` type's runners, each run for real through runSandboxed at the limits the type uses:
 * the examples' word count in every runtime (the Python one as a wheel and an egg built by the
 * example's build script, the Java one as a jar built by its script), then refusals, thrown
 * errors, unknown class paths and results JSON cannot hold.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AppError } from '../../../../engine/errors.ts';
import {
  JAVA_MIN_MEMORY_BYTES,
  JAVA_RUNNER_PATH,
  javaArgsForMemory,
  runnerCommand,
  type ScriptRuntime,
} from '../../../../engine/jobtypes/script/runners/index.ts';
import { createWorkDir, NODE_MIN_MEMORY_LIMIT_BYTES, runSandboxed, SANDBOX_PATH, type SandboxOutcome } from '../../../../engine/sandbox/index.ts';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const EXAMPLES = path.join(REPO, 'examples/spark');
/** The limits the runs get: Node's and Java's minimums (so those are shown to be enough), 64 MiB for Python. */
const MEMORY: Record<ScriptRuntime, number> = { node: NODE_MIN_MEMORY_LIMIT_BYTES, python: 64 * MIB, java: JAVA_MIN_MEMORY_BYTES };
const TIME_LIMIT_MS = 60_000;
const WORDS = { input: { string: 'a b c a b see' } };
const COUNTS_JSON = '{"a":2,"b":2,"c":1,"see":1}';

/** The file a bare command resolves to in the sandbox's PATH, or undefined. */
function inSandboxPath(command: string): string | undefined {
  for (const dir of SANDBOX_PATH.split(':')) {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return path.join(dir, command);
    } catch {
      // not in this dir
    }
  }
  return undefined;
}
const PYTHON = inSandboxPath('python3');
const JAVA = inSandboxPath('java');
const JAVAC = inSandboxPath('javac');
const SKIP_PYTHON = PYTHON === undefined ? `no python3 in the sandbox's PATH (${SANDBOX_PATH})` : false;
const SKIP_JAVA = JAVA === undefined ? `no java in the sandbox's PATH (${SANDBOX_PATH})`
  : JAVAC === undefined ? 'no javac: the example jar cannot be built (install a JDK)' : false;

interface RunnerResult {
  /** result.json as written. */
  text: string;
  result: { ok: boolean; result?: unknown; kind?: string; message?: string; problems?: string[]; errorClass?: string; stack?: string };
  outcome: SandboxOutcome;
}

describe('script runners', () => {
  let root: string;
  let n = 0;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'jetjobs-runners-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Runs `classPath` of `binary` (copied to W/app/app<ext>) with `config`, the way the script type does. */
  async function runJob(
    runtime: ScriptRuntime,
    binary: string,
    classPath: string,
    config: unknown,
    more: { javaClassDir?: string } = {},
  ): Promise<RunnerResult> {
    const dir = await createWorkDir(root, `${runtime}-${++n}`);
    await mkdir(path.join(dir, 'app'));
    const binaryPath = path.join(dir, 'app', `app${path.extname(binary)}`);
    await copyFile(binary, binaryPath);
    await writeFile(path.join(dir, 'job.json'), JSON.stringify({ classPath, config, jobId: 'job-1', taskId: 'task-1', context: null }));
    const { command, args } = runnerCommand(runtime, {
      binaryPath,
      memoryLimitBytes: MEMORY[runtime],
      nodePath: process.execPath,
      pythonPath: PYTHON ?? 'python3',
      javaPath: JAVA ?? 'java',
      ...more,
    });
    const outcome = await runSandboxed({
      command,
      args,
      workDir: dir,
      timeLimitMs: TIME_LIMIT_MS,
      memoryLimitBytes: MEMORY[runtime],
      outputLimitBytes: 64 * 1024,
      signal: new AbortController().signal,
    });
    assert.deepEqual([outcome.reason, outcome.exitCode], ['exited', 0], `runner failed: ${outcome.spawnError ?? ''}${outcome.stderr.tail}`);
    const text = await readFile(path.join(dir, 'result.json'), 'utf8');
    return { text, result: JSON.parse(text) as RunnerResult['result'], outcome };
  }

  function assertError(r: RunnerResult, errorClass: string, message: RegExp, stack: RegExp): void {
    assert.equal(r.result.ok, false);
    assert.equal(r.result.kind, 'error');
    assert.equal(r.result.errorClass, errorClass);
    assert.match(r.result.message ?? '', message);
    assert.match(r.result.stack ?? '', stack);
  }

  describe('node', () => {
    const wordCount = path.join(EXAMPLES, 'word-count.mjs');
    let fixtures: string;
    before(async () => {
      fixtures = path.join(root, 'jobs.mjs');
      await writeFile(fixtures, [
        "export class Failing { runJob() { throw new RangeError('deliberate failure'); } }",
        "export const Refusing = { validate() { const e = new Error('bad config'); e.name = 'ValidationError'; e.problems = ['no x', 'no y']; throw e; }, runJob() { return 1; } };",
        'export function plain(config, context) { return { config, context }; }',
        'export class Counter { validate(_c, config) { return config.n; } runJob(_c, n) { return n + 1; } }',
        'export class Static { static runJob(_c, config) { return config.n; } }',
        'export class NoRunJob { run() {} }',
        'export const Async = { async validate(_c, config) { return config.n * 2; }, async runJob(_c, n) { return new Map([[1, new Set([n, n])]]); } };',
        'export const BigResult = () => 10n;',
        'export const Cyclic = { runJob() { const a = {}; a.self = a; return a; } };',
        "export const Chatty = () => { console.log('to stdout'); console.error('to stderr'); setInterval(() => {}, 1000); return null; };",
      ].join('\n'));
    });

    it('counts the words with the WordCountExample export, by its name and by a Spark class path', async () => {
      for (const classPath of ['WordCountExample', 'spark.jobserver.WordCountExample']) {
        const r = await runJob('node', wordCount, classPath, WORDS);
        assert.equal(r.text, `{"ok":true,"result":${COUNTS_JSON}}`);
      }
    });

    it('reports validate\'s refusal, returned as {problems} or thrown as a ValidationError', async () => {
      const returned = await runJob('node', wordCount, 'WordCountExample', { input: {} });
      assert.deepEqual(returned.result, {
        ok: false, kind: 'validation', message: 'job validation failed: No input.string param', problems: ['No input.string param'],
      });
      const thrown = await runJob('node', fixtures, 'Refusing', {});
      assert.deepEqual(thrown.result, { ok: false, kind: 'validation', message: 'bad config', problems: ['no x', 'no y'] });
    });

    it('reports a thrown error with its class and stack, and an unknown export as ClassNotFound', async () => {
      assertError(await runJob('node', fixtures, 'Failing', {}), 'RangeError', /^deliberate failure$/, /RangeError: deliberate failure\n\s+at Failing\.runJob \(.*app\.mjs/);
      assertError(await runJob('node', fixtures, 'com.example.Missing', {}), 'ClassNotFound', /"com\.example\.Missing".*exports: Async, BigResult, Chatty, Counter/, /ClassNotFound/);
    });

    it('calls a plain function with (config, context), a class (instance or static runJob), awaits promises, and writes Maps and Sets as objects and arrays', async () => {
      const plain = await runJob('node', fixtures, 'plain', { x: 1 });
      assert.deepEqual(plain.result, {
        ok: true,
        result: { config: { x: 1 }, context: { jobId: 'job-1', taskId: 'task-1', contextName: null, config: { x: 1 } } },
      });
      assert.equal((await runJob('node', fixtures, 'Async', { n: 21 })).text, '{"ok":true,"result":{"1":[42]}}');
      assert.equal((await runJob('node', fixtures, 'Counter', { n: 1 })).text, '{"ok":true,"result":2}');
      assert.equal((await runJob('node', fixtures, 'Static', { n: 1 })).text, '{"ok":true,"result":1}');
      assertError(await runJob('node', fixtures, 'NoRunJob', {}), 'TypeError', /"NoRunJob" is neither/, /TypeError/);
    });

    it('reports a result JSON cannot hold as an error', async () => {
      assertError(await runJob('node', fixtures, 'BigResult', {}), 'TypeError', /BigInt/, /TypeError/);
      assertError(await runJob('node', fixtures, 'Cyclic', {}), 'TypeError', /circular/, /TypeError/);
    });

    it('leaves the job\'s output alone and exits once the job returned, whatever it left running', async () => {
      const r = await runJob('node', fixtures, 'Chatty', {});
      assert.equal(r.text, '{"ok":true,"result":null}');
      assert.equal(r.outcome.stdout.tail, 'to stdout\n');
      assert.equal(r.outcome.stderr.tail, 'to stderr\n');
    });
  });

  describe('python', { skip: SKIP_PYTHON }, () => {
    let wheel: string;
    let egg: string;
    let fixtures: string;
    before(async () => {
      wheel = path.join(root, 'dist', 'jetjobs_spark_examples-0.1.0-py3-none-any.whl');
      egg = path.join(root, 'dist', 'jetjobs_spark_examples-0.1.0-py3.11.egg');
      await run(PYTHON ?? 'python3', [path.join(EXAMPLES, 'build-python-wheel.py'), wheel, '--egg', egg]);
      const src = path.join(root, 'pysrc');
      await mkdir(path.join(src, 'testjobs'), { recursive: true });
      await writeFile(path.join(src, 'testjobs', '__init__.py'), [
        'from collections import Counter',
        'from sparkjobserver.api import SparkJob',
        'class NotJson(SparkJob):',
        '    def run_job(self, context, runtime, data):',
        '        return {"x": object()}',
        'class UsesSpark(SparkJob):',
        '    def run_job(self, context, runtime, data):',
        '        return context._sc.parallelize([1])',
        'class Shapes(SparkJob):',
        '    def validate(self, context, runtime, config):',
        '        return {"deep": config.get("a.b.c"), "missing": config.get("a.nope", "dflt"), "item": config["a.b"]["c"],',
        '                "int": config.get_int("n"), "job": runtime.jobId, "task": context.task_id}',
        '    def run_job(self, context, runtime, data):',
        '        return dict(data, counter=Counter("abca"), tuple=(1, 2), set={3, 1, 2}, keys={1: "one", None: "none"})',
        'def plain(config, context):',
        '    return [config.get("a.b.c"), context.job_id]',
        'class Exits(SparkJob):',
        '    def run_job(self, context, runtime, data):',
        '        import sys; sys.exit(3)',
      ].join('\n') + '\n');
      fixtures = path.join(root, 'dist', 'testjobs.zip');
      await run(PYTHON ?? 'python3', [path.join(EXAMPLES, 'build-python-wheel.py'), fixtures, '--src', src]);
    });

    it('counts the words with WordCountSparkJob from a wheel and from an egg, given input.string or input.strings', async () => {
      for (const binary of [wheel, egg]) {
        const r = await runJob('python', binary, 'word_count.WordCountSparkJob', WORDS);
        assert.equal(r.text, `{"ok":true,"result":${COUNTS_JSON}}`);
      }
      const listed = await runJob('python', wheel, 'word_count.WordCountSparkJob', { input: { strings: ['a', 'b', 'a'] } });
      assert.equal(listed.text, '{"ok":true,"result":{"a":2,"b":1}}');
    });

    it('reports validate\'s build_problems as a refusal', async () => {
      const r = await runJob('python', wheel, 'word_count.WordCountSparkJob', {});
      assert.deepEqual(r.result, {
        ok: false, kind: 'validation', message: 'job validation failed: config input.strings not found', problems: ['config input.strings not found'],
      });
    });

    it('reports a thrown exception with its class and traceback, and a missing module or class', async () => {
      assertError(
        await runJob('python', wheel, 'word_count.FailingSparkJob', WORDS),
        'ValueError', /^Deliberate failure$/, /app\.whl\/word_count\/__init__\.py", line \d+, in run_job\n[\s\S]*\nValueError: Deliberate failure/,
      );
      assertError(await runJob('python', wheel, 'nowhere.Job', WORDS), 'ModuleNotFoundError', /nowhere/, /ModuleNotFoundError/);
      assertError(await runJob('python', wheel, 'word_count.Nope', WORDS), 'AttributeError', /has no attribute 'Nope'/, /AttributeError/);
    });

    it('reports a result JSON cannot hold, a SparkContext reached for, and sys.exit as errors', async () => {
      assertError(await runJob('python', fixtures, 'testjobs.NotJson', {}), 'TypeError', /object.*cannot be serialised/, /TypeError/);
      assertError(await runJob('python', fixtures, 'testjobs.UsesSpark', {}), 'AttributeError', /context\._sc: there is no SparkContext/, /context\._sc/);
      assertError(await runJob('python', fixtures, 'testjobs.Exits', {}), 'SystemExit', /^3$/, /sys\.exit\(3\)/);
    });

    it('answers dotted config paths and converts Counters, tuples, sets and non-string keys', async () => {
      const r = await runJob('python', fixtures, 'testjobs.Shapes', { a: { b: { c: 'deep' } }, n: '7' });
      assert.equal(r.text, '{"ok":true,"result":{"deep":"deep","missing":"dflt","item":"deep","int":7,"job":"job-1","task":"task-1",' +
        '"counter":{"a":2,"b":1,"c":1},"tuple":[1,2],"set":[1,2,3],"keys":{"1":"one","null":"none"}}}');
      assert.equal((await runJob('python', fixtures, 'testjobs.plain', { a: { b: { c: 5 } } })).text, '{"ok":true,"result":[5,"job-1"]}');
    });
  });

  describe('java', { skip: SKIP_JAVA }, () => {
    let jar: string;
    let fixtures: string;
    before(async () => {
      jar = path.join(root, 'dist', 'wc.jar');
      await run('bash', [path.join(EXAMPLES, 'build-java-example.sh'), jar]);
      const src = path.join(root, 'javasrc', 'com', 'example');
      await mkdir(src, { recursive: true });
      await writeFile(path.join(src, 'Jobs.java'), `package com.example;
import java.util.*;
public class Jobs {
  public static class Failing { public Object runJob(Map<String, Object> c) { throw new IllegalStateException("deliberate failure"); } }
  public static class NotJson { public static Object runJob(Map<String, Object> c) { return List.of(1.0, Double.NaN); } }
  public static class Shapes {
    public static Object runJob(Map<String, Object> c) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("config", c);
      out.put("ints", new int[] {1, 2});
      out.put("other", new StringBuilder("as text"));
      out.put("nothing", null);
      out.put("escaped", "q\\"\\u00e9\\n");
      return out;
    }
  }
  public static class ProblemValidationError extends RuntimeException {
    public ProblemValidationError() { super("two problems"); }
    public List<String> getProblems() { return List.of("no x", "no y"); }
  }
  public static class Refusing {
    public void validate(Map<String, Object> c) { throw new ProblemValidationError(); }
    public Object runJob(Map<String, Object> c) { return 1; }
  }
}
`);
      fixtures = path.join(root, 'dist', 'fixtures.jar');
      await run('bash', [path.join(EXAMPLES, 'build-java-example.sh'), fixtures, path.join(root, 'javasrc')]);
    });

    it('counts the words with WordCountExample from the example jar', async () => {
      const r = await runJob('java', jar, 'WordCountExample', WORDS);
      assert.equal(r.text, `{"ok":true,"result":${COUNTS_JSON}}`);
    });

    it('reports a validate that throws a *Validation* exception as a refusal, with its getProblems()', async () => {
      const r = await runJob('java', jar, 'WordCountExample', {});
      assert.deepEqual(r.result, { ok: false, kind: 'validation', message: 'No input.string param', problems: ['No input.string param'] });
      const listed = await runJob('java', fixtures, 'com.example.Jobs$Refusing', {});
      assert.deepEqual(listed.result, { ok: false, kind: 'validation', message: 'two problems', problems: ['no x', 'no y'] });
    });

    it('reports a thrown exception, an unknown class and a result JSON cannot hold as errors', async () => {
      assertError(
        await runJob('java', fixtures, 'com.example.Jobs$Failing', {}),
        'java.lang.IllegalStateException', /^deliberate failure$/, /IllegalStateException: deliberate failure\n\tat com\.example\.Jobs\$Failing\.runJob/,
      );
      assertError(await runJob('java', fixtures, 'com.example.Missing', {}), 'java.lang.ClassNotFoundException', /com\.example\.Missing/, /ClassNotFoundException/);
      assertError(await runJob('java', fixtures, 'com.example.Jobs$NotJson', {}), 'java.lang.IllegalArgumentException', /NaN/, /IllegalArgumentException/);
    });

    it('reads the config as maps, lists, longs, doubles and booleans, and writes arrays, null and anything else as text', async () => {
      const config = { s: 'x', n: 3, f: 1.5, b: true, z: null, l: [1, 'two'], big: 2 ** 63 };
      const r = await runJob('java', fixtures, 'com.example.Jobs$Shapes', config);
      assert.equal(r.text, '{"ok":true,"result":{"config":{"s":"x","n":3,"f":1.5,"b":true,"z":null,"l":[1,"two"],"big":9.223372036854776E18},' +
        '"ints":[1,2],"other":"as text","nothing":null,"escaped":"q\\"\\u00e9\\n"}}');
    });

    it('runs a precompiled runner from javaClassDir as well', async () => {
      const classes = path.join(root, 'runner-classes');
      await run(JAVAC ?? 'javac', ['-d', classes, JAVA_RUNNER_PATH]);
      const r = await runJob('java', jar, 'WordCountExample', WORDS, { javaClassDir: classes });
      assert.equal(r.text, `{"ok":true,"result":${COUNTS_JSON}}`);
    });
  });

  it('sizes the JVM from the limit and refuses one it cannot start under', () => {
    assert.deepEqual(javaArgsForMemory(JAVA_MIN_MEMORY_BYTES).at(-1), '-Xmx48m');
    assert.deepEqual(javaArgsForMemory(1024 * MIB).at(-1), '-Xmx432m');
    assert.throws(() => javaArgsForMemory(JAVA_MIN_MEMORY_BYTES - 1), (e) => e instanceof AppError && e.code === 'INVALID_SPEC');
    const cmd = runnerCommand('java', { binaryPath: 'app/app.jar', memoryLimitBytes: JAVA_MIN_MEMORY_BYTES, nodePath: 'node', pythonPath: 'python3', javaPath: '/usr/bin/java' });
    assert.equal(cmd.command, 'env');
    assert.deepEqual(cmd.args.slice(0, 2), ['MALLOC_ARENA_MAX=2', '/usr/bin/java']);
    assert.deepEqual(cmd.args.slice(-4, -2), ['-cp', 'app/app.jar']);
  });
});
