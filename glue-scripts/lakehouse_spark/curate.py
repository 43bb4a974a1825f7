"""raw -> curated: schema enforcement, normalisation, data-quality rules, deduplication and the curated MERGE
(into a Delta or an Iceberg table: table_format.py).

A run (run_raw_to_curated):
1. finds the raw files not taken in yet (listing.py: pruned listing, compacted bookmark);
2. stages them: reads them, drops the Kafka coordinates already taken in (ledger.py) and applies the
   quality rules; a file Spark cannot read with the raw schema (corrupt, or a column of another type) is
   quarantined as a file, with the reason, and the run goes on without it;
3. takes the gate's decision on the staged rows (gate.py) and, if it passes, publishes: curated MERGE (by
   record id, the last update by partition offset wins), quarantine MERGE (insert-only, by coordinates),
   then the ledger and the bookmark. Every write is idempotent, so a run that failed before its bookmark
   commit can simply be rerun; a run that finds nothing new commits nothing at all.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from . import gate, ledger
from .listing import Listing, RawFile, list_new_files, record_files, record_listing
from .registry import Dataset
from .storage import fs_path
from .table_format import Delta, Table, TableFormat

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
    return (
        checked.filter(~F.col(FAILED)).drop(FAILED),
        checked.filter(F.col(FAILED)).withColumn(REASONS, reasons(ds, future_tolerance_minutes)).drop(FAILED),
    )


def reasons(ds: Dataset, future_tolerance_minutes: int, *extra: str) -> Column:
    """The reasons a row fails the rules, then the `extra` ones."""
    checks = quality_checks(ds, future_tolerance_minutes)
    return F.array_compact(F.array(*[F.when(cond, F.lit(msg)) for cond, msg in checks], *map(F.lit, extra)))


def latest_per_id(df: DataFrame, ds: Dataset) -> DataFrame:
    """One row per record id: its last update in the log. A record id is the Kafka key, so its updates
    share a partition and the offset orders them (ingest clocks of different Lambda instances skew);
    only versions from different partitions (after a topic's partition count changed) are ordered by
    ingest time. One shuffle by id and one sort: the second window needs no ordering of its own."""
    in_partition = Window.partitionBy(ds.id_field, "_kafka_topic", "_kafka_partition").orderBy(
        F.col("_kafka_offset").desc()
    )
    latest_partition = F.max(F.struct("_ingest_time", "_kafka_topic", "_kafka_partition")).over(
        Window.partitionBy(ds.id_field)
    )
    last = df.repartition(ds.id_field).withColumn("_rank", F.row_number().over(in_partition)).filter("_rank = 1")
    return (
        last.withColumn("_latest", latest_partition)
        .filter(F.col("_latest") == F.struct("_ingest_time", "_kafka_topic", "_kafka_partition"))
        .drop("_rank", "_latest")
    )


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


CDF = {"enableChangeDataFeed": "true"}  # Delta: curated_to_gold follows curated tables through their change feed

# The row in s is a later update than t: by offset in the same partition, by ingest time across partitions.
NEWER = (
    "(s._kafka_topic = t._kafka_topic AND s._kafka_partition = t._kafka_partition AND s._kafka_offset > t._kafka_offset)"
    " OR ((s._kafka_topic <> t._kafka_topic OR s._kafka_partition <> t._kafka_partition)"
    " AND s._ingest_time > t._ingest_time)"
)


def merge_curated(fmt: TableFormat, rows: DataFrame, table: Table, ds: Dataset) -> dict[str, int]:
    """Upsert by record id; an existing row is replaced only by a later update (NEWER), so merging the same
    rows again changes nothing. Into no table yet (the first load) the rows, already one per id, are written."""
    properties = CDF if fmt.name == "delta" else None
    return fmt.merge_by_id(table, rows, ds.id_field, NEWER, EVENT_DATE, properties)


def quarantine_rows(rejected: DataFrame, run_id: str) -> DataFrame:
    """One row per Kafka coordinate (the same record may come in two raw files of one run)."""
    return (
        rejected.dropDuplicates(list(ledger.COORDINATES))
        .withColumn("_run_id", F.lit(run_id))
        .withColumn("_quarantined_at", F.current_timestamp())
    )


def merge_quarantine(fmt: TableFormat, rows: DataFrame, table: Table) -> None:
    """Keyed by the Kafka coordinates of the rejected row, whichever raw file carried it."""
    fmt.insert_new(table, rows, list(ledger.COORDINATES))


UNREADABLE_SCHEMA = "path STRING, size BIGINT, modification_time BIGINT, reason STRING, _run_id STRING"


def quarantine_files(fmt: TableFormat, table: Table, files: list[RawFile], reasons: dict[str, str], run_id: str) -> None:
    """Raw files Spark cannot read, with the reason; keyed by (path, size, time): a rewritten file is new."""
    rows = [(f.path, f.size, f.modification_time, reasons[f.path], run_id) for f in files]
    df = fmt.spark.createDataFrame(rows, UNREADABLE_SCHEMA).withColumn("_quarantined_at", F.current_timestamp())
    fmt.insert_new(table, df, ["path", "size", "modification_time"])


@dataclass(frozen=True)
class Paths:
    """Where a run reads and writes (raw_to_curated.py composes them from the zone URIs)."""

    raw: str
    curated: Table
    quarantine: Table
    unreadable_files: Table
    bookmark: str
    gate_marker: str

    @property
    def ledger(self) -> str:
        return f"{self.bookmark}/coordinates"


@dataclass
class RunMetrics:
    """What a run did; the run summary the DAG's quality gate reads (`gate`)."""

    dataset: str
    run_id: str
    files: int = 0
    files_listed: int = 0
    files_unreadable: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    rows_redelivered: int = 0
    rows_new: int = 0
    rows_quarantined: int = 0
    rows_valid: int = 0
    rows_superseded: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    gate: dict = field(default_factory=dict)
    published: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # where the run's time went, per step

    @contextmanager
    def timed(self, step: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = round(self.seconds.get(step, 0.0) + time.perf_counter() - start, 3)

    @property
    def rejected_share(self) -> float:
        return self.rows_quarantined / self.rows_new if self.rows_new else 0.0

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items()}
        d["rejected_share"] = self.rejected_share
        return d


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


def stage(
    spark: SparkSession, ds: Dataset, files: list[RawFile], ledger_path: str, future_tolerance_minutes: int
) -> Staged:
    """Reads the files and applies the rules, without writing anything. One pass gives the coordinates,
    the rows that fail a rule and a checksum that makes Spark decode every column (so that a file it
    cannot read fails here, before anything is published); a second pass over the rejected rows only
    when there are some. Nothing is cached: scanning Parquet again is cheaper than caching it."""
    raw = read_raw(spark, ds, files)
    checked = with_quality(raw, ds, future_tolerance_minutes)
    decode = F.xxhash64(*[F.col(c) for c in raw.columns]).cast("decimal(38,0)")
    bitmaps, rows_read, uncoordinated, totals = ledger.coordinate_bitmaps(
        checked, _failed=F.col(FAILED).cast("long"), _decoded=decode
    )
    already = ledger.seen(spark, ledger_path, list(bitmaps))
    taken = {k: m & ~already.get(k, 0) for k, m in bitmaps.items()}
    rows_new = sum(m.bit_count() for m in taken.values()) + uncoordinated
    # Only when some coordinate was taken in before or comes twice is a row-by-row test needed.
    if rows_new != rows_read:
        checked = with_quality(ledger.keep_unseen(raw, spark, taken), ds, future_tolerance_minutes)
    counts: dict[str, int] = {}
    rows_quarantined = 0
    if totals["_failed"]:
        _, rejected = split_quality(checked, ds, future_tolerance_minutes)
        for r in rejected.dropDuplicates(list(ledger.COORDINATES)).groupBy(REASONS).count().collect():
            rows_quarantined += r["count"]
            for reason in r[REASONS]:
                counts[reason] = counts.get(reason, 0) + r["count"]
    return Staged(checked, taken, rows_read, rows_new, rows_quarantined, counts)


def publish(
    spark: SparkSession,
    fmt: TableFormat,
    ds: Dataset,
    staged: Staged,
    paths: Paths,
    metrics: RunMetrics,
    future_tolerance_minutes: int,
    discard: str | None = None,
) -> None:
    """Curated and quarantine MERGEs, then the ledger. With `discard` (a reason), every row goes to the
    quarantine with that reason added and nothing to curated."""
    valid, rejected = split_quality(staged.checked, ds, future_tolerance_minutes)
    if discard:
        everything = staged.checked.withColumn(REASONS, reasons(ds, future_tolerance_minutes, discard)).drop(FAILED)
        with metrics.timed("quarantine"):
            merge_quarantine(fmt, quarantine_rows(everything, metrics.run_id), paths.quarantine)
    else:
        if metrics.rows_valid:
            with metrics.timed("curated"):
                result = merge_curated(fmt, to_curated(latest_per_id(valid, ds), ds), paths.curated, ds)
            metrics.rows_inserted, metrics.rows_updated = result["inserted"], result["updated"]
            metrics.rows_superseded = metrics.rows_valid - result["inserted"] - result["updated"]
        if metrics.rows_quarantined:
            with metrics.timed("quarantine"):
                merge_quarantine(fmt, quarantine_rows(rejected, metrics.run_id), paths.quarantine)
    with metrics.timed("ledger"):
        ledger.record(spark, paths.ledger, staged.taken)


def _take_in(
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


def run_raw_to_curated(
    spark: SparkSession,
    ds: Dataset,
    paths: Paths,
    run_id: str,
    fmt: TableFormat | None = None,
    future_tolerance_minutes: int = 5,
    max_rejected_share: float | None = None,
    lookback_hours: float = 48,
    full_listing: bool = False,
    gate_action: str = "none",
) -> RunMetrics:
    """Takes in every raw file not yet taken in (see the module doc) and returns what it did."""
    if gate_action not in gate.ACTIONS:
        raise ValueError(f"gate_action must be one of {', '.join(gate.ACTIONS)}")
    metrics = RunMetrics(dataset=ds.name, run_id=run_id)
    fmt = fmt or Delta(spark)
    marker = gate.read_marker(spark, paths.gate_marker)
    if marker and gate_action == "none":
        metrics.gate = gate.still_blocked(marker, paths.gate_marker)
        return metrics
    if not marker and gate_action != "none":
        raise ValueError(f"--gate_action {gate_action}: {ds.name} is not blocked")
    if gate_action == "retry":
        gate.clear_marker(spark, paths.gate_marker)
        marker = None
    listing: Listing | None = None
    if marker:
        candidates = [RawFile(**f) for f in marker["files"]]
    else:
        with metrics.timed("listing"):
            listing = list_new_files(spark, paths.raw, paths.bookmark, lookback_hours, full_listing)
        candidates, metrics.files_listed = listing.new, listing.files_listed
    with metrics.timed("staging"):
        files, staged = _take_in(spark, fmt, ds, candidates, paths, metrics, future_tolerance_minutes)
    metrics.files = len(files)
    unreadable_files = [f for f in candidates if f.path in metrics.files_unreadable]
    if staged is None:
        metrics.gate = gate.decide(0, 0, max_rejected_share)
        _finish(spark, paths, listing, unreadable_files, run_id)
        return metrics
    metrics.rows_read, metrics.rows_new = staged.rows_read, staged.rows_new
    metrics.rows_redelivered = staged.rows_read - staged.rows_new
    metrics.rows_quarantined, metrics.reasons = staged.rows_quarantined, staged.reasons
    metrics.rows_valid = staged.rows_new - staged.rows_quarantined
    metrics.gate = gate.decide(staged.rows_new, staged.rows_quarantined, max_rejected_share)
    if gate_action in ("accept", "discard"):
        metrics.gate.update(decision=f"{gate_action}ed by an operator", blocked_by_run=marker["run_id"])
    elif metrics.gate["decision"] == "blocked":
        gate.write_marker(spark, paths.gate_marker, run_id, metrics.gate, staged.reasons, files)
        return metrics
    discard = gate.discard_reason(marker["run_id"]) if gate_action == "discard" else None
    publish(spark, fmt, ds, staged, paths, metrics, future_tolerance_minutes, discard)
    with metrics.timed("bookmark"):
        _finish(spark, paths, listing, files + unreadable_files, run_id)
    if marker:
        gate.clear_marker(spark, paths.gate_marker)
    metrics.published = True
    return metrics


def _finish(spark: SparkSession, paths: Paths, listing: Listing | None, files: list[RawFile], run_id: str) -> None:
    """Bookmark last: the files taken in (or quarantined as files), then the listing time."""
    record_files(spark, paths.bookmark, files, run_id)
    if listing is not None:
        record_listing(spark, paths.bookmark, listing)
