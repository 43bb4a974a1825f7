"""End to end in local Spark against the AWS emulator: raw Parquet written by the real sink code
(test/spark/support/write-raw.ts) -> raw_to_curated -> curated_to_gold, through the jobs' entry points."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest
from delta.tables import DeltaTable

# conftest.py put glue-scripts/ on the path, as Glue does with the job's script folder.
import curated_to_gold
import raw_to_curated
from lakehouse_spark.gold import GOLD_TABLES, gold_tables

ROOT = Path(__file__).resolve().parents[2]

DATASET = "financial_transactions"
TOPIC = f"raw_{DATASET}"
INGEST = datetime(2024, 1, 17, 8, 0, tzinfo=timezone.utc)
MIN_COUNT = 20
LOOKBACK_HOURS = 24 * 366 * 10


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class Messages:
    """Kafka messages as the event source mapping hands them to the sink, one offset after another."""

    def __init__(self) -> None:
        self.offset = 0
        self.items: list[dict] = []

    def add(self, data: dict, ingest: datetime = INGEST, partition: int = 0) -> None:
        envelope = {
            "data": data,
            "metadata": {
                "dataset": DATASET,
                "schema_version": 1,
                "ingest_time": iso(ingest),
                "request_id": f"req-{self.offset}",
            },
        }
        self.items.append(
            {
                "topic": TOPIC,
                "partition": partition,
                "offset": self.offset,
                "timestamp": int(ingest.timestamp() * 1000),
                "key": data["transaction_id"],
                "value": json.dumps(envelope),
            }
        )
        self.offset += 1

    def take(self) -> list[dict]:
        items, self.items = self.items, []
        return items


def txn(tid: str, when: datetime, amount: float, category: str | None = "groceries", **kw) -> dict:
    # Python producers send naive isoformat() timestamps with microseconds, meaning UTC.
    return {
        "transaction_id": tid,
        "timestamp": when.replace(tzinfo=None).isoformat(timespec="microseconds"),
        "account_id": kw.get("account_id", "acc-1"),
        "amount": amount,
        "currency": kw.get("currency", "usd"),
        "transaction_type": kw.get("transaction_type", "debit"),
        "merchant_id": None,
        "category": category,
    }


def sink(tmp_path, raw_bucket: str, quarantine_bucket: str, messages: list[dict]) -> list[dict]:
    path = tmp_path / f"messages-{messages[0]['offset']}.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    out = subprocess.run(
        ["npx", "tsx", "test/spark/support/write-raw.ts", raw_bucket, quarantine_bucket, str(path)],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture()
def lake(spark, aws_endpoint):
    s3 = boto3.client("s3")
    names = {}
    for zone in ("raw", "lake"):
        names[zone] = f"pipeline-{zone}-{os.urandom(4).hex()}"
        s3.create_bucket(Bucket=names[zone])
    lake_uri = f"s3://{names['lake']}"
    return {
        "raw_bucket": names["raw"],
        "quarantine_bucket": names["lake"],
        "lake_bucket": names["lake"],
        "args": [
            f"--dataset={DATASET}",
            f"--raw_uri=s3://{names['raw']}",
            f"--curated_uri={lake_uri}/curated",
            f"--quarantine_uri={lake_uri}/quarantine/curated",
            f"--state_uri={lake_uri}/state",
            # The events are from 2024: a look-back of ten years makes every hour of them "recent".
            f"--lookback_hours={LOOKBACK_HOURS}",
        ],
        "curated": f"{lake_uri}/curated/{DATASET}",
        "quarantine": f"{lake_uri}/quarantine/curated/{DATASET}",
        "gold": f"{lake_uri}/gold",
        "state": f"{lake_uri}/state",
    }


def run_summary(lake: dict, run_id: str) -> dict:
    """raw_to_curated's run summary, read from S3 where the DAG's quality gate reads it."""
    key = f"state/runs/raw_to_curated/{DATASET}/{run_id}.json"
    return json.loads(boto3.client("s3").get_object(Bucket=lake["lake_bucket"], Key=key)["Body"].read())


def run_job(module, args: list[str], monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", [module.__file__, *args])
    module.main()


def version(spark, path: str) -> int:
    return DeltaTable.forPath(spark, path).history(1).first()["version"]


def test_raw_to_curated_to_gold(spark, lake, tmp_path, monkeypatch):
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
    curated = spark.read.format("delta").load(lake["curated"]).toPandas()
    assert sorted(curated["transaction_id"]) == sorted(expected)
    by_id = curated.set_index("transaction_id")
    assert float(by_id.loc["dup-1", "amount"]) == 20.0
    assert float(by_id.loc["dup-2", "amount"]) == 31.0 and by_id.loc["dup-2", "_kafka_offset"] == dup2_offset
    assert set(by_id["currency"]) == {"USD"}
    assert by_id.loc["g2-0", "event_date"] == day2.date()
    detail = DeltaTable.forPath(spark, lake["curated"]).detail().first()
    assert detail["partitionColumns"] == ["event_date"]
    assert detail["properties"].get("delta.enableChangeDataFeed") == "true"

    quarantined = spark.read.format("delta").load(lake["quarantine"]).collect()
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
    versions = (version(spark, lake["curated"]), version(spark, lake["quarantine"]))
    run_job(raw_to_curated, [*lake["args"], "--run_id=run-2"], monkeypatch)
    assert (version(spark, lake["curated"]), version(spark, lake["quarantine"])) == versions
    assert run_summary(lake, "run-2")["rows_read"] == 0

    gold_args = [
        f"--dataset={DATASET}",
        f"--curated_uri={lake['curated'].rsplit('/', 1)[0]}",
        f"--gold_uri={lake['gold']}",
        f"--state_uri={lake['state']}",
        f"--min_group_count={MIN_COUNT}",
    ]
    run_job(curated_to_gold, gold_args, monkeypatch)
    p95_table = f"{lake['gold']}/daily_amount_p95_by_category"
    totals_table = f"{lake['gold']}/daily_account_totals"
    assert_gold_matches(spark, expected, p95_table, totals_table)
    gold_versions = (version(spark, p95_table), version(spark, totals_table))
    run_job(curated_to_gold, gold_args, monkeypatch)
    assert (version(spark, p95_table), version(spark, totals_table)) == gold_versions

    # New raw data: only the new file is read; an update moves a record to day 2; gold replaces day 2 only.
    msgs.add(txn("g1-0", day2, 61.0, account_id="acc-0"), ingest=INGEST + timedelta(hours=1))
    msgs.add(txn("g2-new", day2, 59.5, account_id="acc-1"), ingest=INGEST + timedelta(hours=1))
    expected["g1-0"] = {"event_date": day2.date(), "category": "groceries", "amount": 61.0, "account": "acc-0"}
    expected["g2-new"] = {"event_date": day2.date(), "category": "groceries", "amount": 59.5, "account": "acc-1"}
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())
    run_job(raw_to_curated, [*lake["args"], "--run_id=run-3"], monkeypatch)
    summary = run_summary(lake, "run-3")
    assert (summary["files"], summary["rows_read"], summary["rows_inserted"], summary["rows_updated"]) == (1, 2, 1, 1)
    run_job(curated_to_gold, gold_args, monkeypatch)
    assert_gold_matches(spark, expected, p95_table, totals_table)
    last = DeltaTable.forPath(spark, p95_table).history(1).first()
    # The move touches both days (the change feed has the old and the new image).
    assert "2024-01-15" in last["operationParameters"]["predicate"]
    assert "2024-01-16" in last["operationParameters"]["predicate"]


def assert_gold_matches(spark, expected: dict[str, dict], p95_table: str, totals_table: str) -> None:
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
        for r in spark.read.format("delta").load(p95_table).collect()
    }
    assert got.keys() == want.keys()
    for key, (count, p95) in want.items():
        assert got[key][0] == count
        assert got[key][1] == pytest.approx(p95, rel=1e-12)
    assert ("2024-01-15", "rare") not in {(str(d), c) for d, c in got}

    sums = df.groupby(["event_date", "account"])["amount"].agg(["count", "sum"])
    totals = {
        (r["event_date"], r["account_id"]): (r["record_count"], float(r["total_amount"]))
        for r in spark.read.format("delta").load(totals_table).collect()
    }
    assert totals.keys() == set(sums.index)
    for key, row in sums.iterrows():
        assert totals[key][0] == row["count"]
        assert totals[key][1] == pytest.approx(row["sum"], abs=1e-6)


def test_gold_tables_name_fields_of_their_dataset(datasets):
    for name in GOLD_TABLES:
        assert gold_tables(datasets[name])
