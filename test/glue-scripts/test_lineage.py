"""OpenLineage events of the jobs (the openlineage-spark listener, file transport locally): per run, the
datasets read and written."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pipeline_support import (
    DATASET,
    MIN_COUNT,
    Messages,
    curated_to_gold,
    gold_args,
    lake_tables,
    make_lake,
    raw_to_curated,
    run_job,
    sink,
    txn,
)

from lakehouse_spark.table_format import Iceberg


def lineage_of(spark, run) -> tuple[set[str], set[str]]:
    """Runs `run` and returns the (inputs, outputs) of the OpenLineage events it emitted, as URIs."""
    events = Path(spark.conf.get("spark.openlineage.transport.location"))
    start = events.stat().st_size if events.exists() else 0
    run()
    # The listener emits on Spark's listener bus: once it is drained, every event of the run is written.
    spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty()
    with events.open() as f:
        f.seek(start)
        new = [json.loads(line) for line in f if line.strip()]

    def uris(kind: str) -> set[str]:
        # A read of a Delta table's own log (its version, at time travel) is a read of that table.
        return {f"{d['namespace']}/{d['name']}".split("/_delta_log/")[0] for e in new for d in e.get(kind, [])}

    return uris("inputs"), uris("outputs")


@pytest.mark.parametrize("table_format", ["delta", "iceberg"])
def test_lineage_per_run(spark, table_format, tmp_path, monkeypatch):
    lake = make_lake(table_format)
    _, tables = lake_tables(spark, lake)
    # A Delta table is named by its path; an Iceberg table by its location (the catalog name is a symlink).
    uri = {"delta": lambda t: t.path, "iceberg": Iceberg.location}[table_format]
    day = datetime(2024, 1, 15, 9, 0, tzinfo=timezone.utc)
    msgs = Messages()
    for i in range(MIN_COUNT + 5):
        msgs.add(txn(f"t-{i}", day + timedelta(minutes=i), 10.0 + i))
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())

    curate = [*lake["args"], "--run_id=run-1"]
    inputs, outputs = lineage_of(spark, lambda: run_job(raw_to_curated, curate, monkeypatch))
    raw = f"s3://{lake['raw_bucket']}/{DATASET}/event_date=2024-01-15/event_hour=09/"
    assert inputs and all(uri.startswith(raw) and uri.endswith(".parquet") for uri in inputs), inputs
    bookmarks = f"{lake['state']}/bookmarks/raw_to_curated/{DATASET}"
    assert outputs == {uri(tables["curated"]), f"{bookmarks}/coordinates", f"{bookmarks}/files"}

    inputs, outputs = lineage_of(spark, lambda: run_job(curated_to_gold, gold_args(lake), monkeypatch))
    assert inputs == {uri(tables["curated"])}
    assert outputs == {uri(t) for name, t in tables.items() if name not in ("curated", "quarantine")}
