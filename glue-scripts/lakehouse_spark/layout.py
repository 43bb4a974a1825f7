"""Where each job reads and writes, from the zone URIs it is given (CDK composes them from
lib/config/lake.ts; the quarantine URI already includes the `curated` prefix)."""

from __future__ import annotations

from datetime import datetime, timezone


def table_uri(zone_uri: str, name: str) -> str:
    return f"{zone_uri.rstrip('/')}/{name}"


def bookmark_uri(state_uri: str, job: str, dataset: str) -> str:
    """Where a job remembers what it has processed (see curate / gold)."""
    return f"{state_uri.rstrip('/')}/bookmarks/{job}/{dataset}"


def gate_marker_uri(state_uri: str, job: str, dataset: str) -> str:
    """Present while a dataset is blocked by the quality gate (lakehouse_spark/gate.py)."""
    return f"{state_uri.rstrip('/')}/blocked/{job}/{dataset}.json"


def unreadable_files_uri(quarantine_uri: str) -> str:
    """The zone of the tables of the raw files Spark could not read, with the reason (one per dataset, next
    to the dataset's quarantine)."""
    return f"{quarantine_uri.rstrip('/')}/_unreadable_files"


def run_summary_uri(state_uri: str, job: str, dataset: str, run_id: str) -> str:
    """The run summary the DAG's data-quality gate reads (dags/lakehouse_pipeline.py: run_summary_key)."""
    return f"{state_uri.rstrip('/')}/runs/{job}/{dataset}/{run_id}.json"


def default_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
