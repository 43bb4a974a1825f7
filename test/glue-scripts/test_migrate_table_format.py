"""Switching an environment with data from Delta to Iceberg: migrate_table_format.py copies a small lake's
Delta tables into Iceberg catalog tables (idempotently), and the jobs go on with --table_format iceberg from
where Delta left off."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import maintenance
import migrate_table_format
from pipeline_support import (
    DATASET,
    Messages,
    curated_to_gold,
    format_args,
    gold_args,
    lake_tables,
    make_lake,
    raw_to_curated,
    run_job,
    run_summary,
    sink,
    txn,
)

DAY = datetime(2024, 1, 15, 9, 0, tzinfo=timezone.utc)


def rows_of(fmt, t) -> set:
    return {tuple(sorted((k, str(v)) for k, v in r.asDict().items())) for r in fmt.read(t).collect()}


def migrate(lake, monkeypatch, capsys) -> dict:
    zone = lake["curated"].rsplit("/", 1)[0]
    run_job(
        migrate_table_format,
        [
            f"--dataset={DATASET}",
            f"--curated_uri={zone}",
            f"--quarantine_uri={lake['quarantine'].rsplit('/', 1)[0]}",
            f"--gold_uri={lake['gold']}",
            f"--catalog_database={lake['catalog_database']}",
        ],
        monkeypatch,
    )
    return {d["table"]: d for d in map(json.loads, capsys.readouterr().out.strip().splitlines()) if "table" in d}


def test_migrate_a_small_lake_to_iceberg_and_go_on(spark, pyiceberg_catalog, tmp_path, monkeypatch, capsys):
    # Delta tables named in the metastore as on Glue (whose metastore is the Glue Data Catalog).
    lake = make_lake("delta", with_catalog=True)
    catalog_database = lake["catalog_database"]
    spark.sql(f"CREATE DATABASE `{catalog_database}`")
    msgs = Messages()
    for i in range(25):
        msgs.add(txn(f"t-{i}", DAY + timedelta(minutes=i), 10.0 + i, account_id=f"acc-{i % 2}"))
    msgs.add(txn("bad", DAY, 1.0, transaction_type="teleport"))
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())
    run_job(raw_to_curated, [*lake["args"], "--run_id=run-1"], monkeypatch)
    run_job(curated_to_gold, gold_args(lake), monkeypatch)
    delta, tables = lake_tables(spark, lake)
    # CDK's registration of the Delta curated table, which the Iceberg table of the same name replaces.
    curated = tables["curated"]
    boto3.client("glue").create_table(
        DatabaseName=catalog_database,
        TableInput={"Name": curated.catalog_name, "Parameters": {"table_type": "DELTA"}, "StorageDescriptor": {"Location": curated.path}},
    )
    capsys.readouterr()

    first = migrate(lake, monkeypatch, capsys)
    assert first["curated"]["rows"] == 25 and first["curated"]["unregistered_delta"] is True
    assert first["quarantine"]["rows"] == 1 and first["unreadable_files"]["skipped"] == "no Delta table"
    lake["table_format"] = "iceberg"
    lake["args"] = [a.replace("--table_format=delta", "--table_format=iceberg") for a in lake["args"]]
    iceberg, _ = lake_tables(spark, lake)
    for name, t in tables.items():
        if delta.exists(t):
            assert rows_of(iceberg, t) == rows_of(delta, t), name
            arrow = pyiceberg_catalog.load_table((catalog_database, t.catalog_name)).scan().to_arrow()
            assert arrow.num_rows == delta.read(t).count(), name
    again = migrate(lake, monkeypatch, capsys)
    assert all(d.get("skipped") for d in again.values()), again

    # The jobs go on in Iceberg: the coordinates already taken in stay taken, new ones come in, gold follows.
    msgs.add(txn("t-new", DAY + timedelta(days=1), 5.0, account_id="acc-0"))
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())
    run_job(raw_to_curated, [*lake["args"], "--run_id=run-2"], monkeypatch)
    assert (run_summary(lake, "run-2")["rows_new"], run_summary(lake, "run-2")["rows_inserted"]) == (1, 1)
    run_job(curated_to_gold, gold_args(lake), monkeypatch)
    totals = {
        (str(r["event_date"]), r["account_id"]): r["record_count"]
        for r in iceberg.read(tables["daily_account_totals"]).collect()
    }
    assert totals == {("2024-01-15", "acc-0"): 13, ("2024-01-15", "acc-1"): 12, ("2024-01-16", "acc-0"): 1}

    # Local upkeep of the Iceberg tables (on AWS: the Glue Data Catalog's optimizers).
    capsys.readouterr()
    zone = lake["curated"].rsplit("/", 1)[0]
    run_job(
        maintenance,
        [
            f"--dataset={DATASET}",
            f"--curated_uri={zone}",
            f"--quarantine_uri={lake['quarantine'].rsplit('/', 1)[0]}",
            f"--gold_uri={lake['gold']}",
            "--retention_hours=0",
            *format_args("iceberg", catalog_database),
        ],
        monkeypatch,
    )
    out = capsys.readouterr().out
    assert '"table": "curated"' in out and "files_removed" in out, out
    assert iceberg.files_per_partition(curated) == {"event_date=2024-01-15": 1, "event_date=2024-01-16": 1}
