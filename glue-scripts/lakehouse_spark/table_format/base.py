"""What the jobs do to a table, whatever its format: the operations each format implements, and the
idempotent upserts built on them (schema evolution first: the rows' new columns are added to the table)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from ..tables import Table


class TableFormat:
    """What the jobs do to a table. `merge_by_id` and `insert_new` are idempotent: merging the same rows
    again changes nothing. Writes add the columns the rows have and the table lacks (schema evolution: older
    rows read them as null)."""

    name: str

    def __init__(self, spark: SparkSession, database: str | None = None) -> None:
        self.spark = spark
        self.database = database

    # -- implemented per format ------------------------------------------------------------------------
    def exists(self, t: Table) -> bool: ...
    def read(self, t: Table, version: int | None = None) -> DataFrame: ...
    def version(self, t: Table) -> int | None: ...
    def data_files(self, t: Table) -> list[str]: ...
    def create(self, t: Table, rows: DataFrame, partition_by: str | None = None, properties: dict | None = None) -> int:
        """Creates the table with the rows; returns how many rows were written."""
    def add_columns(self, t: Table, columns: list[tuple[str, str]]) -> None: ...
    def changed_partitions(self, t: Table, column: str, since: int, until: int) -> list | None: ...
    def replace_partitions(self, t: Table, rows: DataFrame, column: str, values: list) -> None: ...
    def compact(self, t: Table, sort_by: list[str] | None = None) -> dict: ...
    def expire(self, t: Table, retention_hours: float) -> dict: ...
    def restore(self, t: Table, version: int | None = None, timestamp: str | None = None) -> dict: ...
    def register(self, tables: list[Table]) -> None: ...
    def _merge(self, t: Table, rows: DataFrame, cond: str, update_when: str | None) -> dict[str, int]: ...

    # -- shared ------------------------------------------------------------------------------------------
    def files_per_partition(self, t: Table) -> dict[str, int]:
        """Data files of the current version by partition folder (the table's own folder when unpartitioned)."""
        out: dict[str, int] = {}
        for f in self.data_files(t):
            folder = f.rsplit("/", 2)[-2]
            out[folder] = out.get(folder, 0) + 1
        return out

    def evolve(self, t: Table, rows: DataFrame) -> None:
        """Adds the rows' columns the table does not have yet (new optional fields of the registry)."""
        have = {f.name.lower() for f in self.read(t).schema.fields}
        new = [(f.name, f.dataType.simpleString()) for f in rows.schema.fields if f.name.lower() not in have]
        if new:
            self.add_columns(t, new)

    def merge_by_id(
        self,
        t: Table,
        rows: DataFrame,
        id_field: str,
        newer: str,
        partition_by: str,
        properties: dict | None = None,
        within: str | None = None,
    ) -> dict[str, int]:
        """Upsert by id (rows one per id): an existing row is replaced only when `newer` (a condition on
        `s`, the row, and `t`, the table's row) holds. Into no table yet the rows are simply written.
        `within`, a condition on `t` that every row the rows can match meets, lets the MERGE skip the files
        outside it instead of reading the whole table."""
        if not self.exists(t):
            return {"inserted": self.create(t, rows, partition_by, properties), "updated": 0}
        self.evolve(t, rows)
        on_id = f"t.`{id_field}` = s.`{id_field}`"
        return self._merge(t, rows, f"({within}) AND {on_id}" if within else on_id, newer)

    def insert_new(self, t: Table, rows: DataFrame, key: list[str]) -> None:
        """Insert-only MERGE on key (null-safe; creating the table on first use)."""
        if not self.exists(t):
            self.create(t, rows)
            return
        self.evolve(t, rows)
        self._merge(t, rows, " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in key), None)

def require_one_of(version, timestamp) -> None:
    if (version is None) == (timestamp is None):
        raise ValueError("restore needs exactly one of version or timestamp")
