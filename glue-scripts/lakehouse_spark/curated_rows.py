"""The rows of a curated table: one per record id (its last update in the log), with the curated columns,
upserted by id so that only a later update replaces a row (into a Delta or an Iceberg table: table_format/)."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from .registry import Dataset
from .table_format import TableFormat
from .tables import Table

SOURCE_FILE = "_source_file"  # the raw file a row came from (staging.read_raw)
EVENT_DATE = "event_date"


def latest_per_id(df: DataFrame, ds: Dataset) -> DataFrame:
    """One row per record id: its last update in the log. A record id is the Kafka key, so its updates
    share a partition and the offset orders them (ingest clocks of different Lambda instances skew);
    only versions from different partitions (after a topic's partition count changed) are ordered by
    ingest time. One shuffle by id and one sort: the second window needs no ordering of its own."""
    in_partition = Window.partitionBy(ds.id_field, "_kafka_topic", "_kafka_partition").orderBy(
        F.col("_kafka_offset").desc()
    )
    latest_partition = F.max(F.struct("_ingest_time", "_kafka_topic", "_kafka_partition")).over(
        Window.partitionBy(ds.id_field)
    )
    last = df.repartition(ds.id_field).withColumn("_rank", F.row_number().over(in_partition)).filter("_rank = 1")
    return (
        last.withColumn("_latest", latest_partition)
        .filter(F.col("_latest") == F.struct("_ingest_time", "_kafka_topic", "_kafka_partition"))
        .drop("_rank", "_latest")
    )


def to_curated(df: DataFrame, ds: Dataset) -> DataFrame:
    """Curated columns: the record fields (money as DECIMAL), the metadata columns, the raw file the row
    came from, and the UTC event date the table is partitioned by."""
    cols = [
        F.col(f.name).cast(ds.money_type()).alias(f.name) if f.kind == "money" else F.col(f.name)
        for f in ds.fields
    ]
    cols += [F.col(c) for c in ds.metadata_columns] + [F.col(SOURCE_FILE)]
    cols.append(F.to_date(F.col(ds.event_time_field)).alias(EVENT_DATE))
    return df.select(*cols)


CDF = {"enableChangeDataFeed": "true"}  # Delta: curated_to_gold follows curated tables through their change feed

# The row in s is a later update than t: by offset in the same partition, by ingest time across partitions.
NEWER = (
    "(s._kafka_topic = t._kafka_topic AND s._kafka_partition = t._kafka_partition AND s._kafka_offset > t._kafka_offset)"
    " OR ((s._kafka_topic <> t._kafka_topic OR s._kafka_partition <> t._kafka_partition)"
    " AND s._ingest_time > t._ingest_time)"
)


def merge_curated(fmt: TableFormat, rows: DataFrame, table: Table, ds: Dataset) -> dict[str, int]:
    """Upsert by record id; an existing row is replaced only by a later update (NEWER), so merging the same
    rows again changes nothing. Into no table yet (the first load) the rows, already one per id, are written."""
    properties = CDF if fmt.name == "delta" else None
    return fmt.merge_by_id(table, rows, ds.id_field, NEWER, EVENT_DATE, properties)
