"""Helpers of the end-to-end Spark tests: Kafka messages handed to the REAL sink code
(support/write-raw.ts), a lake in the emulator, and the jobs run through their entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import boto3
from delta.tables import DeltaTable
from lakehouse_spark.gold import GOLD_TABLES
from lakehouse_spark.table_format import table_format
from lakehouse_spark.tables import curated_table, gold_table, quarantine_table

# conftest.py put glue-scripts/ on the path, as Glue does with the job's script folder.
import curated_to_gold  # noqa: F401  (re-exported for the tests)
import raw_to_curated  # noqa: F401

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

    def __init__(self, first_offset: int = 0) -> None:
        self.offset = first_offset
        self.items: list[dict] = []

    def add(self, data: dict, ingest: datetime = INGEST, partition: int = 0) -> None:
        # The value is the record; the ingest metadata travels in headers (schemas/envelope.ts).
        headers = {
            "ingest-time": iso(ingest),
            "request-id": f"req-{self.offset}",
            "schema-version": "1",
            "content-type": "application/json",
            "dataset": DATASET,
        }
        self.items.append(
            {
                "topic": TOPIC,
                "partition": partition,
                "offset": self.offset,
                "timestamp": int(ingest.timestamp() * 1000),
                "key": data["transaction_id"],
                "value": json.dumps(data),
                "headers": [{name: value} for name, value in headers.items()],
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


def sink(tmp_path, raw_bucket: str, quarantine_bucket: str, messages: list[dict], batch: int = 1000) -> list[dict]:
    """Hands the messages to the sink in batches of `batch`, as the event source mapping would."""
    path = tmp_path / f"messages-{messages[0]['offset']}-{batch}.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    out = subprocess.run(
        ["npx", "tsx", "test/glue-scripts/support/write-raw.ts", raw_bucket, quarantine_bucket, str(path), str(batch)],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_summary(lake: dict, run_id: str) -> dict:
    """raw_to_curated's run summary, read from S3 where the DAG's quality gate reads it."""
    key = f"state/runs/raw_to_curated/{DATASET}/{run_id}.json"
    return json.loads(boto3.client("s3").get_object(Bucket=lake["lake_bucket"], Key=key)["Body"].read())


def run_job(module, args: list[str], monkeypatch) -> None:
    """Runs a job's entry point as Glue would, with these arguments."""
    monkeypatch.setattr(sys, "argv", [module.__file__, *args])
    module.main()


def version(spark, path: str) -> int:
    return DeltaTable.forPath(spark, path).history(1).first()["version"]



def make_lake(table_format: str = "delta", with_catalog: bool = False) -> dict:
    """Buckets of a fresh lake and the jobs' arguments for it, with tables of `table_format`; Iceberg (or
    `with_catalog`) gives the lake a Glue database of its own, as an environment has."""
    s3 = boto3.client("s3")
    names = {}
    for zone in ("raw", "lake"):
        names[zone] = f"pipeline-{zone}-{os.urandom(4).hex()}"
        s3.create_bucket(Bucket=names[zone])
    catalog_database = None
    if table_format == "iceberg" or with_catalog:
        catalog_database = f"lake_{os.urandom(4).hex()}"
        boto3.client("glue").create_database(DatabaseInput={"Name": catalog_database})
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
            *format_args(table_format, catalog_database),
        ],
        "table_format": table_format,
        "catalog_database": catalog_database,
        "curated": f"{lake_uri}/curated/{DATASET}",
        "quarantine": f"{lake_uri}/quarantine/curated/{DATASET}",
        "gold": f"{lake_uri}/gold",
        "state": f"{lake_uri}/state",
    }


def format_args(table_format: str, catalog_database: str | None) -> list[str]:
    return [f"--table_format={table_format}"] + ([f"--catalog_database={catalog_database}"] if catalog_database else [])


def gold_args(lake: dict) -> list[str]:
    return [
        f"--dataset={DATASET}",
        f"--curated_uri={lake['curated'].rsplit('/', 1)[0]}",
        f"--gold_uri={lake['gold']}",
        f"--state_uri={lake['state']}",
        f"--min_group_count={MIN_COUNT}",
        *format_args(lake["table_format"], lake["catalog_database"]),
    ]


def lake_tables(spark, lake: dict):
    """(the lake's table format, its curated, quarantine and gold tables by name)."""
    fmt = table_format(spark, lake["table_format"], lake["catalog_database"])
    zone = lake["curated"].rsplit("/", 1)[0]
    tables = {
        "curated": curated_table(zone, DATASET),
        "quarantine": quarantine_table(lake["quarantine"].rsplit("/", 1)[0], DATASET),
        **{t.table: gold_table(lake["gold"], t.table) for t in GOLD_TABLES[DATASET]},
    }
    return fmt, tables
