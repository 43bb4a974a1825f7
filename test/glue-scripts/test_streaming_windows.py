"""The streaming windows' micro-batch logic on Kafka-shaped DataFrames, against numpy computations of the same
records: values per window and group, duplicates counted once, late and unreadable records quarantined with
their reason, and a replayed batch (a new process, as after a crash) changing nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from lakehouse_spark.table_format import Delta
from lakehouse_spark.windows import WindowsBatch, late_records_table, window_state_table, windows_table

T0 = datetime(2026, 12, 7, 10, 0, 0)
KAFKA_SCHEMA = "topic string, partition int, offset long, timestamp timestamp, value binary"


class Topic:
    """Appends records to one partition of a dataset's topic, offsets counting up."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.offset = 0

    def rows(self, records: list[dict], kafka_time: datetime | None = None) -> list[tuple]:
        out = []
        for r in records:
            t = kafka_time or datetime.fromisoformat(r["timestamp"].rstrip("Z"))
            out.append((self.name, 0, self.offset, t, json.dumps(r).encode()))
            self.offset += 1
        return out


def iot(event_id: str, at: datetime, value: float, device_type: str = "thermometer") -> dict:
    return {
        "event_id": event_id,
        "device_id": "dev-1",
        "device_type": device_type,
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "value": value,
        "status": "ok",
    }


@pytest.fixture()
def job(spark, datasets, bucket):
    def make(fmt=None):
        base = f"s3://{bucket}"
        return WindowsBatch(
            spark,
            fmt or Delta(spark),
            {"iot_sensor_events": datasets["iot_sensor_events"]},
            gold_uri=f"{base}/gold",
            quarantine_uri=f"{base}/quarantine/curated",
            state_uri=f"{base}/state",
            watermark=timedelta(minutes=10),
        )

    return make


def batch(spark, rows):
    return spark.createDataFrame(rows, KAFKA_SCHEMA)


def windows(spark, job) -> dict:
    rows = job.fmt.read(job.windows).collect()
    return {(r["window_start"], json.loads(r["group_key"])["device_type"]): r for r in rows}


def expected(values: list[float]) -> dict:
    x = np.array(values)
    kept = x if len(x) < 2 else x[np.abs(x - x.mean()) <= 3 * x.std(ddof=1)]
    return {
        "record_count": len(x),
        "sum": x.sum(),
        "mean": x.mean(),
        "p95": np.percentile(kept, 95),
        "outliers_removed": len(x) - len(kept),
    }


def assert_window(row, values):
    want = expected(values)
    assert row["record_count"] == want["record_count"]
    assert row["outliers_removed"] == want["outliers_removed"]
    for k in ("sum", "mean", "p95"):
        assert row[k] == pytest.approx(want[k], rel=1e-12), k


@pytest.mark.parametrize("table_format", ["delta", "iceberg"])
def test_window_values_equal_numpy_over_the_same_records(spark, job, table_format, catalog_database):
    from lakehouse_spark.table_format import table_format as format_of

    run = job(format_of(spark, table_format, catalog_database))
    rng = np.random.default_rng(7)
    topic = Topic("raw_iot_sensor_events")
    sent: dict[tuple, list[float]] = {}
    records = []
    for i in range(300):
        at = T0 + timedelta(seconds=float(rng.uniform(0, 180)))
        kind = ["thermometer", "hygrometer"][i % 2]
        value = float(np.round(rng.normal(20, 2), 3)) if i != 17 else 5_000.0  # one outlier
        records.append(iot(f"e-{i}", at, value, kind))
        sent.setdefault((at.replace(second=0, microsecond=0), kind), []).append(value)
    first, second = records[:150], records[150:]
    r1 = run.process(batch(spark, topic.rows(first)), 0)
    r2 = run.process(batch(spark, topic.rows(second)), 1)
    assert (r1.on_time + r2.on_time, r1.late + r2.late, r1.duplicates + r2.duplicates) == (300, 0, 0)
    got = windows(spark, run)
    assert set(got) == set(sent)
    for key, values in sent.items():
        assert_window(got[key], values)
    assert got[next(k for k, v in sent.items() if 5_000.0 in v)]["outliers_removed"] >= 1
    assert all(r["window_end"] - r["window_start"] == timedelta(minutes=1) for r in got.values())


def test_a_duplicate_within_the_watermark_counts_once(spark, job):
    run = job()
    topic = Topic("raw_iot_sensor_events")
    a, b = iot("e-1", T0, 10.0), iot("e-2", T0 + timedelta(seconds=5), 30.0)
    r1 = run.process(batch(spark, topic.rows([a, b, a])), 0)  # again within the batch
    r2 = run.process(batch(spark, topic.rows([b])), 1)  # and in a later batch
    assert (r1.on_time, r1.duplicates, r2.on_time, r2.duplicates) == (2, 1, 0, 1)
    (row,) = windows(spark, run).values()
    assert_window(row, [10.0, 30.0])
    assert Delta(spark).read(window_state_table(run.state.zone_uri)).count() == 2


def test_a_late_record_is_quarantined_with_the_reason_and_changes_no_window(spark, job):
    run = job()
    topic = Topic("raw_iot_sensor_events")
    run.process(batch(spark, topic.rows([iot("e-1", T0 + timedelta(minutes=30), 1.0)])), 0)
    late = iot("e-2", T0 + timedelta(minutes=19), 2.0)  # 11 minutes behind the newest: beyond 10
    on_time = iot("e-3", T0 + timedelta(minutes=21), 3.0)
    result = run.process(batch(spark, topic.rows([late, on_time], kafka_time=T0 + timedelta(minutes=31))), 1)
    assert (result.late, result.on_time) == (1, 1)
    (row,) = run.fmt.read(run.late).collect()
    assert row["record_id"] == "e-2" and row["dataset"] == "iot_sensor_events"
    assert row["reason"].startswith("late: event time 2026-12-07T10:19:00.000000Z is before the watermark")
    assert row["reason"].endswith("2026-12-07T10:20:00.000000Z")
    assert json.loads(row["value"])["value"] == 2.0
    assert {k[0].minute for k in windows(spark, run)} == {30, 21}


def test_garbage_and_future_records_are_quarantined_never_dropped(spark, job):
    run = job()
    topic = Topic("raw_iot_sensor_events")
    rows = [
        ("raw_iot_sensor_events", 0, 0, T0, b"not json"),
        ("raw_iot_sensor_events", 0, 1, T0, json.dumps({**iot("e-1", T0, 1.0), "value": "n/a"}).encode()),
        ("raw_iot_sensor_events", 0, 2, T0, json.dumps(iot("e-2", T0 + timedelta(hours=2), 1.0)).encode()),
    ]
    topic.offset = 3
    result = run.process(batch(spark, rows + topic.rows([iot("e-3", T0, 4.0)])), 0)
    assert (result.unreadable, result.late, result.on_time) == (2, 1, 1)
    reasons = {r["offset"]: r["reason"] for r in run.fmt.read(run.late).collect()}
    assert reasons[0].startswith("unreadable: no event_id, no valid timestamp, no numeric value")
    assert reasons[1] == "unreadable: no numeric value"
    assert reasons[2].startswith("future: event time 2026-12-07T12:00:00.000000Z is more than 300 s")


def test_a_replayed_batch_in_a_new_process_changes_nothing(spark, job):
    topic = Topic("raw_iot_sensor_events")
    first = batch(spark, topic.rows([iot(f"e-{i}", T0 + timedelta(seconds=i), float(i)) for i in range(20)]))
    late = iot("old", T0 - timedelta(minutes=30), 9.0)
    second_rows = topic.rows([late] + [iot(f"f-{i}", T0 + timedelta(seconds=30 + i), float(i)) for i in range(20)])
    run = job()
    run.process(first, 0)
    run.process(batch(spark, second_rows), 1)
    before = {k: r.asDict() for k, r in windows(spark, run).items()}
    # A new process replays batch 1 (Spark does after a crash between its writes and the commit).
    again = job()
    result = again.process(batch(spark, second_rows), 1)
    assert (result.on_time, result.duplicates, result.late) == (20, 0, 1)
    after = {k: r.asDict() for k, r in windows(spark, again).items()}
    assert {k: {**v, "updated_at": None} for k, v in after.items()} == {
        k: {**v, "updated_at": None} for k, v in before.items()
    }
    assert again.fmt.read(again.late).count() == 1
    assert Delta(spark).read(again.state).count() == 40

