"""The job API of spark-jobserver's Python support, with the same names, for jobs that jetjobs
runs as a plain Python process (python_runner.py).

A job subclasses `SparkJob`: `validate` turns the config into the data `run_job` works on, or
refuses it with a list of `ValidationProblem` (`build_problems`). The `context` both receive has no
SparkContext here: jetjobs does not start Spark, so a job must do its work in plain Python.
"""


class JobEnvironment:
    """What a job learns about its run: its id, named objects (None: not supported) and the
    context's config."""

    def __init__(self, job_id, named_objects, context_config):
        self.jobId = job_id
        self.namedObjects = named_objects
        self.contextConfig = context_config


class ValidationProblem:
    """One reason `validate` refuses a config."""

    def __init__(self, problem):
        self.problem = problem

    def __repr__(self):
        return 'ValidationProblem(%r)' % (self.problem,)


def build_problems(problems):
    """Wraps each message in a ValidationProblem. Return the list from `validate`: a list of
    ValidationProblem is what tells a refusal apart from job data that happens to be a list."""
    return [ValidationProblem(p) for p in problems]


class SparkJob:
    """Base class of a job. jetjobs instantiates it with no arguments, calls `validate` and then
    `run_job` with what `validate` returned."""

    def __init__(self):
        pass

    def validate(self, context, runtime, config):
        """Returns the data for `run_job`, or `build_problems([...])` to refuse the request.
        `config` is the job's config (a dict that also answers dotted paths:
        `config.get('input.strings')`). Unlike spark-jobserver's base class, which raises
        NotImplementedError, the default passes the config through as the data."""
        return config

    def run_job(self, context, runtime, data):
        """Does the work and returns the result (JSON-like: dict, list, tuple, set, str,
        number, bool, None)."""
        raise NotImplementedError('a SparkJob must override run_job')

    def build_context(self, gateway, jvmContext, sparkConf):
        """Spark Jobserver's hook for custom context types; never called by jetjobs."""
        return None


class NamedObject:
    """Kept for imports only: named objects need a long-lived SparkContext, which jetjobs has not."""

    def __init__(self, obj, forceComputation, storage_level):
        self.obj = obj
        self.forceComputation = forceComputation
        self.storage_level = storage_level


class NamedObjects:
    """Kept for imports only (not supported in spark-jobserver's Python API either)."""

    def get(self, name):
        raise NotImplementedError('named objects are not supported')

    def get_or_else_create(self, name, obj_gen):
        raise NotImplementedError('named objects are not supported')

    def update(self, name, obj_gen):
        raise NotImplementedError('named objects are not supported')

    def forget(self, name):
        raise NotImplementedError('named objects are not supported')

    def destroy(self, name):
        raise NotImplementedError('named objects are not supported')

    def get_names(self):
        raise NotImplementedError('named objects are not supported')
