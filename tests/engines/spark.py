"""Apache Spark for tests: pyspark's local mode inside the test process, as dbt-spark's `session`
method runs it. scripts/spark.sh installs Java 17 (Debian's openjdk-17-jre-headless) when it is
missing; there is no server to start. A process has one SparkSession, so one test process works
on one Spark project: the Spark tests share an xdist group (`--dist loadgroup`).
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "spark.sh"
GROUP = "spark"  # the xdist group of every test that starts Spark


def why_spark_cannot_run() -> str | None:
    """None when Spark can run here (pyspark importable, Java 17 present or installed)."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "pyspark / dbt-spark are not installed (pip install 'martsmith[spark]')"
    done = subprocess.run([str(SCRIPT), "install"], capture_output=True, text=True)
    if done.returncode != 0:
        return "Java 17 is not installed and cannot be: " + (done.stderr.strip() or "apt-get failed")
    return None
