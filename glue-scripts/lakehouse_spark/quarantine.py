"""The curated quarantine: rejected rows with their reasons (one per Kafka coordinate), and the raw files
Spark cannot read, with the reason. Both tables are insert-only and keyed, so a rerun adds nothing."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from . import ledger
from .listing import RawFile
from .table_format import TableFormat
from .tables import Table


def quarantine_rows(rejected: DataFrame, run_id: str) -> DataFrame:
    """One row per Kafka coordinate (the same record may come in two raw files of one run)."""
    return (
        rejected.dropDuplicates(list(ledger.COORDINATES))
        .withColumn("_run_id", F.lit(run_id))
        .withColumn("_quarantined_at", F.current_timestamp())
    )


def merge_quarantine(fmt: TableFormat, rows: DataFrame, table: Table) -> None:
    """Keyed by the Kafka coordinates of the rejected row, whichever raw file carried it."""
    fmt.insert_new(table, rows, list(ledger.COORDINATES))


UNREADABLE_SCHEMA = "path STRING, size BIGINT, modification_time BIGINT, reason STRING, _run_id STRING"


def quarantine_files(fmt: TableFormat, table: Table, files: list[RawFile], reasons: dict[str, str], run_id: str) -> None:
    """Raw files Spark cannot read, with the reason; keyed by (path, size, time): a rewritten file is new."""
    rows = [(f.path, f.size, f.modification_time, reasons[f.path], run_id) for f in files]
    df = fmt.spark.createDataFrame(rows, UNREADABLE_SCHEMA).withColumn("_quarantined_at", F.current_timestamp())
    fmt.insert_new(table, df, ["path", "size", "modification_time"])
