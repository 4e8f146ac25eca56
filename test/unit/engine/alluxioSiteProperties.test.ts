import { untilTerminal, withMemoryEngine } from '../../helpers/memoryEngine.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALLUXIO_KEYS,
  parseAlluxioDuration,
  parseAlluxioSiteProperties,
  parseAlluxioSize,
  readAlluxioSiteProperties,
  resolveStartupConfig,
  type AlluxioSite,
} from '../../../engine/alluxioSiteProperties.ts';
import { ConfigError, DEFAULTS, parseFlags, readEnv } from '../../../engine/config.ts';
import { SYSTEM_CALLER } from '../../../engine/serviceTypes.ts';

const MIB = 1024 * 1024;
const parse = (text: string) => parseAlluxioSiteProperties(text, 'alluxio-site.properties');
const configError = (pattern: RegExp) => (e: unknown) => e instanceof ConfigError && pattern.test(e.message);

/** Seed 004's table, "Configuration and Tuning", with its defaults. */
const SEED_004 = `
alluxio.coordinator.failure.detection.timeout=15s
alluxio.coordinator.scheduler.etcd.max.retries=2
alluxio.coordinator.scheduler.etcd.read.timeout=10s
alluxio.coordinator.scheduler.etcd.write.timeout=15s
alluxio.coordinator.scheduler.interval.time=2s
alluxio.coordinator.scheduler.job.etcd.path=/alluxio/jobs/
alluxio.coordinator.scheduler.job.etcd.poll.interval=1s
alluxio.coordinator.scheduler.max.tasks.per.worker=3
alluxio.coordinator.scheduler.running.job.capacity=100
alluxio.coordinator.scheduler.waiting.job.capacity=300000
alluxio.job.batch.size=200
alluxio.job.cleanup.interval=1H
alluxio.job.retention.time=7d
alluxio.worker.job.load.executor.threads.max=2048
alluxio.worker.load.file.partition.size=256MiB
alluxio.coordinator.job.meta.store.type=ETCD
alluxio.etcd.endpoints=http://etcd-0:2379,http://etcd-1:2379
`;

describe('Alluxio durations and sizes (FormatUtils)', () => {
  it('reads durations in every unit, case-insensitive; a bare number is ms', () => {
    const cases: [string, number][] = [
      ['500', 500], ['500ms', 500], ['500MS', 500], ['7millisecond', 7],
      ['15s', 15_000], ['15sec', 15_000], ['15Second', 15_000],
      ['1m', 60_000], ['1min', 60_000], ['2minute', 120_000],
      ['1H', 3600_000], ['1hr', 3600_000], ['3hour', 3 * 3600_000],
      ['7d', 7 * 86_400_000], ['1DAY', 86_400_000], ['0', 0],
    ];
    for (const [raw, ms] of cases) assert.equal(parseAlluxioDuration(raw), ms, raw);
  });

  it('refuses what Alluxio refuses, and negatives (our settings take none)', () => {
    for (const raw of ['', 's', '1.5s', '15 s', '15seconds', '1w', '-1', '10x', 'abc', '1e3']) {
      assert.throws(() => parseAlluxioDuration(raw), ConfigError, raw);
    }
  });

  it('reads sizes with 1024-based units, case-insensitive, decimals allowed; a bare number is bytes', () => {
    const cases: [string, number][] = [
      ['1024', 1024], ['100b', 100], ['100B', 100],
      ['1k', 1024], ['1KB', 1024], ['1Ki', 1024], ['1kib', 1024],
      ['256MiB', 256 * MIB], ['64MB', 64 * MIB], ['64m', 64 * MIB], ['64mi', 64 * MIB],
      ['1GB', 1024 * MIB], ['1.5g', 1536 * MIB], ['2GiB', 2048 * MIB],
      ['1TB', 1024 * 1024 * MIB], ['1p', 1024 ** 5], ['.5k', 512],
    ];
    for (const [raw, bytes] of cases) assert.equal(parseAlluxioSize(raw), bytes, raw);
  });

  it('refuses a malformed size', () => {
    for (const raw of ['', 'MB', '1 MB', '1XB', '1EB', '-1MB', '1.2.3MB', '1e100']) {
      assert.throws(() => parseAlluxioSize(raw), ConfigError, raw);
    }
  });
});

describe('alluxio-site.properties', () => {
  it("maps every key of seed 004's table with its default: to our settings, or accepted and ignored", () => {
    const site = parse(SEED_004);
    assert.deepEqual(site.config, {
      failureDetectionTimeoutMs: 15_000,
      maxTasksPerWorker: 3,
      runningJobCapacity: 100,
      waitingJobCapacity: 300_000,
      defaultBatchSize: 200,
      retentionIntervalMs: 3600_000,
      retentionMaxAgeMs: 7 * 86_400_000,
      workerConcurrency: 2048,
      defaultPartitionSizeBytes: 256 * MIB,
    });
    assert.deepEqual(
      site.ignored.map((k) => [k.key, k.reason]),
      [
        ['alluxio.coordinator.scheduler.etcd.max.retries', 'etcd'],
        ['alluxio.coordinator.scheduler.etcd.read.timeout', 'etcd'],
        ['alluxio.coordinator.scheduler.etcd.write.timeout', 'etcd'],
        ['alluxio.coordinator.scheduler.interval.time', 'event-driven'],
        ['alluxio.coordinator.scheduler.job.etcd.path', 'etcd'],
        ['alluxio.coordinator.scheduler.job.etcd.poll.interval', 'event-driven'],
        ['alluxio.coordinator.job.meta.store.type', 'etcd'],
        ['alluxio.etcd.endpoints', 'etcd'],
      ],
    );
    assert.equal(site.ignored[0]!.line, 3, 'line numbers of the file');
    const keysInSeed = [...SEED_004.matchAll(/^(alluxio\.[^=]+)=/gm)].map((m) => m[1]!).sort();
    assert.deepEqual(keysInSeed, Object.keys(ALLUXIO_KEYS).sort(), 'the table knows exactly the keys of seed 004 (and the etcd ones)');
  });

  it('reads Java .properties syntax: separators, comments, blank lines, continuations, \\uXXXX, whitespace', () => {
    const text = [
      '# a comment',
      '! another comment',
      '',
      '   ',
      'alluxio.job.batch.size = 50   ',
      'alluxio.coordinator.scheduler.running.job.capacity: 7',
      'alluxio.coordinator.scheduler.waiting.job.capacity 1000',
      '\talluxio.job.retention.time\t=\t2d\t',
      'alluxio.job.cleanup.interval=\\',
      '    30min',
      'alluxio.worker.job.load.\\',
      '  executor.threads.max=\\u0031\\u0036',
      'alluxio.coordinator.scheduler.max.tasks.per.worker=1',
      'alluxio.coordinator.scheduler.max.tasks.per.worker=9',
    ].join('\r\n');
    assert.deepEqual(parse(text), {
      config: {
        defaultBatchSize: 50,
        runningJobCapacity: 7,
        waitingJobCapacity: 1000,
        retentionMaxAgeMs: 2 * 86_400_000,
        retentionIntervalMs: 30 * 60_000,
        workerConcurrency: 16,
        maxTasksPerWorker: 9, // the last of a duplicate key wins, as in Java
      },
      ignored: [],
    });
  });

  it('an empty file (or only comments) sets nothing', () => {
    assert.deepEqual(parse(''), { config: {}, ignored: [] });
    assert.deepEqual(parse('# nothing here\n\n'), { config: {}, ignored: [] });
  });

  it('names the file and line of an unknown key, alluxio.* or not (a typo is never ignored)', () => {
    assert.throws(() => parse('# c\n\nalluxio.job.batch.sise=10\n'), configError(/^alluxio-site\.properties:3: "alluxio\.job\.batch\.sise" is an Alluxio key/));
    assert.throws(() => parse('alluxio.job.batch.size=10\nport=8080\n'), configError(/^alluxio-site\.properties:2: "port" is not an alluxio\.\* key/));
    assert.throws(() => parse('alluxioSiteProperties=x\n'), configError(/:1: /));
  });

  it('names the file and line of a malformed value, on the first line of a continued one', () => {
    assert.throws(() => parse('\nalluxio.job.retention.time=7 days\n'), configError(/^alluxio-site\.properties:2: alluxio\.job\.retention\.time: "7 days" is not a duration/));
    assert.throws(() => parse('alluxio.job.cleanup.interval=\\\n  1week\n'), configError(/^alluxio-site\.properties:1: /));
    assert.throws(() => parse('alluxio.job.batch.size=2.5\n'), configError(/:1: alluxio\.job\.batch\.size: "2\.5" is not a non-negative integer/));
    assert.throws(() => parse('alluxio.worker.load.file.partition.size=big\n'), configError(/:1: .*not a size/));
    assert.throws(() => parse('alluxio.coordinator.failure.detection.timeout=\n'), configError(/:1: .*not a duration/));
    // ignored keys are checked too: a malformed value is still a mistake
    assert.throws(() => parse('alluxio.coordinator.scheduler.interval.time=2 seconds\n'), configError(/:1: alluxio\.coordinator\.scheduler\.interval\.time: /));
  });

  it('names the line of a malformed \\u escape', () => {
    assert.throws(() => parse('# ok\nalluxio.etcd.endpoints=\\u12G4\n'), configError(/^alluxio-site\.properties:2: .*malformed/));
  });

  it("holds values to our settings' own checks, naming the line", () => {
    assert.throws(() => parse('alluxio.coordinator.scheduler.max.tasks.per.worker=0\n'), configError(/:1: .*maxTasksPerWorker must be >= 1/));
    assert.throws(() => parse('alluxio.job.batch.size=10001\n'), configError(/:1: .*defaultBatchSize must be <= 10000/));
    assert.throws(() => parse('alluxio.worker.load.file.partition.size=512KB\n'), configError(/:1: .*defaultPartitionSizeBytes must be between/));
    assert.throws(() => parse('alluxio.job.cleanup.interval=0\n'), configError(/:1: .*retentionIntervalMs must be >= 1/));
    assert.deepEqual(parse('alluxio.job.retention.time=0\n').config, { retentionMaxAgeMs: 0 }, '0: never by age, as our setting');
  });

  it('reads a file, and says which file it could not read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-site-'));
    try {
      const file = join(dir, 'alluxio-site.properties');
      await writeFile(file, 'alluxio.job.batch.size=7\n');
      assert.deepEqual(readAlluxioSiteProperties(file), { config: { defaultBatchSize: 7 }, ignored: [] });
      assert.throws(() => readAlluxioSiteProperties(join(dir, 'missing.properties')), configError(/cannot read .*missing\.properties: ENOENT/));
      await writeFile(file, 'alluxio.job.batch.size=x\n');
      assert.throws(() => readAlluxioSiteProperties(file), configError(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: `)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('startup configuration: defaults < alluxio-site.properties < environment < flags', () => {
  const site = (config: AlluxioSite['config']): ((file: string) => AlluxioSite) => (file) => {
    assert.equal(file, '/etc/alluxio/alluxio-site.properties');
    return { config, ignored: [] };
  };
  const FILE = '/etc/alluxio/alluxio-site.properties';

  it('without the setting reads no file and is resolveConfig(env, flags)', () => {
    const { config, site: s } = resolveStartupConfig({ stateDir: '/s', port: 1 }, { port: 2 }, () => assert.fail('no file to read'));
    assert.equal(s, undefined);
    assert.equal(config.port, 2, 'flags over env');
    assert.equal(config.failureDetectionTimeoutMs, DEFAULTS.failureDetectionTimeoutMs);
  });

  it('the file wins over defaults; env and flags win over the file; flags over env', () => {
    const file = { failureDetectionTimeoutMs: 15_000, maxTasksPerWorker: 3, runningJobCapacity: 10, waitingJobCapacity: 20 };
    const env = readEnv({ JETJOBS_ALLUXIO_SITE_PROPERTIES: FILE, JETJOBS_STATE_DIR: '/s', JETJOBS_MAX_TASKS_PER_WORKER: '5', JETJOBS_RUNNING_JOB_CAPACITY: '6' });
    const flags = parseFlags(['--running-job-capacity', '7']);
    const { config, site: s } = resolveStartupConfig(env, flags, site(file));
    assert.equal(config.failureDetectionTimeoutMs, 15_000, 'file over default');
    assert.equal(config.waitingJobCapacity, 20, 'file over default');
    assert.equal(config.maxTasksPerWorker, 5, 'env over file');
    assert.equal(config.runningJobCapacity, 7, 'flag over env and file');
    assert.equal(config.retentionMaxAgeMs, DEFAULTS.retentionMaxAgeMs, 'untouched: default');
    assert.deepEqual(s, { file: FILE, ignored: [] });
  });

  it('the flag names the file over the variable', () => {
    const env = readEnv({ JETJOBS_ALLUXIO_SITE_PROPERTIES: '/elsewhere', JETJOBS_STATE_DIR: '/s' });
    const flags = parseFlags([`--alluxio-site-properties=${FILE}`]);
    assert.equal(resolveStartupConfig(env, flags, site({ defaultBatchSize: 9 })).config.defaultBatchSize, 9);
  });

  it('relations between settings are checked on the merged layers', () => {
    // the file's 500 ms timeout is fine with env's 100 ms heartbeat, not with the default 1 s one
    const file = site({ failureDetectionTimeoutMs: 500 });
    assert.equal(resolveStartupConfig({ alluxioSiteProperties: FILE, heartbeatMs: 100 }, {}, file).config.failureDetectionTimeoutMs, 500);
    assert.throws(() => resolveStartupConfig({ alluxioSiteProperties: FILE }, {}, file), configError(/failureDetectionTimeoutMs must exceed heartbeatMs/));
  });

  it('as npm start does: a real file named by the environment sets the settings and lists what it ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-site-'));
    try {
      const file = join(dir, 'alluxio-site.properties');
      await writeFile(file, SEED_004);
      const { config, site: s } = resolveStartupConfig(readEnv({ JETJOBS_ALLUXIO_SITE_PROPERTIES: file, JETJOBS_STATE_DIR: dir }), parseFlags(['--worker-concurrency', '32']));
      assert.equal(config.alluxioSiteProperties, file);
      assert.equal(config.failureDetectionTimeoutMs, 15_000);
      assert.equal(config.maxTasksPerWorker, 3);
      assert.equal(config.retentionIntervalMs, 3600_000);
      assert.equal(config.defaultPartitionSizeBytes, 256 * MIB);
      assert.equal(config.workerConcurrency, 32, 'the flag wins over the file');
      assert.equal(s?.ignored.length, 8);
      assert.ok(Object.isFrozen(config));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('alluxio.job.batch.size through a coordinator', () => {
  it('plans a load without batchSize in batches of the configured defaultBatchSize', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jetjobs-site-'));
    const file = join(dir, 'alluxio-site.properties');
    await writeFile(file, 'alluxio.job.batch.size=2\n');
    const { config } = resolveStartupConfig(
      readEnv({ JETJOBS_ALLUXIO_SITE_PROPERTIES: file, JETJOBS_STATE_DIR: dir }),
      { heartbeatMs: 50, failureDetectionTimeoutMs: 500, retryBackoffMs: 10, drainTimeoutMs: 500 },
    );
    await mkdir(join(config.filesDir, 'ds'), { recursive: true });
    await mkdir(config.cacheDir, { recursive: true });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await writeFile(join(config.filesDir, 'ds', name), name);
    try {
      await withMemoryEngine({}, async ({ core }) => {
        const { job } = await core.service.submit({ type: 'load', spec: { path: 'ds' } }, { caller: SYSTEM_CALLER });
        const done = await untilTerminal(core, job.id);
        assert.equal(done.state, 'SUCCEEDED');
        assert.equal(done.progress.tasksSucceeded, 3, '5 files in batches of 2');
      }, { config });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/compat/alluxio.md, Configuration', () => {
  it('lists every key this service accepts, with what it maps to', async () => {
    const doc = await readFile(new URL('../../../docs/compat/alluxio.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Configuration'), doc.indexOf('\n## ', doc.indexOf('## Configuration') + 1));
    const rows = new Map([...section.matchAll(/^\| `(alluxio\.[^`]+)` \|[^|]*\|([^|]+)\|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
    for (const [key, entry] of Object.entries(ALLUXIO_KEYS)) {
      const row = rows.get(key);
      assert.ok(row !== undefined, `${key} is documented`);
      assert.equal(row, 'setting' in entry ? `\`${entry.setting}\`` : entry.ignored === 'etcd' ? 'ignored: not applicable' : 'ignored: no equivalent', key);
    }
  });
});
