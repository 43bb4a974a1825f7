"""Staging of raw_to_curated: reads the new raw files, leaves out the Kafka coordinates already taken in
(ledger.py) and applies the quality rules (quality.py), without writing anything. A file Spark cannot
read with the raw schema (corrupt, or a column of another type) is found by bisection, quarantined as a
file with the reason, and staging goes on without it."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import ledger
from .curated_rows import SOURCE_FILE
from .listing import RawFile
from .quality import FAILED, REASONS, split_quality, with_quality
from .quarantine import quarantine_files
from .registry import Dataset
from .storage import fs_path
from .table_format import TableFormat
from .runs import Paths, RunMetrics


def read_raw(spark: SparkSession, ds: Dataset, files: list[RawFile]) -> DataFrame:
    """With the latest version's columns: a file of an earlier version lacks the later ones, read as null.
    The file's path comes from the scan's metadata column, not input_file_name(): that one is
    nondeterministic, which Iceberg's MERGE refuses in its source."""
    df = spark.read.schema(ds.raw_schema()).parquet(*[f.path for f in files])
    return df.withColumn(SOURCE_FILE, F.col("_metadata.file_path"))


def _reason(error: Exception) -> str:
    """The innermost cause of a read failure, in one line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line for line in lines if line.startswith("Caused by:")]
    return (causes[-1].removeprefix("Caused by:").strip() if causes else lines[0] if lines else repr(error))[:500]


def unreadable(spark: SparkSession, ds: Dataset, files: list[RawFile]) -> tuple[dict[str, str], list[str]]:
    """({path: reason} of the files Spark cannot read with the raw schema, [paths gone since the listing]),
    by bisection: a few probes find a few bad files among many."""
    bad: dict[str, str] = {}
    gone: list[str] = []

    def probe(group: list[RawFile]) -> Exception | None:
        try:
            df = read_raw(spark, ds, group)
            df.select(F.sum(F.xxhash64(*df.columns))).collect()  # decodes every column
        except Exception as e:  # noqa: BLE001  (any failure to read is what we are looking for)
            return e
        return None

    def walk(group: list[RawFile]) -> None:
        error = probe(group)
        if error is None:
            return
        if len(group) > 1:
            walk(group[: len(group) // 2])
            walk(group[len(group) // 2 :])
            return
        fs, path = fs_path(spark, group[0].path)
        if fs.exists(path):
            bad[group[0].path] = _reason(error)
        else:
            gone.append(group[0].path)

    walk(files)
    return bad, gone


@dataclass
class Staged:
    checked: DataFrame  # new coordinates only, normalised, flagged _dq_failed
    taken: dict  # the new coordinates, for the ledger
    rows_read: int
    rows_new: int
    rows_quarantined: int
    reasons: dict[str, int]
    cached: DataFrame  # what `checked` reads from memory; `release` frees it

    def release(self) -> None:
        self.cached.unpersist()


def stage(
    spark: SparkSession, ds: Dataset, files: list[RawFile], ledger_path: str, future_tolerance_minutes: int
) -> Staged:
    """Reads the files and applies the rules, without writing anything. The checked rows are cached:
    building the cache decodes every column (so that a file Spark cannot read fails here, before anything
    is published), and the reasons, the curated MERGE and the quarantine then read them from memory
    instead of decoding and checking the Parquet again. One pass builds it and gives the coordinates and
    the rows that fail a rule; a second one over the rejected rows only when there are some."""
    cached = with_quality(read_raw(spark, ds, files), ds, future_tolerance_minutes).persist()
    try:
        return _count(spark, ds, cached, ledger_path, future_tolerance_minutes)
    except Exception:
        cached.unpersist()
        raise


def _count(
    spark: SparkSession, ds: Dataset, cached: DataFrame, ledger_path: str, future_tolerance_minutes: int
) -> Staged:
    """The coordinates new to the ledger, the rows that fail a rule and their reasons."""
    bitmaps, rows_read, uncoordinated, totals = ledger.coordinate_bitmaps(cached, _failed=F.col(FAILED).cast("long"))
    already = ledger.seen(spark, ledger_path, list(bitmaps))
    taken = {k: m & ~already.get(k, 0) for k, m in bitmaps.items()}
    rows_new = sum(m.bit_count() for m in taken.values()) + uncoordinated
    # Only when some coordinate was taken in before or comes twice is a row-by-row test needed.
    checked = cached if rows_new == rows_read else ledger.keep_unseen(cached, spark, taken)
    counts: dict[str, int] = {}
    rows_quarantined = 0
    if totals["_failed"]:
        _, rejected = split_quality(checked, ds, future_tolerance_minutes)
        for r in rejected.dropDuplicates(list(ledger.COORDINATES)).groupBy(REASONS).count().collect():
            rows_quarantined += r["count"]
            for reason in r[REASONS]:
                counts[reason] = counts.get(reason, 0) + r["count"]
    return Staged(checked, taken, rows_read, rows_new, rows_quarantined, counts, cached)


def take_in(
    spark: SparkSession,
    fmt: TableFormat,
    ds: Dataset,
    files: list[RawFile],
    paths: Paths,
    metrics: RunMetrics,
    future_tolerance_minutes: int,
) -> tuple[list[RawFile], Staged | None]:
    """Stages the files, quarantining (and leaving out) those Spark cannot read; returns the files staged
    (those gone since the listing are left for the next listing) and the staged rows."""
    while files:
        try:
            return files, stage(spark, ds, files, paths.ledger, future_tolerance_minutes)
        except Exception:
            bad, gone = unreadable(spark, ds, files)
            if not bad and not gone:
                raise
            if bad:
                quarantine_files(fmt, paths.unreadable_files, [f for f in files if f.path in bad], bad, metrics.run_id)
                metrics.files_unreadable.update(bad)
            files = [f for f in files if f.path not in bad and f.path not in gone]
    return files, None
