"""Where the exact and probabilistic passes run: DuckDB in-process, or Spark (``--engine spark``).

Both engines get the same normalised tables and run the same SQL and the same Splink model; only
the place differs. DuckDB works on the tables of the run's own connection. Spark reads them as
Parquet files written to the run's work folder, so a cluster's workers can read them from a shared
file system; its results come back to DuckDB the same way for one-to-one resolution.

The Spark master comes from ``XIETONG_SPARK_MASTER`` (default ``local[*]``), driver memory from
``XIETONG_SPARK_DRIVER_MEMORY`` (default ``4g``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from .errors import RosterError

EXACT_SQL = """
SELECT l.record_id AS left_id, r.record_id AS right_id, CAST(1.0 AS DOUBLE) AS score,
       '身份证号一致' AS reason, 'exact' AS pass
FROM l JOIN r ON l.{column} = r.{column}
"""


class Backend(Protocol):
    """One engine: runs the exact join and hosts Splink."""

    def exact(self, column: str) -> None:
        """Create table ``exact`` in the DuckDB connection: pairs whose ``column`` agrees."""

    def splink_api(self) -> Any:
        """A Splink database API for this engine."""

    def register(self, api: Any, table: str, name: str) -> Any:
        """The DuckDB table ``table`` as a Splink input named ``name``."""

    def to_duckdb(self, frame: Any, table: str) -> None:
        """Copy a Splink result into the DuckDB table ``table``."""

    def close(self) -> None:
        """Release what the engine holds."""


class DuckDBBackend:
    """The default: everything in the run's own DuckDB connection, no copies."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def exact(self, column: str) -> None:
        self.con.execute(f"CREATE TABLE exact AS {EXACT_SQL.format(column=column)}")

    def splink_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.con)

    def register(self, api: Any, table: str, name: str) -> Any:
        return api.register(table, dataset_display_name=name)

    def to_duckdb(self, frame: Any, table: str) -> None:
        self.con.execute(f"CREATE TABLE {table} AS SELECT * FROM {frame.physical_name}")

    def close(self) -> None:
        """Nothing to release: the connection belongs to the run."""


class SparkBackend:
    """Splink's Spark backend; tables travel as Parquet files in the work folder."""

    def __init__(self, con: Any, workdir: Path) -> None:
        try:
            from pyspark.sql import SparkSession
            from splink.backends.spark import similarity_jar_location
        except ImportError as exc:  # pragma: no cover - pyspark is a locked dependency
            raise RosterError(Path("--engine"), "Spark 引擎需要 pyspark（uv sync 会安装）") from exc
        self.con = con
        self.workdir = workdir
        self.spark = (
            SparkSession.builder.appName("xietong-match")
            .master(os.environ.get("XIETONG_SPARK_MASTER", "local[*]"))
            .config("spark.driver.memory", os.environ.get("XIETONG_SPARK_DRIVER_MEMORY", "4g"))
            .config("spark.sql.shuffle.partitions", os.environ.get("XIETONG_SPARK_PARTITIONS", "8"))
            .config("spark.jars", similarity_jar_location())
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        self.spark.sparkContext.setCheckpointDir(str(workdir / "spark-checkpoints"))

    def _frame(self, table: str) -> Any:
        path = self.workdir / f"{table}.parquet"
        self.con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
        return self.spark.read.parquet(str(path))

    def _back(self, frame: Any, table: str) -> None:
        path = self.workdir / f"{table}-result"
        frame.write.mode("overwrite").parquet(str(path))
        self.con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{path}/*.parquet')")

    def exact(self, column: str) -> None:
        self._frame("l").createOrReplaceTempView("l")
        self._frame("r").createOrReplaceTempView("r")
        self._back(self.spark.sql(EXACT_SQL.format(column=column)), "exact")

    def splink_api(self) -> Any:
        from splink import SparkAPI

        return SparkAPI(spark_session=self.spark)

    def register(self, api: Any, table: str, name: str) -> Any:
        return api.register(self._frame(table), dataset_display_name=name)

    def to_duckdb(self, frame: Any, table: str) -> None:
        self._back(frame.as_spark_dataframe(), table)

    def close(self) -> None:
        """Keep the session: starting a JVM costs half a minute, and a process may run several matches."""


def open_backend(engine: str, con: Any, workdir: Path, *, private: bool = False) -> Backend:
    """The backend for ``--engine``."""
    if engine == "duckdb":
        return DuckDBBackend(con)
    if engine == "spark":
        if private:
            raise RosterError(Path("--engine"), "私密模式目前只支持 DuckDB 引擎（布隆过滤器的位运算）")
        return SparkBackend(con, workdir)
    raise RosterError(Path("--engine"), f"未知的比对引擎：{engine}（可选 duckdb、spark）")
