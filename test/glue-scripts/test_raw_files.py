"""Raw files that are not what they should be: a file rewritten between listing and reading, a corrupt file
and a file with a column of another type are handled without loss and without a permanent stall."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lakehouse_spark import curate
from lakehouse_spark.curate import run_raw_to_curated
from lakehouse_spark.runs import Paths
from lakehouse_spark.layout import unreadable_files_uri
from lakehouse_spark.tables import Table, curated_table, quarantine_table

NOW = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
ARROW = {"string": pa.string(), "double": pa.float64(), "timestamp": pa.timestamp("us", tz="UTC"), "int32": pa.int32(), "int64": pa.int64()}


@pytest.fixture()
def fin(datasets):
    return datasets["financial_transactions"]


def parquet(ds, first_offset: int, n: int, amount_type: str = "double") -> bytes:
    """n valid raw rows at offsets first_offset.. as the sink writes them (raw-zone columns and types)."""
    values = {
        "transaction_id": [f"t-{first_offset + i}" for i in range(n)],
        "timestamp": [NOW] * n,
        "account_id": ["acc-1"] * n,
        "amount": [10.0 + i for i in range(n)],
        "currency": ["USD"] * n,
        "transaction_type": ["debit"] * n,
        "merchant_id": [None] * n,
        "category": ["groceries"] * n,
        "_ingest_time": [NOW + timedelta(minutes=1)] * n,
        "_request_id": ["req"] * n,
        "_schema_version": [ds.schema_version] * n,
        "_kafka_topic": [f"raw_{ds.name}"] * n,
        "_kafka_partition": [0] * n,
        "_kafka_offset": [first_offset + i for i in range(n)],
        "_kafka_timestamp": [NOW] * n,
    }
    types = {name: ARROW[t] for name, t, _, _ in ds.raw_columns}
    if amount_type == "string":
        values["amount"], types["amount"] = [str(v) for v in values["amount"]], pa.string()
    table = pa.table({name: pa.array(values[name], types[name]) for name in types})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def put(bucket: str, ds, name: str, body: bytes) -> str:
    key = f"{ds.name}/event_date={NOW:%Y-%m-%d}/event_hour={NOW:%H}/{name}"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def paths(bucket: str, ds) -> Paths:
    lake = f"s3://{bucket}/lake"
    return Paths(
        raw=f"s3://{bucket}/{ds.name}",
        curated=curated_table(f"{lake}/curated", ds.name),
        quarantine=quarantine_table(f"{lake}/quarantine/curated", ds.name),
        unreadable_files=Table(unreadable_files_uri(f"{lake}/quarantine/curated"), ds.name, ds.name),
        bookmark=f"{lake}/state/bookmarks/{ds.name}",
        gate_marker=f"{lake}/state/blocked/{ds.name}.json",
    )


def curated_offsets(spark, p: Paths) -> list[int]:
    return sorted(r[0] for r in spark.read.format("delta").load(p.curated.path).select("_kafka_offset").collect())


def test_corrupt_and_mismatched_files_are_quarantined_and_the_run_goes_on(spark, bucket, fin):
    p = paths(bucket, fin)
    put(bucket, fin, f"raw_{fin.name}+0+0.parquet", parquet(fin, 0, 10))
    corrupt = put(bucket, fin, f"raw_{fin.name}+0+10.parquet", b"PAR1 this is not parquet")
    mismatched = put(bucket, fin, f"raw_{fin.name}+0+20.parquet", parquet(fin, 20, 10, amount_type="string"))
    put(bucket, fin, f"raw_{fin.name}+0+30.parquet", parquet(fin, 30, 10))

    m = run_raw_to_curated(spark, fin, p, run_id="run-1")
    assert m.published and sorted(m.files_unreadable) == sorted([corrupt, mismatched])
    assert all(m.files_unreadable.values())
    assert curated_offsets(spark, p) == list(range(10)) + list(range(30, 40))
    table = spark.read.format("delta").load(p.unreadable_files.path).collect()
    assert {r["path"]: r["reason"] for r in table} == m.files_unreadable

    # No stall: the next run does not read them again ...
    assert run_raw_to_curated(spark, fin, p, run_id="run-2").files == 0
    # ... until the sink rewrites one (a retried batch): then it is read, and nothing is lost.
    put(bucket, fin, f"raw_{fin.name}+0+10.parquet", parquet(fin, 10, 10))
    m = run_raw_to_curated(spark, fin, p, run_id="run-3")
    assert (m.files, m.rows_new, m.files_unreadable) == (1, 10, {})
    assert curated_offsets(spark, p) == list(range(20)) + list(range(30, 40))


def test_a_file_rewritten_between_listing_and_reading_loses_nothing(spark, bucket, fin, monkeypatch):
    p = paths(bucket, fin)
    put(bucket, fin, f"raw_{fin.name}+0+0.parquet", parquet(fin, 0, 10))
    listed = curate.list_new_files

    def list_then_rewrite(*args, **kwargs):
        listing = listed(*args, **kwargs)
        # The sink's retry rewrites the file, now with offsets 0..24, after the listing saw 0..9.
        put(bucket, fin, f"raw_{fin.name}+0+0.parquet", parquet(fin, 0, 25))
        return listing

    monkeypatch.setattr(curate, "list_new_files", list_then_rewrite)
    run_raw_to_curated(spark, fin, p, run_id="run-1")
    monkeypatch.setattr(curate, "list_new_files", listed)
    run_raw_to_curated(spark, fin, p, run_id="run-2")  # the bookmark has the old size: read again
    assert curated_offsets(spark, p) == list(range(25))
    assert run_raw_to_curated(spark, fin, p, run_id="run-3").files == 0
