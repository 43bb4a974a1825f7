"""Near-real-time gold: 1-minute tumbling windows of the raw topics, per dataset and group (the registry's
`x-window`: group fields and the measure), kept fresh by a Structured Streaming job (streaming_windows.py).

Every micro-batch goes through `WindowsBatch.process`, which is deterministic in the batch's records and the
tables' state before it, so that a batch Spark replays after a crash (same id, same offsets) writes the same:
- a record is *late* when its event time is before its dataset's watermark: the newest event time of the
  batches before this one, minus the allowed delay. Late records go to the quarantine table with the reason,
  never dropped; they change no window.
- a record is a *duplicate* when a record with its id is already in the window state table from another
  offset (or earlier in the same batch): it is counted and aggregated once. The state table holds the
  on-time records of the windows the watermark has not closed, with the batch that brought them; it is the
  deduplication state and what a window is recomputed from.
- each window and group an on-time record falls into is recomputed from the state table (count, sum, mean,
  95th percentile of the values within 3 standard deviations of the window's mean) and upserted into the gold
  table. Recomputing is idempotent, so every write is a MERGE that can be repeated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from .quality import normalised
from .registry import Dataset
from .runs import timed_into
from .table_format import Delta, TableFormat
from .tables import Table, gold_table

WINDOW = "1 minute"
WINDOW_SECONDS = 60
SIGMAS = 3.0
# An event time this far past the record's Kafka timestamp is refused: it would close every open window.
FUTURE_TOLERANCE_SECONDS = 300

# The columns every record is reduced to, whatever its dataset.
_GROUP_KEY = "group_key"
# What the window state holds of each on-time record.
_STATE_COLUMNS = ["dataset", "record_id", "event_time", "window_start", _GROUP_KEY, "measure",
                  "topic", "partition", "offset", "batch_id"]


def windows_table(gold_uri: str) -> Table:
    return gold_table(gold_uri, "minute_windows")


def late_records_table(quarantine_uri: str) -> Table:
    """Records that came after their window had closed, with the reason (one table for every dataset)."""
    return Table(quarantine_uri, "_late_streaming_records", "quarantine_late_streaming_records")


def window_state_table(state_uri: str) -> Table:
    """The job's own state (always Delta, as the other jobs' state): on-time records of open windows."""
    return Table(state_uri, "streaming_windows/open_window_records", "streaming_open_window_records")


@dataclass
class BatchResult:
    batch_id: int
    records: int = 0
    on_time: int = 0
    duplicates: int = 0
    late: int = 0
    unreadable: int = 0
    windows_updated: int = 0
    # Per dataset: watermark used, newest event time after the batch, newest window start.
    datasets: dict[str, dict] = field(default_factory=dict)
    # Seconds from a record's event time to the batch's commit (meaningful when producers stamp "now").
    freshness_seconds: dict[str, float] = field(default_factory=dict)
    committed_at: str = ""
    # Where the batch's time went: seconds per stage, in the order they ran.
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def stage(self, name: str):
        return timed_into(self.stage_seconds, name)


def records_of(kafka_rows: DataFrame, datasets: dict[str, Dataset]) -> DataFrame:
    """Kafka rows (topic, partition, offset, value) to one row per record: dataset, record id, event time,
    group key (the group fields as a JSON object), measure, the source offsets, and why it is unreadable
    (null when it is not). Reads only the fields the windows need, straight from the canonical JSON."""
    value = F.col("value").cast("string")
    per_topic = []
    for ds in datasets.values():
        assert ds.window is not None
        fields = {f.name: f for f in ds.fields}
        # Grouped as curated holds the values, so that `usd` and `USD` are one group, as in batch gold.
        group = F.to_json(
            F.struct(
                *[normalised(F.get_json_object(value, f"$.{k}"), fields[k]).alias(k) for k in ds.window.group_by]
            )
        )
        event_text = F.get_json_object(value, f"$.{ds.event_time_field}")
        measure_text = F.get_json_object(value, f"$.{ds.window.measure}")
        group_missing = [F.get_json_object(value, f"$.{k}").isNull() for k in ds.window.group_by]
        per_topic.append(
            (
                F.col("topic") == F.lit(ds.topic),
                {
                    "dataset": F.lit(ds.name),
                    "record_id": F.get_json_object(value, f"$.{ds.id_field}"),
                    "event_time": event_text.cast("timestamp"),
                    _GROUP_KEY: group,
                    "measure": measure_text.cast("double"),
                    "_problems": F.concat_ws(
                        ", ",
                        F.when(F.get_json_object(value, f"$.{ds.id_field}").isNull(), F.lit(f"no {ds.id_field}")),
                        F.when(event_text.cast("timestamp").isNull(), F.lit(f"no valid {ds.event_time_field}")),
                        F.when(measure_text.cast("double").isNull(), F.lit(f"no numeric {ds.window.measure}")),
                        *[
                            F.when(missing, F.lit(f"no {k}"))
                            for k, missing in zip(ds.window.group_by, group_missing, strict=True)
                        ],
                    ),
                },
            )
        )

    def pick(name: str):
        out = None
        for is_topic, columns in per_topic:
            out = F.when(is_topic, columns[name]) if out is None else out.when(is_topic, columns[name])
        return out

    names = ["dataset", "record_id", "event_time", _GROUP_KEY, "measure", "_problems"]
    rows = kafka_rows.select(
        "topic",
        "partition",
        "offset",
        F.col("timestamp").alias("kafka_timestamp"),
        value.alias("value"),
        *[pick(n).alias(n) for n in names],
    )
    return rows.withColumn(
        "unreadable", F.when(F.col("_problems") != "", F.concat(F.lit("unreadable: "), F.col("_problems")))
    ).drop("_problems")


def window_aggregates(records: DataFrame) -> DataFrame:
    """Per dataset, window and group: record count, sum, mean, and the 95th percentile of the measure after
    removing values beyond SIGMAS sample standard deviations of the window's mean (a window of one record
    has no deviation and keeps it); exact percentile with linear interpolation, as the batch gold's."""
    keys = ["dataset", "window_start", _GROUP_KEY]
    group = Window.partitionBy(*keys)
    scored = records.select(
        *keys,
        "measure",
        "event_time",
        F.avg("measure").over(group).alias("_mean"),
        F.stddev_samp("measure").over(group).alias("_std"),
    )
    kept = F.col("_std").isNull() | (F.abs(F.col("measure") - F.col("_mean")) <= F.lit(SIGMAS) * F.col("_std"))
    return scored.groupBy(*keys).agg(
        F.count(F.lit(1)).alias("record_count"),
        F.sum("measure").alias("sum"),
        F.avg("measure").alias("mean"),
        F.percentile(F.when(kept, F.col("measure")), 0.95).alias("p95"),
        F.count(F.when(~kept, 1)).alias("outliers_removed"),
        F.max("event_time").alias("newest_event_time"),
    )


def _window_start(col: str) -> F.Column:
    return F.window(col, WINDOW).start


class WindowsBatch:
    """Processes the micro-batches of one query. Holds, between batches, only a cache of what the tables
    already say (the watermarks), so that a new process takes over from the tables and the checkpoint."""

    def __init__(
        self,
        spark: SparkSession,
        fmt: TableFormat,
        datasets: dict[str, Dataset],
        gold_uri: str,
        quarantine_uri: str,
        state_uri: str,
        watermark: timedelta,
    ) -> None:
        self.spark = spark
        self.fmt = fmt
        self.state_fmt = Delta(spark)
        self.datasets = datasets
        self.windows = windows_table(gold_uri)
        self.late = late_records_table(quarantine_uri)
        self.state = window_state_table(state_uri)
        self.watermark = watermark
        # Newest event time per dataset after the last batch this process committed: (batch id, {dataset: t}).
        self._newest: tuple[int, dict[str, datetime]] | None = None
        self._pruned_before: dict[str, datetime] = {}

    def newest_event_times(self, batch_id: int) -> dict[str, datetime]:
        """Newest on-time event time per dataset over the batches before `batch_id`."""
        if self._newest is not None and self._newest[0] == batch_id - 1:
            return dict(self._newest[1])
        if not self.state_fmt.exists(self.state):
            return {}
        rows = (
            self.state_fmt.read(self.state)
            .filter(F.col("batch_id") < batch_id)
            .groupBy("dataset")
            .agg(F.max("event_time").alias("t"))
            .collect()
        )
        return {r["dataset"]: r["t"] for r in rows}

    def process(self, kafka_rows: DataFrame, batch_id: int) -> BatchResult:
        result = BatchResult(batch_id)
        newest_before = self.newest_event_times(batch_id)
        watermarks = {name: t - self.watermark for name, t in newest_before.items()}
        records = records_of(kafka_rows, self.datasets).withColumn("batch_id", F.lit(batch_id)).cache()
        try:
            self._process(records, batch_id, newest_before, watermarks, result)
        finally:
            records.unpersist()
        return result

    def _process(self, records, batch_id, newest_before, watermarks, result: BatchResult) -> None:
        now = datetime.now(timezone.utc)
        watermark_col = F.lit(None).cast("timestamp")
        for name, w in watermarks.items():
            watermark_col = F.when(F.col("dataset") == name, F.lit(w)).otherwise(watermark_col)
        classified = records.withColumn("watermark", watermark_col).withColumn(
            "reason",
            F.coalesce(
                F.col("unreadable"),
                # The broker's timestamp, not the clock: a replayed batch decides the same.
                F.when(
                    F.col("event_time") > F.col("kafka_timestamp") + F.expr(f"INTERVAL {FUTURE_TOLERANCE_SECONDS} SECONDS"),
                    F.concat(
                        F.lit("future: event time "),
                        F.date_format("event_time", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"),
                        F.lit(f" is more than {FUTURE_TOLERANCE_SECONDS} s after the record reached Kafka"),
                    ),
                ),
                F.when(
                    F.col("event_time") < F.col("watermark"),
                    F.concat(
                        F.lit("late: event time "),
                        F.date_format("event_time", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"),
                        F.lit(f" is before the watermark (the newest event time seen minus {self._delay_text()}) "),
                        F.date_format("watermark", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"),
                    ),
                ),
            ),
        )
        with result.stage("read"):
            counts = classified.select(
                F.count(F.lit(1)).alias("records"),
                F.count(F.col("unreadable")).alias("unreadable"),
                F.count(F.col("reason")).alias("rejected"),
            ).first()
        result.records, result.unreadable = counts["records"], counts["unreadable"]
        result.late = counts["rejected"] - counts["unreadable"]  # late or future
        if result.records == 0:
            self._newest = (batch_id, newest_before)
            return

        if counts["rejected"]:
            rejected = classified.filter(F.col("reason").isNotNull()).select(
                "dataset", "topic", "partition", "offset", "record_id", "event_time", "value", "reason", "watermark",
                F.lit(now).alias("quarantined_at"),
            )
            with result.stage("quarantine"):
                self.fmt.insert_new(self.late, rejected, ["topic", "partition", "offset"])

        on_time = classified.filter(F.col("reason").isNull()).withColumn("window_start", _window_start("event_time"))
        # Within the batch, the first offset of an id wins; against the state, the row already there wins
        # unless it is this very offset (this batch replayed).
        first = Window.partitionBy("dataset", "record_id").orderBy("topic", "partition", "offset")
        ranked = on_time.withColumn("_rank", F.row_number().over(first))
        candidates = ranked.filter(F.col("_rank") == 1).drop("_rank")
        candidates = candidates.select(*_STATE_COLUMNS).cache()
        try:
            held_exists = self.state_fmt.exists(self.state)
            if held_exists:
                held = self.state_fmt.read(self.state).select(
                    "dataset", "record_id",
                    F.col("topic").alias("_t"), F.col("partition").alias("_p"), F.col("offset").alias("_o"),
                )
                replayed = (F.col("_t") == F.col("topic")) & (F.col("_p") == F.col("partition")) & (
                    F.col("_o") == F.col("offset")
                )
                joined = candidates.join(held, ["dataset", "record_id"], "left").select(
                    *_STATE_COLUMNS, F.col("_o").isNull().alias("_new"), replayed.alias("_replayed")
                )
                fresh = joined.filter(F.col("_new") | F.col("_replayed"))
            else:
                fresh = candidates.withColumn("_new", F.lit(True))
            fresh = fresh.cache()
            with result.stage("dedup"):
                # One pass over the batch's on-time records: per dataset and window how many and how new, and
                # over them all the event-time quantiles the freshness is measured from (the rollup's total).
                rows = (
                    fresh.rollup("dataset", "window_start")
                    .agg(
                        F.grouping_id().alias("level"),
                        F.count(F.lit(1)).alias("n"),
                        F.max("event_time").alias("newest"),
                        F.percentile(F.col("event_time").cast("double"), [0.5, 0.01]).alias("q"),
                    )
                    .filter("level IN (0, 3)")
                    .collect()
                )
            touched = [r for r in rows if r["level"] == 0]
            quantiles = next((r["q"] for r in rows if r["level"] == 3 and r["n"]), None)
            result.on_time = sum(r["n"] for r in touched)
            result.duplicates = (counts["records"] - counts["rejected"]) - result.on_time
            if result.on_time:
                with result.stage("state"):
                    # Only the ids the state does not hold: a replayed batch's rows are there already, so a
                    # plain append is as idempotent as an insert-only MERGE, without reading the state again.
                    added = fresh.filter(F.col("_new")).select(*_STATE_COLUMNS)
                    if held_exists:
                        self.state_fmt.append(self.state, added)
                    else:
                        self.state_fmt.create(self.state, added, partition_by="window_start")
                self._update_windows(fresh, touched, now, result)
                result.freshness_seconds = _freshness(quantiles)
            newest_now = dict(newest_before)
            for r in touched:
                if r["dataset"] not in newest_now or r["newest"] > newest_now[r["dataset"]]:
                    newest_now[r["dataset"]] = r["newest"]
            fresh.unpersist()
        finally:
            candidates.unpersist()
        for name in self.datasets:
            if name in newest_now:
                result.datasets[name] = {
                    "watermark": _iso(watermarks.get(name)),
                    "newest_event_time": _iso(newest_now[name]),
                }
        self._newest = (batch_id, newest_now)
        with result.stage("prune"):
            self._prune(watermarks)
        result.committed_at = _iso(datetime.now(timezone.utc))

    def _update_windows(self, fresh: DataFrame, touched: list, now: datetime, result: BatchResult) -> None:
        # The touched windows as literals, so that the state's window_start partitions and the gold table's
        # files outside them are skipped (a join alone would read all of them).
        starts = sorted({r["window_start"] for r in touched})
        in_touched = F.col("window_start").isin(starts)
        groups = fresh.select("dataset", "window_start", _GROUP_KEY).distinct()
        members = (
            self.state_fmt.read(self.state)
            .filter(in_touched)
            .join(F.broadcast(groups), ["dataset", "window_start", _GROUP_KEY])
        )
        windows = (
            window_aggregates(members)
            .withColumn("window_end", F.col("window_start") + F.expr(f"INTERVAL {WINDOW_SECONDS} SECONDS"))
            .withColumn("updated_at", F.lit(now))
            .withColumn(
                "window_id",
                F.concat_ws("|", "dataset", F.date_format("window_start", "yyyy-MM-dd'T'HH:mm:ss'Z'"), _GROUP_KEY),
            )
        )
        # Computed once: a MERGE evaluates its source more than once (matches, then the rows it writes).
        windows = windows.cache()
        with result.stage("aggregate"):
            windows.count()
        within = f"t.window_start IN ({', '.join(_timestamp_sql(w) for w in starts)})"
        with result.stage("merge"):
            merged = self.fmt.merge_by_id(
                self.windows, windows, "window_id", "true", partition_by="dataset", within=within
            )
        windows.unpersist()
        result.windows_updated = merged["inserted"] + merged["updated"]

    def _prune(self, watermarks: dict[str, datetime]) -> None:
        """Drops from the state the records of windows the watermark has closed, once a minute's worth."""
        for name, w in watermarks.items():
            closed_before = w.replace(second=0, microsecond=0)
            last = self._pruned_before.get(name)
            if last is not None and closed_before - last < timedelta(seconds=WINDOW_SECONDS):
                continue
            self.spark.sql(
                f"DELETE FROM delta.`{self.state.path}` WHERE dataset = '{name}' AND window_start < "
                f"{_timestamp_sql(closed_before)}"
            )
            self._pruned_before[name] = closed_before

    def _delay_text(self) -> str:
        minutes, seconds = divmod(int(self.watermark.total_seconds()), 60)
        return f"{minutes} min" if not seconds else f"{int(self.watermark.total_seconds())} s"


def _freshness(event_time_quantiles: list[float]) -> dict[str, float]:
    """Seconds from event time to now (the windows just committed) of the batch's median and 99th-percentile
    record, from the 50th and 1st percentiles of their event times (epoch seconds)."""
    visible = datetime.now(timezone.utc).timestamp()
    median, oldest = event_time_quantiles
    return {"p50": round(visible - median, 3), "p99": round(visible - oldest, 3)}


def _timestamp_sql(t: datetime) -> str:
    """A SQL literal of a timestamp Spark collected (naive in the Python process's zone, as PySpark makes
    them), whatever the session's zone."""
    return f"timestamp_seconds({t.timestamp()})"


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def status_text(result: BatchResult) -> str:
    return json.dumps(result.as_dict(), sort_keys=True, default=str)
