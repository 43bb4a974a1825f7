"""Every table operation of the jobs, on small tables of each format (Delta by path, Iceberg in the emulator's
Glue catalog); Iceberg tables are also read back with pyiceberg, a reader that is not Spark."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from lakehouse_spark.curated_rows import CDF, NEWER
from pyspark.sql import functions as F
from lakehouse_spark.table_format import Iceberg
from lakehouse_spark.tables import Table

D1, D2, D3 = date(2024, 1, 15), date(2024, 1, 16), date(2024, 1, 17)
SCHEMA = "id STRING, amount INT, event_date DATE, _kafka_topic STRING, _kafka_partition INT, _kafka_offset LONG, _ingest_time TIMESTAMP"


def rows(spark, *items):
    """(id, amount, date, offset) rows of partition 0 of topic t, ingested at the same time."""
    df = spark.createDataFrame([(i, a, d, "t", 0, o, None) for i, a, d, o in items], SCHEMA)
    return df.withColumn("_ingest_time", F.current_timestamp())


def table(bucket: str) -> Table:
    name = f"t_{uuid.uuid4().hex[:8]}"
    return Table(f"s3://{bucket}/zone", name, name)


def content(fmt, t, version=None) -> dict:
    return {r["id"]: (r["amount"], r["event_date"]) for r in fmt.read(t, version).collect()}


def merge(fmt, t, df):
    """As curated: Delta tables keep a change data feed (changed_partitions reads it)."""
    return fmt.merge_by_id(t, df, "id", NEWER, "event_date", CDF if fmt.name == "delta" else None)


def test_merge_by_id_is_idempotent_and_keeps_the_later_update(spark, fmt, bucket):
    t = table(bucket)
    assert not fmt.exists(t) and fmt.version(t) is None
    assert merge(fmt, t, rows(spark, ("a", 1, D1, 0), ("b", 2, D1, 1))) == {"inserted": 2, "updated": 0}
    first = fmt.version(t)
    batch = rows(spark, ("a", 10, D2, 5), ("b", 20, D1, 0), ("c", 3, D2, 6))  # b: an older offset, ignored
    assert merge(fmt, t, batch) == {"inserted": 1, "updated": 1}
    second = fmt.version(t)
    assert content(fmt, t) == {"a": (10, D2), "b": (2, D1), "c": (3, D2)}
    assert merge(fmt, t, batch) == {"inserted": 0, "updated": 0}
    if fmt.name == "iceberg":  # nothing to change: no commit at all
        assert fmt.version(t) == second
    assert content(fmt, t, first) == {"a": (1, D1), "b": (2, D1)}
    # The update moved a from day 1 to day 2: both days changed.
    assert fmt.changed_partitions(t, "event_date", first, second) == [D1, D2]


def test_insert_new_keeps_what_is_there(spark, fmt, bucket):
    t = table(bucket)
    fmt.insert_new(t, rows(spark, ("a", 1, D1, 0)), ["_kafka_topic", "_kafka_partition", "_kafka_offset"])
    fmt.insert_new(t, rows(spark, ("a", 9, D1, 0), ("b", 2, D1, 1)), ["_kafka_topic", "_kafka_partition", "_kafka_offset"])
    assert content(fmt, t) == {"a": (1, D1), "b": (2, D1)}


def test_schema_evolution_adds_optional_columns(spark, fmt, bucket):
    t = table(bucket)
    merge(fmt, t, rows(spark, ("a", 1, D1, 0)))
    merge(fmt, t, rows(spark, ("b", 2, D1, 1)).withColumn("note", F.lit("new")))
    got = {r["id"]: r["note"] for r in fmt.read(t).collect()}
    assert got == {"a": None, "b": "new"}


def test_replace_partitions_replaces_exactly_the_given_days(spark, fmt, bucket):
    t = table(bucket)
    fmt.replace_partitions(t, rows(spark, ("a", 1, D1, 0), ("b", 2, D2, 0), ("z", 9, D3, 0)), "event_date", [D1, D2, D3])
    # Day 1 recomputed (another row), day 2 recomputed to nothing, day 3 not recomputed: left as it is.
    fmt.replace_partitions(t, rows(spark, ("c", 3, D1, 0)), "event_date", [D1, D2])
    assert content(fmt, t) == {"c": (3, D1), "z": (9, D3)}


def test_compact_expire_and_restore(spark, fmt, bucket):
    t = table(bucket)
    for i in range(3):
        merge(fmt, t, rows(spark, (f"r{i}", i, D1, i)))
    good = fmt.version(t)
    result = fmt.compact(t, ["id"])
    assert result["files_removed"] == 3 and result["files_added"] == 1
    fmt.expire(t, 0)
    assert fmt.files_per_partition(t) == {f"event_date={D1}": 1}
    compacted = fmt.version(t)
    assert compacted != good
    fmt.replace_partitions(t, rows(spark, ("bad", 0, D1, 0)), "event_date", [D1])
    fmt.restore(t, version=compacted)
    assert sorted(content(fmt, t)) == ["r0", "r1", "r2"]
    if fmt.name == "delta":
        assert spark.conf.get("spark.databricks.delta.retentionDurationCheck.enabled", "true") == "true"


def test_iceberg_tables_are_glue_tables_pyiceberg_reads(spark, bucket, catalog_database, pyiceberg_catalog):
    import boto3

    fmt = Iceberg(spark, catalog_database)
    t = table(bucket)
    merge(fmt, t, rows(spark, ("a", 1, D1, 0), ("b", 2, D2, 1)))
    merge(fmt, t, rows(spark, ("a", 5, D1, 3)))
    glue = boto3.client("glue").get_table(DatabaseName=catalog_database, Name=t.catalog_name)["Table"]
    assert glue["Parameters"]["table_type"].upper() == "ICEBERG"
    assert glue["StorageDescriptor"]["Location"] == Iceberg.location(t)
    arrow = pyiceberg_catalog.load_table((catalog_database, t.catalog_name)).scan().to_arrow()
    assert {r["id"]: (r["amount"], r["event_date"]) for r in arrow.to_pylist()} == content(fmt, t)


@pytest.mark.parametrize("name", ["parquet", ""])
def test_unknown_format_is_refused(spark, name):
    from lakehouse_spark.table_format import table_format

    if name:
        with pytest.raises(SystemExit):
            table_format(spark, name)
    else:
        assert table_format(spark, name).name == "delta"
