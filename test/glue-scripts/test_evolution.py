"""Schema evolution in the curated zone, on small frames: a field added in v2 (optional) is read from raw
files of both versions and becomes a curated column, null in the rows of v1, in either table format."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import uuid

from lakehouse_spark.curated_rows import SOURCE_FILE, merge_curated, to_curated
from lakehouse_spark.staging import read_raw
from lakehouse_spark.listing import RawFile
from lakehouse_spark.registry import Field
from lakehouse_spark.tables import curated_table
from pyspark.sql import functions as F

INGEST = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)


def with_channel(v1):
    """v2 of the dataset: an optional string field `channel` after v1's fields (as schemas/ derives it)."""
    cut = len(v1.fields)
    return dataclasses.replace(
        v1,
        schema_version=2,
        fields=(*v1.fields, Field("channel", "string", False, None, None, None)),
        raw_columns=(*v1.raw_columns[:cut], ("channel", "string", True, "field"), *v1.raw_columns[cut:]),
    )


def raw_rows(spark, ds, ids, version, **extra):
    rows = [
        {
            "transaction_id": tid,
            "timestamp": datetime(2024, 1, 15, 10, i, tzinfo=timezone.utc),
            "account_id": "acc-1",
            "amount": 10.0 + i,
            "currency": "USD",
            "transaction_type": "debit",
            "_ingest_time": INGEST,
            "_request_id": "req",
            "_schema_version": version,
            "_kafka_topic": "raw_financial_transactions",
            "_kafka_partition": 0,
            "_kafka_offset": i + 10 * version,
            "_kafka_timestamp": INGEST,
            **extra,
        }
        for i, tid in enumerate(ids)
    ]
    names = [f.name for f in ds.raw_schema().fields]
    return spark.createDataFrame([tuple(r.get(n) for n in names) for r in rows], ds.raw_schema())


def test_raw_files_of_both_versions_read_with_the_latest_columns(spark, datasets, tmp_path):
    v1 = datasets["financial_transactions"]
    v2 = with_channel(v1)
    raw_rows(spark, v1, ["a"], 1).write.parquet(str(tmp_path / "v1"))
    raw_rows(spark, v2, ["b"], 2, channel="web").write.parquet(str(tmp_path / "v2"))
    files = [RawFile(str(p), p.stat().st_size, 0) for p in sorted(tmp_path.glob("v*/*.parquet"))]

    got = {r["transaction_id"]: (r["channel"], r["_schema_version"]) for r in read_raw(spark, v2, files).collect()}

    assert got == {"a": (None, 1), "b": ("web", 2)}


def test_curated_merge_adds_the_column_and_keeps_older_rows_null(spark, datasets, fmt, bucket):
    v1 = datasets["financial_transactions"]
    v2 = with_channel(v1)
    table = curated_table(f"s3://{bucket}/curated", f"evolution_{uuid.uuid4().hex[:8]}")

    def curated(ds, df):
        return to_curated(df.withColumn(SOURCE_FILE, F.lit("s3://raw/f.parquet")), ds)

    merge_curated(fmt, curated(v1, raw_rows(spark, v1, ["a", "b"], 1)), table, v1)
    # v2 brings a new id and an update of "b" that carries the new field.
    result = merge_curated(fmt, curated(v2, raw_rows(spark, v2, ["b", "c"], 2, channel="app")), table, v2)

    merged = fmt.read(table)
    assert "channel" in merged.columns
    assert {r["transaction_id"]: r["channel"] for r in merged.collect()} == {"a": None, "b": "app", "c": "app"}
    assert result == {"inserted": 1, "updated": 1}
