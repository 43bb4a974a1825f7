"""Finding the raw files raw_to_curated has not taken in yet, at a cost bounded by the recent data rather
than by everything ever written.

The raw zone is `<dataset>/event_date=D/event_hour=H/<file>.parquet`. A run lists the date folders (one
delimiter listing, one entry per day) and then only
  - the hour folders whose hour starts at or after `since` = the previous run's listing time minus the
    look-back (late records land in recent hours), and
  - every date folder it has never seen (a backfill or a very late record creating an old day).
A file written later than the look-back into an hour folder of an already known day is found by a full
listing (`full=True`, run by the DAG once a week; the coordinate ledger makes re-reading harmless).

The bookmark is a Delta table of (path, size, modification time) partitioned by event date; a run reads
only the dates it listed and rewrites only the dates it touched, one row per path (a file the sink rewrote
on a retry gets its new size and time), so it stays one small file per day. The listing time and the dates
seen are a small JSON document next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from .storage import fs_path, read_json, write_json

BOOKMARK_SCHEMA = "path STRING, size BIGINT, modification_time BIGINT, event_date STRING, run_id STRING"
_HOUR = re.compile(r"/event_date=(\d{4}-\d{2}-\d{2})/(?:event_hour=(\d{2})/)?")


@dataclass(frozen=True)
class RawFile:
    path: str
    size: int
    modification_time: int

    @property
    def event_date(self) -> str:
        m = _HOUR.search(self.path)
        return m.group(1) if m else ""


@dataclass
class Listing:
    """What one listing found, and what the bookmark has to remember afterwards."""

    started: datetime
    new: list[RawFile]
    dates: list[str]  # every date folder that exists
    listed_dates: list[str]  # the ones that were listed (their bookmark partitions were read)
    files_listed: int


def _files_under(spark: SparkSession, folders: list[str]) -> list[RawFile]:
    """The Parquet files under the folders, recursively, through Spark's own parallel file listing (the
    binaryFile source reads no content unless asked for it): one round trip for all files instead of a
    few per file. Hidden and underscore files (in progress, markers) are skipped, as Spark does, and so
    are empty files (the sink never writes one: a Parquet file has at least its magic bytes)."""
    if not folders:
        return []
    listed = (
        spark.read.format("binaryFile")
        .option("pathGlobFilter", "*.parquet")
        .option("recursiveFileLookup", "true")
        .load(folders)
        .select("path", "length", F.expr("unix_millis(modificationTime)").alias("mtime"))
        .collect()
    )
    return [RawFile(r["path"], r["length"], r["mtime"]) for r in listed]


def _subfolders(fs, path, prefix: str) -> list[tuple[str, object]]:
    """(value, path) of the `prefix=value` folders directly under path."""
    return [
        (st.getPath().getName()[len(prefix) + 1 :], st.getPath())
        for st in fs.listStatus(path)
        if st.isDirectory() and st.getPath().getName().startswith(prefix + "=")
    ]


def state_uri(bookmark_path: str) -> str:
    return f"{bookmark_path}/listing.json"


def files_uri(bookmark_path: str) -> str:
    return f"{bookmark_path}/files"


def list_new_files(
    spark: SparkSession, raw_path: str, bookmark_path: str, lookback_hours: float, full: bool = False
) -> Listing:
    """Raw files absent from the bookmark or changed since (see the module doc)."""
    started = datetime.now(timezone.utc)
    fs, root = fs_path(spark, raw_path)
    if not fs.exists(root):
        return Listing(started, [], [], [], 0)
    state = None if full else read_json(spark, state_uri(bookmark_path))
    since = datetime.fromisoformat(state["listed_at"]) - timedelta(hours=lookback_hours) if state else None
    known = set(state["dates"]) if state else set()
    dates = _subfolders(fs, root, "event_date")
    folders: list[str] = []
    listed_dates = []
    for day, day_path in dates:
        if since is None or day not in known:
            folders.append(day_path.toString())
        elif day >= since.strftime("%Y-%m-%d"):
            first_hour = since.strftime("%H") if day == since.strftime("%Y-%m-%d") else "00"
            folders += [p.toString() for hour, p in _subfolders(fs, day_path, "event_hour") if hour >= first_hour]
        else:
            continue
        listed_dates.append(day)
    listed = _files_under(spark, folders)
    done = _bookmarked(spark, files_uri(bookmark_path), listed_dates)
    new = [f for f in listed if done.get(f.path) != (f.size, f.modification_time)]
    return Listing(started, new, sorted(d for d, _ in dates), sorted(listed_dates), len(listed))


def _bookmarked(spark: SparkSession, path: str, dates: list[str]) -> dict[str, tuple[int, int]]:
    if not dates or not DeltaTable.isDeltaTable(spark, path):
        return {}
    rows = spark.read.format("delta").load(path).filter(F.col("event_date").isin(dates))
    return {r["path"]: (r["size"], r["modification_time"]) for r in rows.select("path", "size", "modification_time").collect()}


def record_files(spark: SparkSession, bookmark_path: str, files: list[RawFile], run_id: str) -> None:
    """Adds (or updates) the files' entries, rewriting only the event dates they belong to."""
    if not files:
        return
    path = files_uri(bookmark_path)
    fresh = spark.createDataFrame(
        [(f.path, f.size, f.modification_time, f.event_date, run_id) for f in files], BOOKMARK_SCHEMA
    )
    dates = sorted({f.event_date for f in files})
    if not DeltaTable.isDeltaTable(spark, path):
        fresh.write.format("delta").partitionBy("event_date").save(path)
        return
    kept = (
        spark.read.format("delta")
        .load(path)
        .filter(F.col("event_date").isin(dates))
        .join(fresh.select("path"), "path", "left_anti")
    )
    in_list = ", ".join(f"'{d}'" for d in dates)
    (
        kept.unionByName(fresh)
        .repartition("event_date")
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"event_date IN ({in_list})")
        .save(path)
    )


def record_listing(spark: SparkSession, bookmark_path: str, listing: Listing) -> None:
    """The next run lists from this run's start minus the look-back."""
    write_json(spark, state_uri(bookmark_path), {"listed_at": listing.started.isoformat(), "dates": listing.dates})
