"""Apache Iceberg tables of the Glue Data Catalog, through the Spark catalog `glue_catalog` (runtime.py
configures it); MERGE, UPDATE and DELETE copy on write."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ..layout import table_uri
from ..tables import Table
from .base import TableFormat, require_one_of

ICEBERG_CATALOG = "glue_catalog"  # the Spark catalog name the Iceberg configuration declares (runtime.py)

_views = count()


class Iceberg(TableFormat):
    """Iceberg tables of the Glue database `database`, each in `<zone>/iceberg/<name>` (apart from the Delta
    tables of the same zone, so that a migration keeps both and orphan-file removal never sees Delta's)."""

    name = "iceberg"

    def __init__(self, spark: SparkSession, database: str | None = None) -> None:
        if not database:
            raise ValueError("Iceberg tables are catalog tables: --catalog_database is required")
        super().__init__(spark, database)

    def ident(self, t: Table) -> str:
        return f"{ICEBERG_CATALOG}.`{self.database}`.`{t.catalog_name}`"

    def _proc_ident(self, t: Table) -> str:
        """The table as Iceberg's procedures take it (a string, within the catalog)."""
        return f"{self.database}.{t.catalog_name}"

    @staticmethod
    def location(t: Table) -> str:
        return table_uri(t.zone_uri, f"iceberg/{t.name}")

    def exists(self, t: Table) -> bool:
        return self.spark.catalog.tableExists(f"{ICEBERG_CATALOG}.{self.database}.{t.catalog_name}")

    def read(self, t: Table, version: int | None = None) -> DataFrame:
        return self.spark.sql(f"SELECT * FROM {self.ident(t)}" + (f" VERSION AS OF {version}" if version else ""))

    def _table(self, t: Table):
        """The Iceberg table (Java API): metadata without a Spark query, so without a lineage event."""
        return self.spark._jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(
            self.spark._jsparkSession, f"{ICEBERG_CATALOG}.{self._proc_ident(t)}"
        )

    def version(self, t: Table) -> int | None:
        if not self.exists(t):
            return None
        snapshot = self._table(t).currentSnapshot()
        return snapshot.snapshotId() if snapshot else None

    def data_files(self, t: Table) -> list[str]:
        return [r[0] for r in self.spark.sql(f"SELECT file_path FROM {self.ident(t)}.files").collect()]

    def _view(self, rows: DataFrame) -> str:
        name = f"_table_format_rows_{next(_views)}"
        rows.createOrReplaceTempView(name)
        return name

    def create(
        self,
        t: Table,
        rows: DataFrame,
        partition_by: str | None = None,
        properties: dict | None = None,
        replace: bool = False,
    ) -> int:
        """Format version 2; MERGE, UPDATE and DELETE copy on write (no delete files: every reader, Athena
        and pyiceberg included, reads plain data files). The table is declared, then the rows appended (OpenLineage
        sees an append, not a CREATE TABLE AS SELECT); `replace`: one atomic commit replaces it all instead."""
        props = {"format-version": "2", "write.merge.mode": "copy-on-write", **(properties or {})}
        tblprops = ", ".join(f"'{k}' = '{v}'" for k, v in props.items())
        spec = (f" PARTITIONED BY (`{partition_by}`)" if partition_by else "") + f" LOCATION '{self.location(t)}'"
        if replace:
            view = self._view(rows)
            self.spark.sql(
                f"CREATE OR REPLACE TABLE {self.ident(t)} USING iceberg{spec} TBLPROPERTIES ({tblprops}) AS SELECT * FROM {view}"
            )
        else:
            columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in rows.schema.fields)
            self.spark.sql(f"CREATE TABLE {self.ident(t)} ({columns}) USING iceberg{spec} TBLPROPERTIES ({tblprops})")
            # As Delta writes: each task its own files, no shuffle by partition first (Iceberg's default hash
            # distribution sent every row of a day to one task: one core writing the whole first load).
            rows.writeTo(self.ident(t)).option("distribution-mode", "none").option("fanout-enabled", "true").append()
        return int(self._table(t).currentSnapshot().summary().get("added-records") or 0)

    def add_columns(self, t: Table, columns: list[tuple[str, str]]) -> None:
        cols = ", ".join(f"`{n}` {typ}" for n, typ in columns)
        self.spark.sql(f"ALTER TABLE {self.ident(t)} ADD COLUMNS ({cols})")

    def _merge(self, t: Table, rows: DataFrame, cond: str, update_when: str | None) -> dict[str, int]:
        # Iceberg's snapshot summary counts the rows of rewritten files, not the rows changed: count those
        # first, with the same conditions as the MERGE.
        target = self.read(t).withColumn("_matched", F.lit(True)).alias("t")
        joined = rows.alias("s").join(target, F.expr(cond), "left")
        matched = F.col("t._matched").isNotNull()
        changed = matched & F.coalesce(F.expr(update_when), F.lit(False)) if update_when else F.lit(False)
        r = joined.select(F.sum((~matched).cast("long")), F.sum(changed.cast("long"))).first()
        inserted, updated = r[0] or 0, r[1] or 0
        view = self._view(rows)
        update = f" WHEN MATCHED AND ({update_when}) THEN UPDATE SET *" if update_when else ""
        if inserted or updated:
            self.spark.sql(
                f"MERGE INTO {self.ident(t)} t USING {view} s ON {cond}{update} WHEN NOT MATCHED THEN INSERT *"
            )
        return {"inserted": inserted, "updated": updated}

    def changed_partitions(self, t: Table, column: str, since: int, until: int) -> list | None:
        """The partitions of the data files added or removed by the snapshots after `since` up to `until`
        (walking the parent chain); None when `since` is not an ancestor (expired, or rolled back)."""
        snaps = {
            r["snapshot_id"]: r["parent_id"]
            for r in self.spark.sql(f"SELECT snapshot_id, parent_id FROM {self.ident(t)}.snapshots").collect()
        }
        chain, s = [], until
        while s is not None and s != since:
            chain.append(s)
            s = snaps.get(s)
        if s != since:
            return None
        ids = ", ".join(str(i) for i in chain)
        rows = self.spark.sql(
            f"SELECT DISTINCT data_file.partition.`{column}` FROM {self.ident(t)}.all_entries"
            f" WHERE snapshot_id IN ({ids}) AND status IN (1, 2)"
        ).collect()
        return sorted(r[0] for r in rows)

    def replace_partitions(self, t: Table, rows: DataFrame, column: str, values: list) -> None:
        """The rows become the whole content of those partitions (one atomic overwrite by filter)."""
        if not self.exists(t):
            self.create(t, rows, column)
            return
        self.evolve(t, rows)
        rows.writeTo(self.ident(t)).overwrite(F.col(column).isin(values))

    def compact(self, t: Table, sort_by: list[str] | None = None) -> dict:
        """rewrite_data_files (bin-pack, or sorted by `sort_by`), of every partition with two files or more."""
        strategy = f", strategy => 'sort', sort_order => '{', '.join(sort_by)}'" if sort_by else ""
        r = self.spark.sql(
            f"CALL {ICEBERG_CATALOG}.system.rewrite_data_files(table => '{self._proc_ident(t)}'{strategy},"
            " options => map('min-input-files', '2'))"
        ).first()
        return {"files_added": r["added_data_files_count"], "files_removed": r["rewritten_data_files_count"]}

    def expire(self, t: Table, retention_hours: float) -> dict:
        """expire_snapshots (keeping the current one) then remove_orphan_files, both older than the retention."""
        before = (datetime.now(timezone.utc) - timedelta(hours=retention_hours)).strftime("%Y-%m-%d %H:%M:%S.%f")
        ident = self._proc_ident(t)
        e = self.spark.sql(
            f"CALL {ICEBERG_CATALOG}.system.expire_snapshots(table => '{ident}', older_than => TIMESTAMP '{before}',"
            " retain_last => 1)"
        ).first()
        # The action, not the procedure: the procedure refuses a retention under 24 h, which (as Delta's VACUUM
        # check) is for the caller to judge. Files newer than the retention may belong to a running write.
        jvm, jspark = self.spark._jvm, self.spark._jsparkSession
        table = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(jspark, f"{ICEBERG_CATALOG}.{ident}")
        cutoff = int((datetime.now(timezone.utc) - timedelta(hours=retention_hours)).timestamp() * 1000)
        result = jvm.org.apache.iceberg.spark.actions.SparkActions.get(jspark).deleteOrphanFiles(table).olderThan(cutoff).execute()
        orphans, it = 0, result.orphanFileLocations().iterator()
        while it.hasNext():
            it.next()
            orphans += 1
        return {"data_files_expired": e["deleted_data_files_count"], "orphan_files_removed": orphans}

    def restore(self, t: Table, version: int | None = None, timestamp: str | None = None) -> dict:
        require_one_of(version, timestamp)
        ident = self._proc_ident(t)
        if version is not None:
            call = f"set_current_snapshot(table => '{ident}', snapshot_id => {int(version)})"
        else:
            call = f"rollback_to_timestamp(table => '{ident}', timestamp => TIMESTAMP '{timestamp}')"
        return self.spark.sql(f"CALL {ICEBERG_CATALOG}.system.{call}").first().asDict()

    def register(self, tables: list[Table]) -> None:
        """Nothing to do: Iceberg tables are created in the catalog."""

    def properties(self, t: Table) -> dict[str, str]:
        return {r[0]: r[1] for r in self.spark.sql(f"SHOW TBLPROPERTIES {self.ident(t)}").collect()}
