"""The streaming windows job itself (glue-scripts/streaming_windows.py) on the real Kafka broker: killed
mid-stream with SIGKILL and restarted from its checkpoint, it neither loses nor doubles a record, and its
windows equal numpy's over the records sent; the late record is in quarantine with its reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import numpy as np
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from lakehouse_spark.registry import LOCAL_SCHEMA_DIR
from lakehouse_spark.table_format import Delta
from lakehouse_spark.windows import late_records_table, window_state_table, windows_table

ROOT = Path(__file__).resolve().parents[2]
JOB = ROOT / "glue-scripts" / "streaming_windows.py"


def status(bucket: str) -> dict | None:
    try:
        body = boto3.client("s3").get_object(Bucket=bucket, Key="state/streaming_windows/status.json")["Body"]
    except boto3.client("s3").exceptions.NoSuchKey:
        return None
    return json.loads(body.read())


def wait_for(predicate, what: str, proc: subprocess.Popen | None = None, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the job exited with {proc.returncode} before {what}")
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def reading(i: int, at: datetime, rng) -> dict:
    return {
        "event_id": f"r-{i}",
        "device_id": f"dev-{i % 7}",
        "device_type": ["thermometer", "hygrometer", "flow"][i % 3],
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "value": float(np.round(rng.normal(50, 5), 3)),
        "status": "ok",
    }


@pytest.fixture()
def topic(kafka_brokers, tmp_path):
    """A fresh two-partition topic, and a schema folder whose iot_sensor_events streams from it."""
    name = f"stream_test_{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": kafka_brokers})
    admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])[name].result(timeout=30)
    schema = json.loads((LOCAL_SCHEMA_DIR / "iot_sensor_events.schema.json").read_text())
    (tmp_path / "iot_sensor_events.schema.json").write_text(json.dumps({**schema, "x-topic": name}))
    yield name, str(tmp_path)
    admin.delete_topics([name])


def test_killed_mid_stream_and_restarted_it_neither_loses_nor_doubles(spark, kafka_brokers, bucket, topic):
    name, schema_dir = topic
    producer = Producer({"bootstrap.servers": kafka_brokers, "enable.idempotence": True, "acks": "all"})
    rng = np.random.default_rng(11)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    sent: dict[str, dict] = {}

    def send(records):
        for r in records:
            producer.produce(name, key=r["event_id"], value=json.dumps(r))
        assert producer.flush(30) == 0

    first = [reading(i, now - timedelta(seconds=120 - i * 0.1), rng) for i in range(600)]
    send(first + first[:30])  # 30 duplicates of records in the same stream
    sent.update({r["event_id"]: r for r in first})

    base = f"s3://{bucket}"
    args = [
        sys.executable, str(JOB), "--datasets", "iot_sensor_events", "--schema_uri", schema_dir,
        "--kafka_bootstrap_servers", kafka_brokers, "--gold_uri", f"{base}/gold",
        "--quarantine_uri", f"{base}/quarantine/curated", "--state_uri", f"{base}/state",
        "--trigger_seconds", "1", "--max_offsets_per_trigger", "100",
    ]
    logs = open(os.devnull, "w")
    job = subprocess.Popen(args, cwd=ROOT, stdout=logs, stderr=logs)
    try:
        wait_for(lambda: (s := status(bucket)) and s["batch_id"] >= 1, "its second batch", job)
    finally:
        job.send_signal(signal.SIGKILL)
        job.wait()
    killed_at = status(bucket)["batch_id"]

    later = [reading(i, now + timedelta(seconds=(i - 600) * 0.1), rng) for i in range(600, 800)]
    late = {**reading(999, now - timedelta(minutes=30), rng), "event_id": "late-1"}
    send(later + first[100:110] + [late])
    sent.update({r["event_id"]: r for r in later})

    started = time.monotonic()
    again = subprocess.run([*args, "--available_now", "true"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    print(f"killed after batch {killed_at}; the restart caught up in {time.monotonic() - started:.1f} s")

    state = Delta(spark).read(window_state_table(f"{base}/state"))
    assert state.count() == len(sent) == state.select("record_id").distinct().count()
    (quarantined,) = Delta(spark).read(late_records_table(f"{base}/quarantine/curated")).collect()
    assert quarantined["record_id"] == "late-1" and quarantined["reason"].startswith("late: event time")

    expected: dict[tuple, list[float]] = {}
    for r in sent.values():
        at = datetime.fromisoformat(r["timestamp"].rstrip("Z")).replace(second=0, microsecond=0)
        expected.setdefault((at, r["device_type"]), []).append(r["value"])
    rows = Delta(spark).read(windows_table(f"{base}/gold")).collect()
    got = {(r["window_start"], json.loads(r["group_key"])["device_type"]): r for r in rows}
    assert set(got) == set(expected)
    for key, values in expected.items():
        x = np.array(values)
        assert got[key]["record_count"] == len(x)
        assert got[key]["sum"] == pytest.approx(x.sum(), rel=1e-12)
        assert got[key]["mean"] == pytest.approx(x.mean(), rel=1e-12)
