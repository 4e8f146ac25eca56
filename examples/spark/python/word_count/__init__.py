"""Spark Jobserver's Python word count example, for jetjobs: the same class and config, but the
counting is plain Python (jetjobs runs the job as a Python process, without a SparkContext).

Config: `input.strings` = a list of words (as in spark-jobserver's example), or `input.string` =
space-separated text (as in its Scala WordCountExample). Result: {word: count}, in order of first
occurrence.
"""
from collections import Counter

from sparkjobserver.api import SparkJob, build_problems


class WordCountSparkJob(SparkJob):

    def validate(self, context, runtime, config):
        words = config.get('input.strings', None)
        if words:
            return list(words)
        text = config.get('input.string', None)
        if isinstance(text, str):
            return [w for w in text.split(' ') if w]
        return build_problems(['config input.strings not found'])

    def run_job(self, context, runtime, data):
        return Counter(data)


class FailingSparkJob(SparkJob):
    """Fails on purpose (as spark-jobserver's FailingSparkJob), to see a failed job."""

    def validate(self, context, runtime, config):
        return WordCountSparkJob().validate(context, runtime, config)

    def run_job(self, context, runtime, data):
        raise ValueError('Deliberate failure')
