"""jetjobs' stand-in for spark-jobserver's `sparkjobserver` package (job-server-python).

Only `sparkjobserver.api` is provided: the names a job imports, so a job written for Spark
Jobserver's Python support loads unchanged. There is no Py4J gateway and no SparkContext here.
"""
