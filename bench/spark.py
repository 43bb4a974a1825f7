"""`npm run bench:spark`: rows/s of raw_to_curated (list, read, quality rules, dedup, MERGE, quarantine,
bookmark) in local[2] for 100k and 1M financial transactions, with the seconds of each step. Goal: >= 100k rows/s.
`npm run bench:spark -- --table-format iceberg [rows ...]`: the same into Iceberg tables (a Glue catalog in a
moto server the bench starts; data files on the local file system like Delta's). After each run the curated
table is compacted and its files per partition printed before and after.
`npm run bench:spark -- --listing [files]`: the cost of finding new raw files among 100,000 (default) small
files on the local file system, incremental (the job's default) against a full listing.

Raw Parquet is generated with pyarrow in the raw-zone layout and schema (x-raw-columns of the generated
JSON schema), in files of 10k rows like sink batches, with 1% duplicate deliveries and 0.05% rows the
curated rules reject. The lake lives on the local file system, so the figure is Spark's, not the
emulator's; JVM start and data generation are not timed.
Usage: bench/spark.py [--table-format delta|iceberg] [rows ...] | --listing [files]
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "glue-scripts"))

from lakehouse_spark.curate import run_raw_to_curated  # noqa: E402
from lakehouse_spark.runs import Paths  # noqa: E402
from lakehouse_spark.listing import list_new_files, record_files, record_listing  # noqa: E402
from lakehouse_spark.registry import LOCAL_SCHEMA_DIR, Dataset, load_dataset  # noqa: E402
from lakehouse_spark.runtime import spark_session  # noqa: E402
from lakehouse_spark.table_format import TableFormat, table_format  # noqa: E402
from lakehouse_spark.table_format.iceberg import ICEBERG_CATALOG  # noqa: E402
from lakehouse_spark.tables import Table, curated_table, quarantine_table, unreadable_files_table  # noqa: E402

DATASET = "financial_transactions"
FILE_ROWS = 10_000
ARROW_TYPES = {
    "string": pa.string(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "int32": pa.int32(),
    "int64": pa.int64(),
}


def raw_columns(ds: Dataset, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Column values for n rows: every field of the dataset by kind, then the metadata columns."""
    start = np.datetime64("2024-01-15T00:00:00", "us")
    event = start + rng.integers(0, 86_400_000_000, n).astype("timedelta64[us]")
    ids = np.array([f"txn-{i:09d}" for i in range(n)], dtype=object)
    dup = rng.random(n) < 0.01  # redelivered: same id as an earlier row, later offset
    ids[dup] = ids[rng.integers(0, n, dup.sum())]
    cols: dict[str, np.ndarray] = {}
    for f in ds.fields:
        if f.name == ds.id_field:
            cols[f.name] = ids
        elif f.kind in ("timestamp", "date_or_timestamp"):
            cols[f.name] = event
        elif f.kind in ("money", "number"):
            cols[f.name] = np.round(rng.gamma(2.0, 40.0, n), 2)
        elif f.kind == "currency":
            cols[f.name] = rng.choice(np.array(["usd", "EUR", "gbp", "JPY"], dtype=object), n)
        elif f.known_values:
            cols[f.name] = rng.choice(np.array(f.known_values, dtype=object), n)
        else:
            cols[f.name] = np.array([f"{f.name}-{k}" for k in rng.integers(0, 5_000, n)], dtype=object)
    bad = rng.random(n) < 0.0005
    money = next(f.name for f in ds.fields if f.kind == "money")
    cols[money][bad] = 1.23456  # does not fit DECIMAL(18,4)
    cols["_ingest_time"] = event + np.timedelta64(2, "s")
    cols["_request_id"] = np.array([f"req-{i}" for i in range(n)], dtype=object)
    cols["_schema_version"] = np.full(n, ds.schema_version, dtype=np.int32)
    cols["_kafka_topic"] = np.full(n, f"raw_{ds.name}", dtype=object)
    cols["_kafka_partition"] = np.zeros(n, dtype=np.int32)
    cols["_kafka_offset"] = np.arange(n, dtype=np.int64)
    cols["_kafka_timestamp"] = cols["_ingest_time"]
    return cols


def write_raw(ds: Dataset, n: int, raw_dir: Path) -> None:
    cols = raw_columns(ds, n, np.random.default_rng(42))
    schema = pa.schema([(name, ARROW_TYPES[t], nullable) for name, t, nullable, _ in ds.raw_columns])
    table = pa.table({name: cols[name] for name in schema.names}, schema=schema)
    hours = cols[ds.event_time_field].astype("datetime64[h]").astype(np.int64) % 24
    order = np.argsort(hours, kind="stable")
    table, hours = table.take(order), hours[order]
    for h in np.unique(hours):
        part = table.filter(pa.array(hours == h))
        folder = raw_dir / ds.name / "event_date=2024-01-15" / f"event_hour={h:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(0, part.num_rows, FILE_ROWS):
            pq.write_table(part.slice(i, FILE_ROWS), folder / f"raw_{ds.name}+0+{i:019d}.parquet")


def local_paths(work: Path, ds: Dataset) -> Paths:
    return Paths(
        raw=str(work / "raw" / ds.name),
        curated=curated_table(str(work / "curated"), ds.name),
        quarantine=quarantine_table(str(work / "quarantine"), ds.name),
        unreadable_files=unreadable_files_table(str(work / "quarantine"), ds.name),
        bookmark=str(work / "state" / ds.name),
        gate_marker=str(work / "state" / "blocked.json"),
    )


def files_per_partition(fmt: TableFormat, t: Table) -> float:
    counts = fmt.files_per_partition(t)
    return sum(counts.values()) / len(counts)


def bench(spark, fmt: TableFormat, ds: Dataset, n: int) -> float:
    work = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    try:
        write_raw(ds, n, work / "raw")
        paths = local_paths(work, ds)
        t0 = time.perf_counter()
        m = run_raw_to_curated(spark, ds, paths, run_id="bench", fmt=fmt)
        seconds = time.perf_counter() - t0
        assert m.rows_read == n, m
        print(
            f"raw_to_curated {n:>9,} rows: {seconds:6.1f} s  {n / seconds:>9,.0f} rows/s  "
            f"({m.files} files, {m.rows_inserted:,} curated, {m.rows_superseded:,} superseded, "
            f"{m.rows_quarantined:,} quarantined)  load {load()}",
            flush=True,
        )
        print("    seconds per step: " + ", ".join(f"{k} {v:.1f}" for k, v in m.seconds.items()), flush=True)
        before = files_per_partition(fmt, paths.curated)
        t0 = time.perf_counter()
        fmt.compact(paths.curated, [ds.id_field])
        print(
            f"    curated files per partition: {before:.0f}, after compaction ({time.perf_counter() - t0:.1f} s) "
            f"{files_per_partition(fmt, paths.curated):.0f}",
            flush=True,
        )
        return n / seconds
    finally:
        if fmt.name == "iceberg":  # the next run makes tables of the same names
            for t in (paths.curated, paths.quarantine, paths.unreadable_files):
                spark.sql(f"DROP TABLE IF EXISTS {fmt.ident(t)}")
        shutil.rmtree(work, ignore_errors=True)


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    print(f"{label}: {time.perf_counter() - t0:6.2f} s  load {load()}", flush=True)
    return result


def bench_listing(spark, n: int) -> None:
    """n raw files over the last days (60 per hour), then 100 new ones in the current hour."""
    work = Path(tempfile.mkdtemp(prefix="bench-listing-"))
    raw, bookmark = work / "raw", str(work / "bookmark")
    now = datetime.now(timezone.utc)
    per_hour = 60
    try:
        for i in range(n):
            hour = now - timedelta(hours=1 + i // per_hour)
            folder = raw / f"event_date={hour:%Y-%m-%d}" / f"event_hour={hour:%H}"
            if i % per_hour == 0:
                folder.mkdir(parents=True, exist_ok=True)
            (folder / f"raw_x+0+{i:019d}.parquet").write_bytes(b"PAR1")
        print(f"{n:,} raw files over {n // per_hour // 24} days; load {load()}")
        first = timed("first listing (no bookmark)", lambda: list_new_files(spark, str(raw), bookmark, 48))
        timed(f"bookmark {len(first.new):,} files", lambda: record_files(spark, bookmark, first.new, "r1"))
        record_listing(spark, bookmark, first)
        folder = raw / f"event_date={now:%Y-%m-%d}" / f"event_hour={now:%H}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(100):
            (folder / f"raw_x+0+{n + i:019d}.parquet").write_bytes(b"PAR1")
        for label, full in (("full listing", True), ("incremental listing (48 h look-back)", False)):
            found = timed(label, lambda full=full: list_new_files(spark, str(raw), bookmark, 48, full))
            print(f"    listed {found.files_listed:,} files, {len(found.new)} new")
        timed("bookmark the 100 new files", lambda: record_files(spark, bookmark, found.new, "r2"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_glue_emulator() -> subprocess.Popen:
    """A moto server for the Iceberg tables' Glue catalog (S3 is not used: data stays on the local disk)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ |= {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    import boto3

    deadline = time.monotonic() + 30
    while True:
        try:
            boto3.client("glue").create_database(DatabaseInput={"Name": "bench"})
            return proc
        except Exception:  # noqa: BLE001  (not up yet)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    os.environ.setdefault("LAKEHOUSE_SPARK_RUNS", "large")  # a million rows: C2 and whole-stage code pay off
    args = sys.argv[1:]
    fmt_name = "delta"
    if args[:1] == ["--table-format"]:
        fmt_name, args = args[1], args[2:]
    moto = start_glue_emulator() if fmt_name == "iceberg" else None
    started = time.perf_counter()
    spark = spark_session("bench-spark")
    session_seconds = time.perf_counter() - started
    # Iceberg's data files on the local disk, like Delta's (the catalog is read when first used).
    spark.conf.set(f"spark.sql.catalog.{ICEBERG_CATALOG}.io-impl", "org.apache.iceberg.hadoop.HadoopFileIO")
    spark.sparkContext.setLogLevel("ERROR")
    if args[:1] == ["--listing"]:
        bench_listing(spark, int(args[1]) if len(args) > 1 else 100_000)
        spark.stop()
        return
    sizes = [int(a) for a in args] or [100_000, 1_000_000]
    fmt = table_format(spark, fmt_name, "bench")
    ds = load_dataset(spark, DATASET, str(LOCAL_SCHEMA_DIR))
    print(
        f"local Spark {spark.version}, master {spark.sparkContext.master}, {fmt.name} tables, session started in "
        f"{session_seconds:.1f} s; warming up on 20,000 rows"
    )
    bench(spark, fmt, ds, 20_000)
    rates = [bench(spark, fmt, ds, n) for n in sizes]
    print(f"goal >= 100,000 rows/s: {'met' if min(rates) >= 100_000 else 'NOT met'} (shared machine: figures are noisy)")
    spark.stop()
    if moto:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
