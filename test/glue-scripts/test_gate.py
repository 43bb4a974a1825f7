"""A quality gate that really blocks: a failing run publishes nothing (curated, quarantine, gold stay as
consumers saw them), the dataset stays blocked (a retry cannot pass by reading nothing) until an operator
acts, and a discarded run never reaches gold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
from delta.tables import DeltaTable
from pipeline_support import (
    Messages,
    curated_to_gold,
    gold_args,
    raw_to_curated,
    run_job,
    run_summary,
    sink,
    txn,
    version,
)

DAY = datetime(2024, 1, 15, 9, 0, tzinfo=timezone.utc)
MAX_SHARE = "--max_rejected_share=0.1"


def totals(spark, lake) -> dict:
    rows = spark.read.format("delta").load(f"{lake['gold']}/daily_account_totals").collect()
    return {(str(r["event_date"]), r["account_id"]): (r["record_count"], float(r["total_amount"])) for r in rows}


def marker_exists(lake) -> bool:
    key = "state/blocked/raw_to_curated/financial_transactions.json"
    listed = boto3.client("s3").list_objects_v2(Bucket=lake["lake_bucket"], Prefix=key)
    return listed.get("KeyCount", 0) > 0


def test_gate_failure_then_clean_run_leaves_gold_without_the_bad_rows(spark, lake, tmp_path, monkeypatch):
    args = [*lake["args"], MAX_SHARE]
    msgs = Messages()
    for i in range(20):
        msgs.add(txn(f"good-{i}", DAY + timedelta(minutes=i), 10.0, account_id="acc-good"))
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())
    run_job(raw_to_curated, [*args, "--run_id=run-1"], monkeypatch)
    assert run_summary(lake, "run-1")["gate"]["decision"] == "passed"
    run_job(curated_to_gold, gold_args(lake), monkeypatch)
    before = totals(spark, lake)
    assert before == {("2024-01-15", "acc-good"): (20, 200.0)}

    # A bad batch: half of it breaks the rules; its valid half must not be published either.
    for i in range(10):
        kind = "debit" if i % 2 else "teleport"  # the API accepts any string, the curated rules do not
        msgs.add(txn(f"bad-run-{i}", DAY, 1000.0, account_id="acc-bad", transaction_type=kind))
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())
    curated_version = version(spark, lake["curated"])
    run_job(raw_to_curated, [*args, "--run_id=run-2"], monkeypatch)
    gate = run_summary(lake, "run-2")["gate"]
    assert (gate["decision"], gate["rows"], gate["rows_quarantined"]) == ("blocked", 10, 5)
    assert gate["rejected_share"] == 0.5 and not run_summary(lake, "run-2")["published"]
    assert version(spark, lake["curated"]) == curated_version and marker_exists(lake)
    assert not DeltaTable.isDeltaTable(spark, lake["quarantine"])  # nothing quarantined either

    # The task retried, and a clean batch arriving: still blocked, nothing read, nothing published.
    for i in range(5):
        msgs.add(txn(f"clean-{i}", DAY + timedelta(days=1), 7.0, account_id="acc-good"))
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())
    run_job(raw_to_curated, [*args, "--run_id=run-2"], monkeypatch)
    gate = run_summary(lake, "run-2")["gate"]
    assert (gate["decision"], gate["blocked_by_run"]) == ("blocked", "run-2")
    run_job(curated_to_gold, gold_args(lake), monkeypatch)
    assert totals(spark, lake) == before and version(spark, lake["curated"]) == curated_version

    # The operator discards the blocked run: all its rows go to the quarantine, with the reason.
    run_job(raw_to_curated, [*args, "--run_id=run-3", "--gate_action=discard"], monkeypatch)
    assert run_summary(lake, "run-3")["gate"]["decision"] == "discarded by an operator"
    assert not marker_exists(lake) and version(spark, lake["curated"]) == curated_version
    quarantined = spark.read.format("delta").load(lake["quarantine"]).collect()
    assert sorted(r["transaction_id"] for r in quarantined) == sorted(f"bad-run-{i}" for i in range(10))
    assert all("gate: run run-2 blocked and discarded by an operator" in r["_dq_reasons"] for r in quarantined)

    # The next run publishes the clean batch; gold has none of the bad run's rows.
    run_job(raw_to_curated, [*args, "--run_id=run-4"], monkeypatch)
    summary = run_summary(lake, "run-4")
    assert (summary["gate"]["decision"], summary["rows_new"], summary["rows_inserted"]) == ("passed", 5, 5)
    run_job(curated_to_gold, gold_args(lake), monkeypatch)
    assert totals(spark, lake) == {**before, ("2024-01-16", "acc-good"): (5, 35.0)}
    assert summary["gate"]["rows"] == 5 and summary["gate"]["max_rejected_share"] == 0.1
