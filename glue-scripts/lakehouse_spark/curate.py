"""raw -> curated: schema enforcement, normalisation, data-quality rules, deduplication and the Delta MERGE.

Incrementality: a bookmark (a small Delta table in the scripts bucket) lists every raw file processed, with
its size and modification time. A run lists the raw prefix, reads only files absent from the bookmark or
changed since (the sink overwrites a file under the same name when Kafka redelivers a batch, possibly with
more rows), writes curated and quarantine, and records the files in the bookmark last. Every write is
idempotent (curated MERGE replaces a row only with a strictly newer version; quarantine MERGE is
insert-only, keyed by Kafka coordinates), so a run that failed before its bookmark commit can simply be
rerun; a run that finds nothing new commits nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from .registry import Dataset

REASONS = "_dq_reasons"
FAILED = "_dq_failed"
SOURCE_FILE = "_source_file"
EVENT_DATE = "event_date"
TIME_KINDS = ("timestamp", "date_or_timestamp")


def normalise(df: DataFrame, ds: Dataset) -> DataFrame:
    """Currency codes upper-case, enumeration values trimmed and lower-case (the known values are), so
    that `usd` and ` Debit` are curated as `USD` and `debit`. Timestamps are UTC instants already (the
    raw zone stores them adjusted to UTC, and the session time zone is UTC)."""
    for f in ds.fields:
        if f.kind == "currency":
            df = df.withColumn(f.name, F.upper(F.trim(F.col(f.name))))
        elif f.known_values is not None:
            df = df.withColumn(f.name, F.lower(F.trim(F.col(f.name))))
    return df


def fits_decimal(c: Column, precision: int, scale: int) -> Column:
    """True when the double has a decimal form with at most `scale` fractional digits that fits
    DECIMAL(precision, scale): converting to the decimal and back gives the very same double (no rounding,
    no overflow — an overflowing cast yields null)."""
    as_decimal = c.cast(f"decimal({precision},{scale})")
    return as_decimal.isNotNull() & (as_decimal.cast("double") == c)


def quality_checks(ds: Dataset, future_tolerance_minutes: int) -> list[tuple[Column, str]]:
    """(failure condition, human-readable reason) for every rule the dataset definition implies. "Future"
    is judged against the row's own ingest time (plus a clock-skew tolerance), so that a rerun judges the
    same row the same way."""
    checks: list[tuple[Column, str]] = []
    horizon = F.col("_ingest_time") + F.expr(f"INTERVAL {int(future_tolerance_minutes)} MINUTES")
    for name in ds.required_metadata_columns:
        checks.append((F.col(name).isNull(), f"{name}: required"))
    for f in ds.fields:
        c = F.col(f.name)
        if f.required:
            checks.append((c.isNull(), f"{f.name}: required"))
        if f.min_length is not None:
            checks.append((F.length(c) < f.min_length, f"{f.name}: shorter than {f.min_length}"))
        if f.minimum is not None:
            checks.append((c < F.lit(f.minimum), f"{f.name}: less than {f.minimum}"))
        if f.known_values is not None:
            checks.append((~c.isin(*f.known_values), f"{f.name}: not one of {', '.join(f.known_values)}"))
        if f.kind == "currency":
            checks.append((~c.isin(*ds.currency_codes), f"{f.name}: not an ISO 4217 currency code"))
        if f.kind in ("number", "money"):
            checks.append((F.isnan(c) | c.isin(float("inf"), float("-inf")), f"{f.name}: not finite"))
        if f.kind == "money":
            precision, scale = ds.money_precision, ds.money_scale
            checks.append(
                (~fits_decimal(c, precision, scale), f"{f.name}: does not fit DECIMAL({precision},{scale})")
            )
        if f.kind in TIME_KINDS:
            checks.append((c > horizon, f"{f.name}: in the future"))
    # A null comparison is unknown, not a failure: the `required` rule covers missing values.
    return [(F.coalesce(cond, F.lit(False)), msg) for cond, msg in checks]


def with_quality(df: DataFrame, ds: Dataset, future_tolerance_minutes: int) -> DataFrame:
    """Normalised rows flagged `_dq_failed` when any rule fails (one plain boolean expression, cheap for
    the good rows; the reasons are spelled out for the failed rows only, in split_quality)."""
    checks = quality_checks(ds, future_tolerance_minutes)
    failed = reduce(lambda a, b: a | b, [cond for cond, _ in checks])
    return normalise(df, ds).withColumn(FAILED, failed)


def split_quality(checked: DataFrame, ds: Dataset, future_tolerance_minutes: int) -> tuple[DataFrame, DataFrame]:
    """(valid rows, rejected rows with their `_dq_reasons`)."""
    checks = quality_checks(ds, future_tolerance_minutes)
    reasons = F.array_compact(F.array(*[F.when(cond, F.lit(msg)) for cond, msg in checks]))
    return (
        checked.filter(~F.col(FAILED)).drop(FAILED),
        checked.filter(F.col(FAILED)).withColumn(REASONS, reasons).drop(FAILED),
    )


def latest_per_id(df: DataFrame, ds: Dataset) -> DataFrame:
    """One row per record id: the latest ingest wins, then the highest Kafka offset (a record id is the
    Kafka key, so all its versions are in one partition and offsets order them)."""
    w = Window.partitionBy(ds.id_field).orderBy(
        F.col("_ingest_time").desc(), F.col("_kafka_offset").desc(), F.col("_kafka_partition").desc()
    )
    return df.withColumn("_rank", F.row_number().over(w)).filter("_rank = 1").drop("_rank")


def to_curated(df: DataFrame, ds: Dataset) -> DataFrame:
    """Curated columns: the record fields (money as DECIMAL), the metadata columns, the raw file the row
    came from, and the UTC event date the table is partitioned by."""
    cols = [
        F.col(f.name).cast(ds.money_type()).alias(f.name) if f.kind == "money" else F.col(f.name)
        for f in ds.fields
    ]
    cols += [F.col(c) for c in ds.metadata_columns] + [F.col(SOURCE_FILE)]
    cols.append(F.to_date(F.col(ds.event_time_field)).alias(EVENT_DATE))
    return df.select(*cols)


CDF = {"delta.enableChangeDataFeed": "true"}  # curated_to_gold follows curated tables through their change feed


def _ensure_table(spark: SparkSession, path: str, df: DataFrame) -> DeltaTable:
    return DeltaTable.createIfNotExists(spark).location(path).addColumns(df.schema).execute()


def merge_curated(spark: SparkSession, rows: DataFrame, path: str, ds: Dataset) -> dict[str, int]:
    """Upsert by record id; an existing row is replaced only by a strictly newer version (later ingest,
    or same ingest and higher offset), so merging the same rows again changes nothing. Into a table with
    table yet (the first load) the rows, already one per id, are simply written."""
    if not DeltaTable.isDeltaTable(spark, path):
        rows.write.format("delta").partitionBy(EVENT_DATE).options(**CDF).save(path)
        m = DeltaTable.forPath(spark, path).history(1).first()["operationMetrics"]
        n = int(m.get("numOutputRows", 0))
        return {"inserted": n, "updated": 0, "source": n}
    table = DeltaTable.forPath(spark, path)
    newer = "s._ingest_time > t._ingest_time OR (s._ingest_time = t._ingest_time AND s._kafka_offset > t._kafka_offset)"
    (
        table.alias("t")
        .merge(rows.alias("s"), f"t.`{ds.id_field}` = s.`{ds.id_field}`")
        .whenMatchedUpdateAll(condition=newer)
        .whenNotMatchedInsertAll()
        .execute()
    )
    m = table.history(1).first()["operationMetrics"]
    return {
        "inserted": int(m.get("numTargetRowsInserted", 0)),
        "updated": int(m.get("numTargetRowsUpdated", 0)),
        "source": int(m.get("numSourceRows", 0)),
    }


def quarantine_rows(rejected: DataFrame, run_id: str) -> DataFrame:
    return rejected.withColumn("_run_id", F.lit(run_id)).withColumn("_quarantined_at", F.current_timestamp())


def merge_quarantine(spark: SparkSession, rows: DataFrame, path: str) -> None:
    """Insert-only, keyed by the Kafka coordinates of the rejected row: a retried batch adds nothing."""
    table = _ensure_table(spark, path, rows)
    key = ["_kafka_topic", "_kafka_partition", "_kafka_offset", SOURCE_FILE]
    cond = " AND ".join(f"t.{k} <=> s.{k}" for k in key)
    table.alias("t").merge(rows.alias("s"), cond).whenNotMatchedInsertAll().execute()


@dataclass
class RunMetrics:
    """What a run did; the DAG's quality gate reads it (rejected_share)."""

    dataset: str
    run_id: str
    files: int = 0
    rows_read: int = 0
    rows_quarantined: int = 0
    rows_valid: int = 0
    rows_superseded: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items()}
        d["rejected_share"] = self.rejected_share
        return d


def process_rows(
    spark: SparkSession,
    raw: DataFrame,
    ds: Dataset,
    curated_path: str,
    quarantine_path: str,
    metrics: RunMetrics,
    future_tolerance_minutes: int,
) -> None:
    checked = with_quality(raw, ds, future_tolerance_minutes).persist()
    try:
        summary = checked.agg(
            F.count(F.lit(1)).alias("rows"), F.sum(F.col(FAILED).cast("int")).alias("rejected")
        ).first()
        if not summary["rows"]:
            return
        valid, rejected = split_quality(checked, ds, future_tolerance_minutes)
        n_valid = summary["rows"] - summary["rejected"]
        if n_valid:
            result = merge_curated(spark, to_curated(latest_per_id(valid, ds), ds), curated_path, ds)
            metrics.rows_inserted += result["inserted"]
            metrics.rows_updated += result["updated"]
            metrics.rows_superseded += n_valid - result["source"]
        if summary["rejected"]:
            merge_quarantine(spark, quarantine_rows(rejected, metrics.run_id), quarantine_path)
            for row in rejected.select(F.explode(REASONS).alias("r")).groupBy("r").count().collect():
                metrics.reasons[row["r"]] = metrics.reasons.get(row["r"], 0) + row["count"]
        metrics.rows_read += summary["rows"]
        metrics.rows_quarantined += summary["rejected"]
        metrics.rows_valid += n_valid
    finally:
        checked.unpersist()


def list_files(spark: SparkSession, root: str) -> list[tuple[str, int, int]]:
    """(path, size, modification time) of every Parquet file under root, recursively (Hadoop FS listing,
    a flat listing on S3); hidden and underscore files are in-progress or markers, skipped like Spark does."""
    jvm = spark.sparkContext._jvm
    root_path = jvm.org.apache.hadoop.fs.Path(root)
    fs = root_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(root_path):
        return []
    found, it = [], fs.listFiles(root_path, True)
    while it.hasNext():
        st = it.next()
        name = st.getPath().getName()
        if name.endswith(".parquet") and not name.startswith(("_", ".")):
            found.append((st.getPath().toString(), st.getLen(), st.getModificationTime()))
    return found


BOOKMARK_SCHEMA = "path STRING, size BIGINT, modification_time BIGINT, run_id STRING"


def new_files(spark: SparkSession, listed: list[tuple[str, int, int]], bookmark_path: str) -> list[str]:
    """Listed files not yet in the bookmark with the same size and modification time."""
    if not listed:
        return []
    current = spark.createDataFrame(listed, "path STRING, size BIGINT, modification_time BIGINT")
    if not DeltaTable.isDeltaTable(spark, bookmark_path):
        return [p for p, _, _ in listed]
    done = spark.read.format("delta").load(bookmark_path)
    fresh = current.join(done, ["path", "size", "modification_time"], "left_anti")
    return [r["path"] for r in fresh.select("path").collect()]


def record_files(
    spark: SparkSession, listed: list[tuple[str, int, int]], files: list[str], bookmark_path: str, run_id: str
) -> None:
    wanted = set(files)
    rows = [(p, size, mtime, run_id) for p, size, mtime in listed if p in wanted]
    # Append only: a changed file gets one more entry, and lookups match on size and time as well.
    spark.createDataFrame(rows, BOOKMARK_SCHEMA).write.format("delta").mode("append").save(bookmark_path)


def run_raw_to_curated(
    spark: SparkSession,
    ds: Dataset,
    raw_path: str,
    curated_path: str,
    quarantine_path: str,
    bookmark_path: str,
    run_id: str,
    future_tolerance_minutes: int = 5,
) -> RunMetrics:
    """Processes every raw file not yet processed (see the module doc) and returns what it did."""
    metrics = RunMetrics(dataset=ds.name, run_id=run_id)
    listed = list_files(spark, raw_path)
    files = new_files(spark, listed, bookmark_path)
    if not files:
        return metrics
    raw = spark.read.schema(ds.raw_schema()).parquet(*files).withColumn(SOURCE_FILE, F.input_file_name())
    metrics.files = len(files)
    process_rows(spark, raw, ds, curated_path, quarantine_path, metrics, future_tolerance_minutes)
    record_files(spark, listed, files, bookmark_path, run_id)
    return metrics
