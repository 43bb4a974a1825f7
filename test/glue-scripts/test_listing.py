"""Incremental listing of raw files: recent hours and unknown days only, a full listing on demand, and a
bookmark that stays one file per day."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from delta.tables import DeltaTable
from lakehouse_spark.listing import files_uri, list_new_files, record_files, record_listing

NOW = datetime.now(timezone.utc)


def touch(root, when: datetime, name: str) -> str:
    folder = root / f"event_date={when:%Y-%m-%d}" / f"event_hour={when:%H}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"x")
    return name


def names(files) -> set[str]:
    return {f.path.rsplit("/", 1)[1] for f in files}


def test_listing_prunes_by_event_hour_and_finds_unknown_days(spark, tmp_path):
    raw, bookmark = tmp_path / "raw", str(tmp_path / "bookmark")
    old, recent = NOW - timedelta(days=10), NOW - timedelta(hours=1)
    touch(raw, old, "a.parquet")
    touch(raw, recent, "b.parquet")
    first = list_new_files(spark, str(raw), bookmark, lookback_hours=2)
    assert names(first.new) == {"a.parquet", "b.parquet"}  # no bookmark yet: everything
    record_files(spark, bookmark, first.new, "run-1")
    record_listing(spark, bookmark, first)

    touch(raw, recent, "c.parquet")  # recent hour: found
    touch(raw, old, "late.parquet")  # an hour of a known day beyond the look-back: left to the full listing
    touch(raw, NOW - timedelta(days=20), "backfill.parquet")  # a day never seen: found
    second = list_new_files(spark, str(raw), bookmark, lookback_hours=2)
    assert names(second.new) == {"c.parquet", "backfill.parquet"}
    assert second.files_listed == 3  # b, c and backfill: the old day is not listed at all
    record_files(spark, bookmark, second.new, "run-2")
    record_listing(spark, bookmark, second)

    full = list_new_files(spark, str(raw), bookmark, lookback_hours=2, full=True)
    assert names(full.new) == {"late.parquet"}
    # One bookmark file per day, whatever the number of runs that recorded files of that day.
    detail = DeltaTable.forPath(spark, files_uri(bookmark)).detail().first()
    assert detail["numFiles"] == 3
