"""On AWS a run's OpenLineage events end in the lake's lineage prefix (lib/config/spark-jobs.ts sets
spark.lakehouse.lineage.uri): runtime.py copies the listener's file there when the job's process ends.
Run here in a process of its own, against the emulator, with the same setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]

JOB = """
import sys
sys.path.insert(0, {library!r})
from lakehouse_spark.runtime import spark_session
spark = spark_session("lineage-to-s3")
spark.range(3).write.mode("overwrite").parquet({output!r})
"""


def test_a_run_publishes_its_lineage_events_to_s3(aws_endpoint, tmp_path):
    bucket = f"lineage-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    output = f"s3://{bucket}/gold/numbers"
    env = {
        **os.environ,
        "LINEAGE_FILE": str(tmp_path / "events.jsonl"),
        "PYSPARK_SUBMIT_ARGS": f"--conf spark.lakehouse.lineage.uri=s3://{bucket}/spark/lineage pyspark-shell",
    }
    code = JOB.format(library=str(ROOT / "glue-scripts"), output=output)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300, capture_output=True)

    objects = s3.list_objects_v2(Bucket=bucket, Prefix="spark/lineage/").get("Contents", [])
    assert [o["Key"].endswith(".jsonl") for o in objects] == [True], objects
    body = s3.get_object(Bucket=bucket, Key=objects[0]["Key"])["Body"].read().decode()
    events = [json.loads(line) for line in body.splitlines() if line.strip()]
    outputs = {f"{d['namespace']}/{d['name']}" for e in events for d in e.get("outputs", [])}
    assert output in outputs, outputs
