"""Delta Lake tables, addressed by path (declared in the metastore only by `register`)."""

from __future__ import annotations

from delta.tables import DeltaTable
from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame

from ..tables import Table
from .base import TableFormat, require_one_of


class Delta(TableFormat):
    name = "delta"

    def exists(self, t: Table) -> bool:
        return DeltaTable.isDeltaTable(self.spark, t.path)

    def read(self, t: Table, version: int | None = None) -> DataFrame:
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(t.path)

    def version(self, t: Table) -> int | None:
        if not self.exists(t):
            return None
        return DeltaTable.forPath(self.spark, t.path).history(1).first()["version"]

    def data_files(self, t: Table) -> list[str]:
        return self.read(t).inputFiles()

    def create(self, t: Table, rows: DataFrame, partition_by: str | None = None, properties: dict | None = None) -> int:
        writer = rows.write.format("delta").options(**{f"delta.{k}": v for k, v in (properties or {}).items()})
        (writer.partitionBy(partition_by) if partition_by else writer).save(t.path)
        return int(DeltaTable.forPath(self.spark, t.path).history(1).first()["operationMetrics"]["numOutputRows"])

    def append(self, t: Table, rows: DataFrame) -> None:
        """Adds the rows as they are (into the table's own partitioning); the caller keeps it idempotent."""
        rows.write.format("delta").mode("append").save(t.path)

    def add_columns(self, t: Table, columns: list[tuple[str, str]]) -> None:
        cols = ", ".join(f"`{n}` {typ}" for n, typ in columns)
        self.spark.sql(f"ALTER TABLE delta.`{t.path}` ADD COLUMNS ({cols})")

    def _merge(self, t: Table, rows: DataFrame, cond: str, update_when: str | None) -> dict[str, int]:
        table = DeltaTable.forPath(self.spark, t.path)
        builder = table.alias("t").merge(rows.alias("s"), cond)
        if update_when:
            builder = builder.whenMatchedUpdateAll(condition=update_when)
        builder.whenNotMatchedInsertAll().execute()
        m = table.history(1).first()["operationMetrics"]
        return {"inserted": int(m.get("numTargetRowsInserted", 0)), "updated": int(m.get("numTargetRowsUpdated", 0))}

    def changed_partitions(self, t: Table, column: str, since: int, until: int) -> list | None:
        """From the change data feed (curated tables keep one); None when it is gone (vacuumed)."""
        try:
            changes = (
                self.spark.read.format("delta")
                .option("readChangeFeed", "true")
                .option("startingVersion", since + 1)
                .option("endingVersion", until)
                .load(t.path)
            )
            return sorted(r[0] for r in changes.select(column).distinct().collect())
        except (AnalysisException, Py4JJavaError) as e:
            print(f"change feed of versions {since + 1}..{until} of {t.path} unreadable ({e})")
            return None

    def replace_partitions(self, t: Table, rows: DataFrame, column: str, values: list) -> None:
        if not self.exists(t):
            self.create(t, rows, column)
            return
        self.evolve(t, rows)
        in_list = ", ".join(f"DATE'{v}'" for v in values)
        rows.write.format("delta").mode("overwrite").option("replaceWhere", f"{column} IN ({in_list})").save(t.path)

    def compact(self, t: Table, sort_by: list[str] | None = None) -> dict:
        """OPTIMIZE, Z-ordered by `sort_by` when given."""
        builder = DeltaTable.forPath(self.spark, t.path).optimize()
        result = builder.executeZOrderBy(*sort_by) if sort_by else builder.executeCompaction()
        metrics = result.select("metrics.numFilesAdded", "metrics.numFilesRemoved").first()
        return {"files_added": metrics[0], "files_removed": metrics[1]}

    # Delta refuses a VACUUM retention below its default (7 days) unless this check is off: a shorter
    # retention can break readers and time travel, so it is lifted only for a run that explicitly asks.
    _SAFE_RETENTION_HOURS = 168

    def expire(self, t: Table, retention_hours: float) -> dict:
        """VACUUM: data files no version within the retention needs are deleted."""
        if retention_hours < self._SAFE_RETENTION_HOURS:
            self.spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
        try:
            DeltaTable.forPath(self.spark, t.path).vacuum(retention_hours)
        finally:
            self.spark.conf.unset("spark.databricks.delta.retentionDurationCheck.enabled")
        return {"vacuumed": True}

    def restore(self, t: Table, version: int | None = None, timestamp: str | None = None) -> dict:
        require_one_of(version, timestamp)
        table = DeltaTable.forPath(self.spark, t.path)
        result = table.restoreToVersion(version) if version is not None else table.restoreToTimestamp(timestamp)
        return result.first().asDict()

    def register(self, tables: list[Table]) -> None:
        """Declares each table in the metastore (the Glue Data Catalog on Glue) once: a Delta table keeps its
        schema in its log, so only the location is recorded."""
        for t in sorted(tables, key=lambda t: t.catalog_name):
            self.spark.sql(
                f"CREATE TABLE IF NOT EXISTS `{self.database}`.`{t.catalog_name}` USING DELTA LOCATION '{t.path}'"
            )
