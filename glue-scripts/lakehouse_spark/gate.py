"""The data-quality gate of raw_to_curated, taken between staging and publishing.

A run stages what it read (quality rules applied, nothing written) and publishes (curated MERGE, curated
quarantine, coordinate ledger, bookmark) only when the share of new rows the rules reject is within the
objective. A blocked run writes nothing but a marker; while the marker exists every run of the dataset
stops at the gate, so neither curated nor gold move and a retry cannot pass by reading nothing. Someone has
to act (runbooks/quality-gate-blocked.md) with `--gate_action`:
  accept   publish the blocked run's files as they are (rejected rows to the quarantine as usual)
  discard  publish none of it: every row of those files goes to the quarantine with the reason below
  retry    forget the marker and evaluate again (after fixing the rules or the data upstream)
"""

from __future__ import annotations

from datetime import datetime, timezone

from pyspark.sql import SparkSession

from .storage import delete, read_json, write_json

ACTIONS = ("none", "accept", "discard", "retry")


def discard_reason(run_id: str) -> str:
    return f"gate: run {run_id} blocked and discarded by an operator"


def decide(rows_new: int, rows_quarantined: int, max_share: float | None) -> dict:
    """The gate's figures and decision (`max_share` None: no objective, every run passes)."""
    share = rows_quarantined / rows_new if rows_new else 0.0
    passed = max_share is None or share <= max_share
    return {
        "decision": "passed" if passed else "blocked",
        "rows": rows_new,
        "rows_quarantined": rows_quarantined,
        "rejected_share": share,
        "max_rejected_share": max_share,
    }


def read_marker(spark: SparkSession, uri: str) -> dict | None:
    return read_json(spark, uri)


def write_marker(spark: SparkSession, uri: str, run_id: str, gate: dict, reasons: dict, files: list) -> None:
    doc = {
        "run_id": run_id,
        "blocked_at": datetime.now(timezone.utc).isoformat(),
        "gate": gate,
        "reasons": reasons,
        "files": [{"path": f.path, "size": f.size, "modification_time": f.modification_time} for f in files],
    }
    write_json(spark, uri, doc)


def clear_marker(spark: SparkSession, uri: str) -> None:
    delete(spark, uri)


def still_blocked(marker: dict, uri: str) -> dict:
    """What a run reports while the dataset is blocked."""
    return {
        **marker["gate"],
        "decision": "blocked",
        "blocked_by_run": marker["run_id"],
        "marker": uri,
        "note": "blocked until --gate_action accept|discard|retry (runbooks/quality-gate-blocked.md)",
    }
