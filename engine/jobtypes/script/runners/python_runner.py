"""The `script` type's Python runner: `python3 python_runner.py <app.whl|.egg|.zip|.py>`, cwd = the
task's work dir. Reads `job.json`, puts the archive on sys.path (pure-Python wheels, eggs and zips
are all zip-importable) with the `sparkjobserver` shim after it, instantiates `classPath`
(`module.Class`), calls `validate` then `run_job` and writes `result.json`. Standard library only.
"""
import collections.abc
import importlib
import json
import os
import sys
import traceback

sys.dont_write_bytecode = True  # never write __pycache__ into the runners' directory or the archive's
RUNNERS_DIR = os.path.dirname(os.path.abspath(__file__))
SHIM_DIR = os.path.join(RUNNERS_DIR, 'python')
WORK_DIR = os.getcwd()  # fixed at start: a job may chdir, the result still goes here
_MISSING = object()


class JobConfig(dict):
    """The job config: a dict whose nested objects are JobConfigs too, and which also answers
    dotted paths the way pyhocon's ConfigTree does (`config.get('input.strings', default)`,
    `config['input.strings']`). A missing path gives the default (None) with `get`, as a dict does."""

    def __init__(self, data=()):
        super().__init__((k, _wrap(v)) for k, v in dict(data).items())

    def _lookup(self, path):
        if dict.__contains__(self, path):
            return True, dict.__getitem__(self, path)
        node = self
        for part in str(path).split('.'):
            if not isinstance(node, dict) or not dict.__contains__(node, part):
                return False, None
            node = dict.__getitem__(node, part)
        return True, node

    def get(self, path, default=None):
        found, value = self._lookup(path)
        return value if found else default

    def __getitem__(self, path):
        found, value = self._lookup(path)
        if not found:
            raise KeyError(path)
        return value

    def __contains__(self, path):
        return self._lookup(path)[0]

    # pyhocon's typed getters, for jobs written against ConfigTree: a missing path without a
    # default raises KeyError.
    def _typed(self, path, default, cast):
        found, value = self._lookup(path)
        if found:
            return cast(value)
        if default is _MISSING:
            raise KeyError(path)
        return default

    def get_string(self, path, default=_MISSING):
        return self._typed(path, default, str)

    def get_int(self, path, default=_MISSING):
        return self._typed(path, default, int)

    def get_float(self, path, default=_MISSING):
        return self._typed(path, default, float)

    def get_bool(self, path, default=_MISSING):
        return self._typed(path, default, _to_bool)

    def get_list(self, path, default=_MISSING):
        return self._typed(path, default, list)

    def get_config(self, path, default=_MISSING):
        return self._typed(path, default, JobConfig)




def _wrap(value):
    if isinstance(value, dict):
        return JobConfig(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _to_bool(value):
    if isinstance(value, str):
        if value.lower() in ('true', 'yes', 'on'):
            return True
        if value.lower() in ('false', 'no', 'off'):
            return False
        raise ValueError('not a boolean: %r' % (value,))
    return bool(value)


class NoSparkContext:
    """The `context` a job gets: its ids, and no SparkContext. Anything Spark-like a job reaches
    for (`context._sc`, `context.spark_session`, `context.parallelize`) raises AttributeError
    saying why."""

    def __init__(self, job_id, task_id, context_name):
        self.job_id = job_id
        self.task_id = task_id
        self.context_name = context_name

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        raise AttributeError(
            "context.%s: there is no SparkContext; jetjobs runs this job as a plain Python process "
            "(do the work in Python)" % name)


class JobFailure(Exception):
    """A refusal by validate, carried to the result."""

    def __init__(self, problems):
        super().__init__('job validation failed: ' + '; '.join(problems))
        self.problems = problems


def main(argv):
    if len(argv) < 2:
        return error_outcome(ValueError('usage: python3 python_runner.py <archive>'))
    try:
        return {'ok': True, 'result': to_json(run(os.path.abspath(argv[1])))}
    except JobFailure as refusal:
        return {'ok': False, 'kind': 'validation', 'message': str(refusal), 'problems': refusal.problems}
    except (Exception, SystemExit) as e:  # SystemExit: a job that calls sys.exit() gave no result
        return error_outcome(e)


def run(binary_path):
    with open(os.path.join(WORK_DIR, 'job.json'), encoding='utf-8') as f:
        job = json.load(f)
    # The runner's own directory must not be importable by the job: the archive, then the shim.
    sys.path[:] = [binary_path, SHIM_DIR] + [p for p in sys.path if os.path.abspath(p or '.') != RUNNERS_DIR]
    config = JobConfig(job.get('config') or {})
    context = NoSparkContext(job.get('jobId'), job.get('taskId'), job.get('context'))
    from sparkjobserver.api import JobEnvironment
    runtime = JobEnvironment(job.get('jobId'), None, JobConfig({}))
    target = load(str(job.get('classPath') or ''))
    entry = target() if isinstance(target, type) else target
    if not hasattr(entry, 'run_job'):
        if callable(entry):
            return entry(config, context)
        raise TypeError('%s has no run_job(context, runtime, data)' % job.get('classPath'))
    data = config
    if hasattr(entry, 'validate'):
        data = entry.validate(context, runtime, config)
        problems = validation_problems(data)
        if problems is not None:
            raise JobFailure(problems)
    return entry.run_job(context, runtime, data)


def load(class_path):
    """`package.module.Class`: import the module, take the attribute."""
    module_name, _, name = class_path.rpartition('.')
    if module_name == '':
        raise ModuleNotFoundError('classPath %r is not module.Class' % class_path)
    module = importlib.import_module(module_name)
    try:
        return getattr(module, name)
    except AttributeError:
        raise AttributeError('module %r has no attribute %r (classPath %s)' % (module_name, name, class_path)) from None


def validation_problems(data):
    """The messages, when `data` is a non-empty list of ValidationProblem (by shape, so one from a
    copy of the real sparkjobserver package in the archive counts too)."""
    if not isinstance(data, (list, tuple)) or not data:
        return None
    if all(type(p).__name__ == 'ValidationProblem' and hasattr(p, 'problem') for p in data):
        return [str(p.problem) for p in data]
    return None


def to_json(value, depth=0):
    """A JSON-able copy: mappings become objects with string keys, tuples/sets/other iterables
    lists; anything else raises TypeError."""
    if depth > 500:
        raise ValueError('the result is nested too deeply (or contains itself)')
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if value != value or value in (float('inf'), float('-inf')):
            raise ValueError('the result holds %r, which JSON cannot represent' % value)
        return value
    if isinstance(value, collections.abc.Mapping):
        return {json_key(k): to_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [to_json(v, depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, (list, tuple)) or (
            isinstance(value, collections.abc.Iterable) and not isinstance(value, (bytes, bytearray, memoryview))):
        return [to_json(v, depth + 1) for v in value]
    raise TypeError('the result holds a %s, which cannot be serialised to JSON' % type(value).__name__)


def json_key(key):
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return str(key)


def error_outcome(e):
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next  # the runner's own frames say nothing about the job
    stack = ''.join(traceback.format_exception(type(e), e, tb or e.__traceback__))
    return {'ok': False, 'kind': 'error', 'message': str(e), 'errorClass': type(e).__name__, 'stack': stack}


def write_result(outcome):
    path = os.path.join(WORK_DIR, 'result.json')
    try:
        text = json.dumps(outcome, allow_nan=False, separators=(',', ':'))
    except (TypeError, ValueError) as e:
        text = json.dumps(error_outcome(e), separators=(',', ':'))
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(path + '.tmp', path)


if __name__ == '__main__':
    outcome = main(sys.argv)
    try:
        write_result(outcome)
    except OSError as e:
        print('python_runner: cannot write result.json: %s' % e, file=sys.stderr)
        sys.exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    # The job is over when it returned: threads it left running must not hold the task.
    os._exit(0)
