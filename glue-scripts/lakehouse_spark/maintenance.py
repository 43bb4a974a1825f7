"""Delta table upkeep: compaction (OPTIMIZE, optionally Z-ordered), VACUUM with a retention, and restoring a
table to an earlier version or timestamp (time travel) for recovery."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

# Delta refuses a VACUUM retention below its default (7 days) unless this check is off: a shorter
# retention can break readers and time travel, so it is lifted only for a run that explicitly asks.
_SAFE_RETENTION_HOURS = 168


def optimize(spark: SparkSession, path: str, zorder_by: list[str] | None = None) -> dict:
    builder = DeltaTable.forPath(spark, path).optimize()
    result = builder.executeZOrderBy(*zorder_by) if zorder_by else builder.executeCompaction()
    metrics = result.select("metrics.numFilesAdded", "metrics.numFilesRemoved").first()
    return {"files_added": metrics[0], "files_removed": metrics[1]}


def vacuum(spark: SparkSession, path: str, retention_hours: float) -> None:
    if retention_hours < _SAFE_RETENTION_HOURS:
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        DeltaTable.forPath(spark, path).vacuum(retention_hours)
    finally:
        spark.conf.unset("spark.databricks.delta.retentionDurationCheck.enabled")


def restore(spark: SparkSession, path: str, version: int | None = None, timestamp: str | None = None) -> dict:
    if (version is None) == (timestamp is None):
        raise ValueError("restore needs exactly one of version or timestamp")
    table = DeltaTable.forPath(spark, path)
    result = table.restoreToVersion(version) if version is not None else table.restoreToTimestamp(timestamp)
    return result.first().asDict()
