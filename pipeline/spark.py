"""Java and the SparkSession: checked and made in one place.

Without Java (or without pyspark) the build says in one line what is missing and
stops with exit 2 before Spark tries to start a JVM and fails with a page of text.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class MissingRuntime(Exception):
    """Java or pyspark is not there; the message is one line."""


def find_java() -> str:
    """The java binary Spark will start (JAVA_HOME first, as Spark does), or raise."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if java.is_file() and os.access(java, os.X_OK):
            return str(java)
        raise MissingRuntime(f"pipeline.build needs Java 17: JAVA_HOME={home} has no bin/java "
                             "(install openjdk-17-jre-headless or fix JAVA_HOME)")
    java = shutil.which("java")
    if java is None:
        raise MissingRuntime("pipeline.build needs Java 17: no java on PATH and no JAVA_HOME "
                             "(install openjdk-17-jre-headless, or scripts/install.sh)")
    return java


def check_runtime() -> None:
    find_java()
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise MissingRuntime("pipeline.build needs pyspark: pip install 'cockpit[spark]' "
                             f"({exc})") from None


def session(master: str = "local[*]", shuffle_partitions: int | None = None,
            app: str = "cockpit-build"):
    """The SparkSession of a build (an existing one, under spark-submit, is reused).

    Timestamps are local times without a zone (the schema's TIMESTAMP): the session
    zone is UTC so that nothing shifts them. Executors run this interpreter with this
    repository on their path (local mode; a cluster gets the code as a zip).
    """
    check_runtime()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *paths])
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.appName(app)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.adaptive.enabled", "true")
               .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
               .config("spark.sql.sources.partitionOverwriteMode", "static")
               .config("spark.python.worker.reuse", "true")
               .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs",
                       "false")
               .config("spark.hadoop.parquet.enable.summary-metadata", "false"))
    if master:
        builder = builder.master(master)
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if not spark.sparkContext.master.startswith("local"):
        _ship_code(spark)
    return spark


def _ship_code(spark) -> None:
    """On a cluster the executors need data/ and pipeline/: ship them as one zip."""
    import tempfile
    import zipfile

    out = Path(tempfile.mkdtemp(prefix="cockpit-code-")) / "cockpit.zip"
    with zipfile.ZipFile(out, "w") as z:
        for pkg in ("data", "pipeline"):
            for f in (REPO / pkg).rglob("*.py"):
                z.write(f, f.relative_to(REPO))
    spark.sparkContext.addPyFile(str(out))
