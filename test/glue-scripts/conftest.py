"""Shared fixtures of the Spark tests: one local SparkSession per pytest session (Delta + s3a jars from
.cache/spark-jars) talking to the AWS emulator named by AWS_ENDPOINT_URL. scripts/test.sh exports it;
when pytest runs alone, a moto server from the project venv is started on a free port for the session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "glue-scripts"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"moto did not answer on {url}")


@pytest.fixture(scope="session")
def aws_endpoint():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
    if os.environ.get("AWS_ENDPOINT_URL"):
        yield os.environ["AWS_ENDPOINT_URL"]
        return
    port = _free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(endpoint + "/", proc)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        yield endpoint
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def spark(aws_endpoint, tmp_path_factory):
    from lakehouse_spark.runtime import spark_session

    # The session's OpenLineage events (test_lineage.py reads them), away from the developer's own.
    os.environ["LINEAGE_FILE"] = str(tmp_path_factory.mktemp("lineage") / "events.jsonl")
    session = spark_session("lakehouse-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture()
def bucket(aws_endpoint):
    """A fresh, uniquely named bucket in the emulator."""
    import boto3

    name = f"spark-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def datasets():
    """The registry's datasets as the jobs load them (financial_transactions, insurance_claims, ...)."""
    import json

    from lakehouse_spark.registry import LOCAL_SCHEMA_DIR, parse_dataset

    return {
        p.name.removesuffix(".schema.json"): parse_dataset(json.loads(p.read_text()))
        for p in LOCAL_SCHEMA_DIR.glob("*.schema.json")
    }


@pytest.fixture()
def lake(spark, aws_endpoint):
    """Fresh raw and lake buckets with the jobs' arguments for them (pipeline_support.make_lake)."""
    from pipeline_support import make_lake

    return make_lake()


CATALOG_DATABASE = "lakehouse_test"


@pytest.fixture(scope="session")
def catalog_database(aws_endpoint):
    """The Glue database (in the emulator) of the Iceberg tables, as CDK's on AWS."""
    import boto3

    glue = boto3.client("glue")
    if CATALOG_DATABASE not in {d["Name"] for d in glue.get_databases()["DatabaseList"]}:
        glue.create_database(DatabaseInput={"Name": CATALOG_DATABASE})
    return CATALOG_DATABASE


@pytest.fixture(params=["delta", "iceberg"])
def fmt(request, spark, catalog_database):
    """Each table-format test runs once per format."""
    from lakehouse_spark.table_format import table_format

    return table_format(spark, request.param, catalog_database)


@pytest.fixture(scope="session")
def pyiceberg_catalog(aws_endpoint, catalog_database):
    """A reader of the Iceberg tables that is not Spark: pyiceberg, through the emulator's Glue and S3."""
    from pyiceberg.catalog import load_catalog

    region = os.environ["AWS_REGION"]
    creds = {"access-key-id": os.environ["AWS_ACCESS_KEY_ID"], "secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"]}
    return load_catalog(
        "glue",
        type="glue",
        **{f"glue.{k}": v for k, v in {"endpoint": aws_endpoint, "region": region, **creds}.items()},
        **{f"s3.{k}": v for k, v in {"endpoint": aws_endpoint, "region": region, **creds}.items()},
    )


@pytest.fixture(scope="session")
def kafka_brokers(tmp_path_factory):
    """The real Kafka broker: scripts/test.sh's (KAFKA_BROKERS), or one started for the session by the
    project's services CLI on a free port when pytest runs alone."""
    if os.environ.get("KAFKA_BROKERS"):
        yield os.environ["KAFKA_BROKERS"]
        return
    folder = tmp_path_factory.mktemp("kafka")
    cli = ["npx", "tsx", "localstack/services/cli.ts"]
    out = subprocess.run(
        [*cli, "start", "--dir", str(folder), "--kafka-port", "free", "--aws-port", "free", "--emulator", "moto",
         "--owner", str(os.getpid()), "--fresh", "--print-env"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    brokers = next(line.split("=", 1)[1].strip("'\"") for line in out.splitlines() if "KAFKA_BROKERS=" in line)
    try:
        yield brokers
    finally:
        subprocess.run([*cli, "stop", "--dir", str(folder)], cwd=ROOT, check=False, capture_output=True)
