"""raw -> curated: schema enforcement, normalisation, data-quality rules, deduplication and the curated MERGE
(into a Delta or an Iceberg table: table_format/).

A run (run_raw_to_curated):
1. finds the raw files not taken in yet (listing.py: pruned listing, compacted bookmark);
2. stages them (staging.py): reads them, drops the Kafka coordinates already taken in (ledger.py) and
   applies the quality rules (quality.py); a file Spark cannot read with the raw schema (corrupt, or a
   column of another type) is quarantined as a file, with the reason, and the run goes on without it;
3. takes the gate's decision on the staged rows (gate.py) and, if it passes, publishes: curated MERGE (by
   record id, the last update by partition offset wins: curated_rows.py), quarantine MERGE (insert-only,
   by coordinates: quarantine.py), then the ledger and the bookmark. Every write is idempotent, so a run
   that failed before its bookmark commit can simply be rerun; a run that finds nothing new commits
   nothing at all.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from . import gate, ledger
from .curated_rows import latest_per_id, merge_curated, to_curated
from .listing import Listing, RawFile, list_new_files, record_files, record_listing
from .quality import FAILED, REASONS, reasons, split_quality
from .quarantine import merge_quarantine, quarantine_rows
from .registry import Dataset
from .runs import Paths, RunMetrics
from .staging import Staged, take_in
from .table_format import Delta, TableFormat


def publish(
    spark: SparkSession,
    fmt: TableFormat,
    ds: Dataset,
    staged: Staged,
    paths: Paths,
    metrics: RunMetrics,
    future_tolerance_minutes: int,
    discard: str | None = None,
) -> None:
    """Curated and quarantine MERGEs, then the ledger. With `discard` (a reason), every row goes to the
    quarantine with that reason added and nothing to curated."""
    valid, rejected = split_quality(staged.checked, ds, future_tolerance_minutes)
    if discard:
        everything = staged.checked.withColumn(REASONS, reasons(ds, future_tolerance_minutes, discard)).drop(FAILED)
        with metrics.timed("quarantine"):
            merge_quarantine(fmt, quarantine_rows(everything, metrics.run_id), paths.quarantine)
    else:
        if metrics.rows_valid:
            with metrics.timed("curated"):
                result = merge_curated(fmt, to_curated(latest_per_id(valid, ds), ds), paths.curated, ds)
            metrics.rows_inserted, metrics.rows_updated = result["inserted"], result["updated"]
            metrics.rows_superseded = metrics.rows_valid - result["inserted"] - result["updated"]
        if metrics.rows_quarantined:
            with metrics.timed("quarantine"):
                merge_quarantine(fmt, quarantine_rows(rejected, metrics.run_id), paths.quarantine)
    with metrics.timed("ledger"):
        ledger.record(spark, paths.ledger, staged.taken)


def run_raw_to_curated(
    spark: SparkSession,
    ds: Dataset,
    paths: Paths,
    run_id: str,
    fmt: TableFormat | None = None,
    future_tolerance_minutes: int = 5,
    max_rejected_share: float | None = None,
    lookback_hours: float = 48,
    full_listing: bool = False,
    gate_action: str = "none",
) -> RunMetrics:
    """Takes in every raw file not yet taken in (see the module doc) and returns what it did."""
    if gate_action not in gate.ACTIONS:
        raise ValueError(f"gate_action must be one of {', '.join(gate.ACTIONS)}")
    metrics = RunMetrics(dataset=ds.name, run_id=run_id)
    fmt = fmt or Delta(spark)
    marker = gate.read_marker(spark, paths.gate_marker)
    if marker and gate_action == "none":
        metrics.gate = gate.still_blocked(marker, paths.gate_marker)
        return metrics
    if not marker and gate_action != "none":
        raise ValueError(f"--gate_action {gate_action}: {ds.name} is not blocked")
    if gate_action == "retry":
        gate.clear_marker(spark, paths.gate_marker)
        marker = None
    listing: Listing | None = None
    if marker:
        candidates = [RawFile(**f) for f in marker["files"]]
    else:
        with metrics.timed("listing"):
            listing = list_new_files(spark, paths.raw, paths.bookmark, lookback_hours, full_listing)
        candidates, metrics.files_listed = listing.new, listing.files_listed
    with metrics.timed("staging"):
        files, staged = take_in(spark, fmt, ds, candidates, paths, metrics, future_tolerance_minutes)
    metrics.files = len(files)
    unreadable_files = [f for f in candidates if f.path in metrics.files_unreadable]
    if staged is None:
        metrics.gate = gate.decide(0, 0, max_rejected_share)
        _finish(spark, paths, listing, unreadable_files, run_id)
        return metrics
    try:
        _publish_if_passed(
            spark, fmt, ds, staged, paths, metrics, marker, listing, files, unreadable_files,
            future_tolerance_minutes, max_rejected_share, gate_action,
        )
    finally:
        staged.release()
    return metrics


def _publish_if_passed(
    spark: SparkSession,
    fmt: TableFormat,
    ds: Dataset,
    staged: Staged,
    paths: Paths,
    metrics: RunMetrics,
    marker: dict | None,
    listing: Listing | None,
    files: list[RawFile],
    unreadable_files: list[RawFile],
    future_tolerance_minutes: int,
    max_rejected_share: float | None,
    gate_action: str,
) -> None:
    """The gate's decision on the staged rows (of `files`); if it passes, publishing them, then the bookmark
    of the files taken in or quarantined as files."""
    metrics.rows_read, metrics.rows_new = staged.rows_read, staged.rows_new
    metrics.rows_redelivered = staged.rows_read - staged.rows_new
    metrics.rows_quarantined, metrics.reasons = staged.rows_quarantined, staged.reasons
    metrics.rows_valid = staged.rows_new - staged.rows_quarantined
    metrics.gate = gate.decide(staged.rows_new, staged.rows_quarantined, max_rejected_share)
    if gate_action in ("accept", "discard"):
        metrics.gate.update(decision=f"{gate_action}ed by an operator", blocked_by_run=marker["run_id"])
    elif metrics.gate["decision"] == "blocked":
        gate.write_marker(spark, paths.gate_marker, metrics.run_id, metrics.gate, staged.reasons, files)
        return
    discard = gate.discard_reason(marker["run_id"]) if gate_action == "discard" else None
    publish(spark, fmt, ds, staged, paths, metrics, future_tolerance_minutes, discard)
    with metrics.timed("bookmark"):
        _finish(spark, paths, listing, files + unreadable_files, metrics.run_id)
    if marker:
        gate.clear_marker(spark, paths.gate_marker)
    metrics.published = True


def _finish(spark: SparkSession, paths: Paths, listing: Listing | None, files: list[RawFile], run_id: str) -> None:
    """Bookmark last: the files taken in (or quarantined as files), then the listing time."""
    record_files(spark, paths.bookmark, files, run_id)
    if listing is not None:
        record_listing(spark, paths.bookmark, listing)
