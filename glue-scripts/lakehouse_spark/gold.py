"""curated -> gold: daily aggregates (README.md#the-lake), written as Delta tables partitioned by event date.

Incrementality: the curated tables keep a change data feed. The job remembers the last curated version it
aggregated (a JSON bookmark in the scripts bucket), reads the changes since then to find the event dates
they touch (an update that moves a record between days touches both), recomputes those days from the
curated snapshot at the current version, and replaces exactly those partitions (replaceWhere). No new
curated version means no write at all; recomputing a day is deterministic, so a retry changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from .curate import EVENT_DATE
from .layout import table_uri
from .registry import Dataset
from .storage import read_json, write_json


@dataclass(frozen=True)
class DailyTotals:
    """Record count and amount total per day and key."""

    table: str
    keys: tuple[str, ...]
    amount: str


@dataclass(frozen=True)
class DailyP95:
    """95th percentile of the amount per day and category, outliers (beyond `sigmas` standard deviations
    from the mean of that day's category) removed, for groups with at least `min_count` records left."""

    table: str
    category: str
    amount: str
    sigmas: float = 3.0


# The gold tables of each dataset. Field names are checked against the dataset definition at run time.
GOLD_TABLES: dict[str, tuple[DailyTotals | DailyP95, ...]] = {
    "financial_transactions": (
        DailyTotals("daily_account_totals", ("account_id", "currency"), "amount"),
        DailyP95("daily_amount_p95_by_category", "category", "amount"),
    ),
    "insurance_claims": (
        DailyTotals("daily_claims_by_type_status", ("claim_type", "claim_status"), "claim_amount"),
        DailyP95("daily_claim_amount_p95_by_type", "claim_type", "claim_amount"),
    ),
}


def gold_tables(ds: Dataset) -> tuple[DailyTotals | DailyP95, ...]:
    specs = GOLD_TABLES.get(ds.name, ())
    known = {f.name for f in ds.fields}
    for spec in specs:
        used = (*spec.keys, spec.amount) if isinstance(spec, DailyTotals) else (spec.category, spec.amount)
        missing = [c for c in used if c not in known]
        if missing:
            raise ValueError(f"gold table {spec.table} uses fields {missing} that {ds.name} does not have")
    return specs


def daily_totals(curated: DataFrame, spec: DailyTotals) -> DataFrame:
    return curated.groupBy(EVENT_DATE, *spec.keys).agg(
        F.count(F.lit(1)).alias("record_count"),
        F.sum(spec.amount).alias("total_amount"),
    )


def daily_p95(curated: DataFrame, spec: DailyP95, min_count: int) -> DataFrame:
    """Sample standard deviation (as pandas' std) and exact percentile with linear interpolation (as
    numpy's default); a group of one record has no deviation and keeps its record."""
    group = Window.partitionBy(EVENT_DATE, spec.category)
    amount = F.col(spec.amount).cast("double")
    scored = curated.select(
        EVENT_DATE,
        spec.category,
        amount.alias("_amount"),
        F.avg(amount).over(group).alias("_mean"),
        F.stddev_samp(amount).over(group).alias("_std"),
    )
    kept = F.col("_std").isNull() | (F.abs(F.col("_amount") - F.col("_mean")) <= F.lit(spec.sigmas) * F.col("_std"))
    # One aggregation, no join back: a join on the category would lose groups whose category is null.
    return (
        scored.groupBy(EVENT_DATE, spec.category)
        .agg(
            F.count(F.when(kept, 1)).alias("record_count"),
            F.percentile(F.when(kept, F.col("_amount")), 0.95).alias("p95_amount"),
            F.count(F.lit(1)).alias("_all"),
        )
        .filter(F.col("record_count") >= min_count)
        .withColumn("outliers_removed", F.col("_all") - F.col("record_count"))
        .drop("_all")
    )


def aggregate(curated: DataFrame, spec: DailyTotals | DailyP95, min_count: int) -> DataFrame:
    if isinstance(spec, DailyTotals):
        return daily_totals(curated, spec)
    return daily_p95(curated, spec, min_count)


def replace_partitions(spark: SparkSession, df: DataFrame, path: str, dates: list) -> None:
    """Writes df as the complete content of the given event dates of the table (creating it if needed)."""
    if not DeltaTable.isDeltaTable(spark, path):
        df.write.format("delta").partitionBy(EVENT_DATE).save(path)
        return
    in_list = ", ".join(f"DATE'{d}'" for d in dates)
    df.write.format("delta").mode("overwrite").option("replaceWhere", f"{EVENT_DATE} IN ({in_list})").save(path)


def latest_version(spark: SparkSession, path: str) -> int | None:
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return DeltaTable.forPath(spark, path).history(1).first()["version"]


def affected_dates(spark: SparkSession, curated_path: str, since: int | None, until: int) -> list:
    """Event dates changed in curated versions (since, until]; every date when there is no bookmark or
    the change feed of those versions is gone (vacuumed)."""
    if since is not None:
        try:
            changes = (
                spark.read.format("delta")
                .option("readChangeFeed", "true")
                .option("startingVersion", since + 1)
                .option("endingVersion", until)
                .load(curated_path)
            )
            return sorted(r[0] for r in changes.select(EVENT_DATE).distinct().collect())
        except (AnalysisException, Py4JJavaError) as e:
            print(f"change feed of versions {since + 1}..{until} unreadable ({e}); recomputing every date")
    snapshot = spark.read.format("delta").option("versionAsOf", until).load(curated_path)
    return sorted(r[0] for r in snapshot.select(EVENT_DATE).distinct().collect())


def run_curated_to_gold(
    spark: SparkSession,
    ds: Dataset,
    curated_path: str,
    gold_uri: str,
    bookmark_path: str,
    min_count: int,
) -> dict:
    """Recomputes the gold partitions touched since the last run; returns what it did."""
    specs = gold_tables(ds)
    current = latest_version(spark, curated_path)
    bookmark = read_json(spark, bookmark_path)
    since = bookmark["curated_version"] if bookmark else None
    summary = {"dataset": ds.name, "curated_version": current, "since_version": since, "dates": [], "tables": {}}
    if current is None or current == since:
        return summary
    dates = affected_dates(spark, curated_path, since, current)
    if dates:
        snapshot = spark.read.format("delta").option("versionAsOf", current).load(curated_path)
        days = snapshot.filter(F.col(EVENT_DATE).isin(dates))
        for spec in specs:
            out = aggregate(days, spec, min_count)
            path = table_uri(gold_uri, spec.table)
            replace_partitions(spark, out, path, dates)
            summary["tables"][spec.table] = latest_version(spark, path)
    write_json(spark, bookmark_path, {"curated_version": current})
    summary["dates"] = [str(d) for d in dates]
    return summary
