"""End to end in local Spark against the AWS emulator: raw Parquet written by the real sink code
(test/glue-scripts/support/write-raw.ts) -> raw_to_curated -> curated_to_gold, through the jobs' entry points,
once per table format; the Iceberg tables are also read back with pyiceberg (not Spark) through the Glue
catalog."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from delta.tables import DeltaTable
from pipeline_support import (
    INGEST,
    MIN_COUNT,
    Messages,
    curated_to_gold,
    gold_args,
    lake_tables,
    make_lake,
    raw_to_curated,
    run_job,
    run_summary,
    sink,
    txn,
)

from lakehouse_spark.gold import GOLD_TABLES, gold_tables
from lakehouse_spark.table_format import Iceberg


@pytest.mark.parametrize("table_format", ["delta", "iceberg"])
def test_raw_to_curated_to_gold(spark, table_format, pyiceberg_catalog, tmp_path, monkeypatch):
    lake = make_lake(table_format)
    fmt, tables = lake_tables(spark, lake)
    curated_t, quarantine_t = tables["curated"], tables["quarantine"]
    rng = random.Random(7)
    day1 = datetime(2024, 1, 15, 9, 0, tzinfo=timezone.utc)
    day2 = datetime(2024, 1, 16, 22, 0, tzinfo=timezone.utc)
    msgs = Messages()
    expected: dict[str, dict] = {}

    def good(tid: str, when: datetime, amount: float, category: str | None, account: str = "acc-1") -> None:
        msgs.add(txn(tid, when, amount, category, account_id=account))
        expected[tid] = {"event_date": when.date(), "category": category, "amount": amount, "account": account}

    for i in range(40):
        good(f"g1-{i}", day1 + timedelta(minutes=i), round(rng.gauss(50, 10), 2), "groceries", f"acc-{i % 3}")
    good("g1-outlier", day1, 100000.0, "groceries", "acc-0")
    for i in range(25):
        good(f"t1-{i}", day1 + timedelta(hours=1, minutes=i), round(rng.uniform(100, 900), 2), "travel")
    for i in range(3):
        good(f"r1-{i}", day1, 5.0 + i, "rare")  # too few for a p95
    for i in range(30):
        good(f"g2-{i}", day2 + timedelta(minutes=i), round(rng.gauss(60, 5), 4), "groceries", f"acc-{i % 2}")
    # Duplicates: a later ingest wins; at the same ingest time the higher offset wins.
    msgs.add(txn("dup-1", day1, 10.0), ingest=INGEST)
    msgs.add(txn("dup-1", day1, 20.0), ingest=INGEST + timedelta(seconds=5))
    msgs.add(txn("dup-2", day1, 30.0))
    msgs.add(txn("dup-2", day1, 31.0))
    dup2_offset = msgs.offset - 1
    expected["dup-1"] = {"event_date": day1.date(), "category": "groceries", "amount": 20.0, "account": "acc-1"}
    expected["dup-2"] = {"event_date": day1.date(), "category": "groceries", "amount": 31.0, "account": "acc-1"}
    # Accepted by the API and the sink, rejected by the curated zone's rules.
    msgs.add(txn("bad-enum", day1, 1.0, transaction_type="teleport"))
    msgs.add(txn("bad-money", day1, 1.23456))
    msgs.add(txn("bad-future", INGEST + timedelta(days=1), 1.0))
    first = msgs.take()
    summaries = sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], first)
    assert sum(s["written"] for s in summaries) == len(first)

    run_job(raw_to_curated, [*lake["args"], "--run_id=run-1"], monkeypatch)
    curated = fmt.read(curated_t).toPandas()
    assert sorted(curated["transaction_id"]) == sorted(expected)
    by_id = curated.set_index("transaction_id")
    assert float(by_id.loc["dup-1", "amount"]) == 20.0
    assert float(by_id.loc["dup-2", "amount"]) == 31.0 and by_id.loc["dup-2", "_kafka_offset"] == dup2_offset
    assert set(by_id["currency"]) == {"USD"}
    assert by_id.loc["g2-0", "event_date"] == day2.date()
    if fmt.name == "delta":
        detail = DeltaTable.forPath(spark, curated_t.path).detail().first()
        assert detail["partitionColumns"] == ["event_date"]
        assert detail["properties"].get("delta.enableChangeDataFeed") == "true"
    else:
        spec = pyiceberg_catalog.load_table((fmt.database, curated_t.catalog_name)).spec()
        assert [f.name for f in spec.fields] == ["event_date"]
        assert_pyiceberg_reads_what_spark_reads(spark, fmt, tables, pyiceberg_catalog)

    quarantined = fmt.read(quarantine_t).collect()
    reasons = {r["transaction_id"]: list(r["_dq_reasons"]) for r in quarantined}
    assert reasons == {
        "bad-enum": ["transaction_type: not one of debit, credit, transfer, payment, deposit, withdrawal, refund"],
        "bad-money": ["amount: does not fit DECIMAL(18,4)"],
        "bad-future": ["timestamp: in the future"],
    }
    summary = run_summary(lake, "run-1")
    assert (summary["rows_read"], summary["rows_quarantined"], summary["rows_superseded"]) == (len(first), 3, 2)
    assert summary["rejected_share"] == pytest.approx(3 / len(first))

    # A rerun with nothing new commits nothing.
    versions = (fmt.version(curated_t), fmt.version(quarantine_t))
    run_job(raw_to_curated, [*lake["args"], "--run_id=run-2"], monkeypatch)
    assert (fmt.version(curated_t), fmt.version(quarantine_t)) == versions
    assert run_summary(lake, "run-2")["rows_read"] == 0

    run_job(curated_to_gold, gold_args(lake), monkeypatch)
    p95_table, totals_table = tables["daily_amount_p95_by_category"], tables["daily_account_totals"]
    assert_gold_matches(fmt, expected, p95_table, totals_table)
    gold_versions = (fmt.version(p95_table), fmt.version(totals_table))
    run_job(curated_to_gold, gold_args(lake), monkeypatch)
    assert (fmt.version(p95_table), fmt.version(totals_table)) == gold_versions

    # New raw data: only the new file is read; an update moves a record to day 2; gold replaces day 2 only.
    msgs.add(txn("g1-0", day2, 61.0, account_id="acc-0"), ingest=INGEST + timedelta(hours=1))
    msgs.add(txn("g2-new", day2, 59.5, account_id="acc-1"), ingest=INGEST + timedelta(hours=1))
    expected["g1-0"] = {"event_date": day2.date(), "category": "groceries", "amount": 61.0, "account": "acc-0"}
    expected["g2-new"] = {"event_date": day2.date(), "category": "groceries", "amount": 59.5, "account": "acc-1"}
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())
    run_job(raw_to_curated, [*lake["args"], "--run_id=run-3"], monkeypatch)
    summary = run_summary(lake, "run-3")
    assert (summary["files"], summary["rows_read"], summary["rows_inserted"], summary["rows_updated"]) == (1, 2, 1, 1)
    before = fmt.version(p95_table)
    run_job(curated_to_gold, gold_args(lake), monkeypatch)
    assert_gold_matches(fmt, expected, p95_table, totals_table)
    # The move touches both days (the change feed has the old and the new image; Iceberg, the files of both).
    if fmt.name == "delta":
        predicate = DeltaTable.forPath(spark, p95_table.path).history(1).first()["operationParameters"]["predicate"]
        assert "2024-01-15" in predicate and "2024-01-16" in predicate
    else:
        assert fmt.changed_partitions(p95_table, "event_date", before, fmt.version(p95_table)) == [day1.date(), day2.date()]
        assert_pyiceberg_reads_what_spark_reads(spark, fmt, tables, pyiceberg_catalog)


def assert_pyiceberg_reads_what_spark_reads(spark, fmt: Iceberg, tables: dict, catalog) -> None:
    """Every Iceberg table, read through the Glue catalog by pyiceberg, has the rows Spark reads."""

    def norm(v):
        if isinstance(v, datetime) and v.tzinfo:  # pyiceberg: aware UTC; Spark: naive UTC (session time zone)
            return v.astimezone(timezone.utc).replace(tzinfo=None)
        return tuple(v) if isinstance(v, list) else v

    for t in tables.values():
        if not fmt.exists(t):
            continue
        ours = fmt.read(t).collect()
        theirs = catalog.load_table((fmt.database, t.catalog_name)).scan().to_arrow().to_pylist()
        assert len(theirs) == len(ours) > 0 and set(theirs[0]) == set(ours[0].asDict()), t.catalog_name
        as_rows = lambda rows: Counter(tuple(sorted((k, norm(v)) for k, v in r.items())) for r in rows)  # noqa: E731
        assert as_rows(theirs) == as_rows(r.asDict() for r in ours), t.catalog_name


def assert_gold_matches(fmt, expected: dict[str, dict], p95_table: str, totals_table: str) -> None:
    """Gold equals a direct pandas / numpy computation over the records expected in curated."""
    df = pd.DataFrame.from_dict(expected, orient="index")
    want = {}
    for (day, category), g in df.groupby(["event_date", "category"]):
        x = g["amount"].to_numpy(dtype=float)
        kept = x[np.abs(x - x.mean()) <= 3 * x.std(ddof=1)] if len(x) > 1 else x
        if len(kept) >= MIN_COUNT:
            want[(day, category)] = (len(kept), float(np.percentile(kept, 95)))
    got = {
        (r["event_date"], r["category"]): (r["record_count"], r["p95_amount"])
        for r in fmt.read(p95_table).collect()
    }
    assert got.keys() == want.keys()
    for key, (count, p95) in want.items():
        assert got[key][0] == count
        assert got[key][1] == pytest.approx(p95, rel=1e-12)
    assert ("2024-01-15", "rare") not in {(str(d), c) for d, c in got}

    sums = df.groupby(["event_date", "account"])["amount"].agg(["count", "sum"])
    totals = {
        (r["event_date"], r["account_id"]): (r["record_count"], float(r["total_amount"]))
        for r in fmt.read(totals_table).collect()
    }
    assert totals.keys() == set(sums.index)
    for key, row in sums.iterrows():
        assert totals[key][0] == row["count"]
        assert totals[key][1] == pytest.approx(row["sum"], abs=1e-6)


def test_gold_tables_name_fields_of_their_dataset(datasets):
    for name in GOLD_TABLES:
        assert gold_tables(datasets[name])
