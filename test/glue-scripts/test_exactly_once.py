"""Exactly once by Kafka coordinates: whatever the sink's batch cuts, each (topic, partition, offset) reaches
curated and the curated quarantine at most once, and curated keeps the last update by partition offset."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from pipeline_support import INGEST, Messages, raw_to_curated, run_job, run_summary, sink, txn, version

MIDNIGHT = datetime(2024, 1, 16, 0, 0, tzinfo=timezone.utc)


def coordinates(spark, path: str) -> Counter:
    rows = spark.read.format("delta").load(path).select("_kafka_topic", "_kafka_partition", "_kafka_offset").collect()
    return Counter(tuple(r) for r in rows)


def test_rewind_with_other_batch_cuts_over_hours_and_days(spark, lake, tmp_path, monkeypatch):
    msgs = Messages(first_offset=100)
    for i in range(100):  # offsets 100..199, alternately before midnight of day 1 and after (hours 22 to 01)
        when = MIDNIGHT + timedelta(minutes=i if i % 2 else -(i + 1))
        if i in (20, 60):  # offsets 120 and 160: quarantined by the curated rules
            msgs.add(txn(f"bad-{i}", when, 1.0, transaction_type="teleport"))
        elif i == 30:  # offset 130: first update of `upd`, ingested by a Lambda whose clock runs ahead
            msgs.add(txn("upd", when, 1.0), ingest=INGEST + timedelta(seconds=5))
        elif i == 70:  # offset 170: the later update, with an earlier ingest time
            msgs.add(txn("upd", when, 2.0), ingest=INGEST)
        else:
            msgs.add(txn(f"t-{i}", when, 10.0 + i))
    messages = msgs.take()
    # Batches [100..149] and [150..199], then the group rewound and redelivered [100..199] in one batch:
    # file +100 of each hour is rewritten with more rows, the +150 files stay.
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], messages, batch=50)
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], messages, batch=100)

    run_job(raw_to_curated, [*lake["args"], "--run_id=run-1"], monkeypatch)
    summary = run_summary(lake, "run-1")
    assert summary["rows_new"] == 100 and summary["rows_redelivered"] == summary["rows_read"] - 100 > 0
    assert (summary["rows_quarantined"], summary["rows_valid"]) == (2, 98)
    curated, quarantined = coordinates(spark, lake["curated"]), coordinates(spark, lake["quarantine"])
    assert max(curated.values()) == 1 and max(quarantined.values()) == 1
    assert not set(curated) & set(quarantined)
    assert sorted(o for _, _, o in quarantined) == [120, 160]
    upd = spark.read.format("delta").load(lake["curated"]).filter("transaction_id = 'upd'").first()
    assert (upd["_kafka_offset"], float(upd["amount"])) == (170, 2.0)

    # Another rewind, cut in batches of 30 from offset 120: every coordinate was taken in already.
    versions = (version(spark, lake["curated"]), version(spark, lake["quarantine"]))
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], messages[20:], batch=30)
    run_job(raw_to_curated, [*lake["args"], "--run_id=run-2"], monkeypatch)
    summary = run_summary(lake, "run-2")
    assert summary["rows_read"] > 0 and summary["rows_new"] == 0
    assert (version(spark, lake["curated"]), version(spark, lake["quarantine"])) == versions

    # A later update in a later run, again with an earlier ingest clock: the offset decides.
    msgs.add(txn("upd", MIDNIGHT, 3.0), ingest=INGEST - timedelta(seconds=5))
    sink(tmp_path, lake["raw_bucket"], lake["quarantine_bucket"], msgs.take())
    run_job(raw_to_curated, [*lake["args"], "--run_id=run-3"], monkeypatch)
    assert run_summary(lake, "run-3")["rows_updated"] == 1
    upd = spark.read.format("delta").load(lake["curated"]).filter("transaction_id = 'upd'").first()
    assert (upd["_kafka_offset"], float(upd["amount"])) == (200, 3.0)
    assert max(coordinates(spark, lake["curated"]).values()) == 1
    assert max(coordinates(spark, lake["quarantine"]).values()) == 1
