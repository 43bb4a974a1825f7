"""curated -> gold: daily aggregates (README.md#the-lake), written as tables (Delta or Iceberg: table_format/)
partitioned by event date.

Incrementality: the job remembers the last curated version it aggregated (a JSON bookmark in the scripts
bucket), finds the event dates changed since then (Delta: the curated change data feed; Iceberg: the
partitions of the files the later snapshots added or removed; an update that moves a record between days
touches both), recomputes those days from the curated snapshot at the current version, and replaces exactly
those partitions (Delta replaceWhere, Iceberg overwrite by filter). No new curated version means no write
at all; recomputing a day is deterministic, so a retry changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from .curated_rows import EVENT_DATE
from .registry import Dataset
from .storage import read_json, write_json
from .table_format import Delta, TableFormat
from .tables import Table, curated_table, gold_table, quarantine_table, unreadable_files_table


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


def dataset_tables(ds: Dataset, curated_uri: str, quarantine_uri: str, gold_uri: str) -> dict[str, Table]:
    """Every table of the dataset in the format's zones, by a short name: curated, quarantine, unreadable
    files, gold:<table>."""
    return {
        "curated": curated_table(curated_uri, ds.name),
        "quarantine": quarantine_table(quarantine_uri, ds.name),
        "unreadable_files": unreadable_files_table(quarantine_uri, ds.name),
        **{f"gold:{spec.table}": gold_table(gold_uri, spec.table) for spec in gold_tables(ds)},
    }


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


def affected_dates(fmt: TableFormat, curated: Table, since: int | None, until: int) -> list:
    """Event dates changed in curated after version `since` up to `until`; every date when there is no
    bookmark or the changes of those versions are gone (vacuumed, expired)."""
    if since is not None:
        changed = fmt.changed_partitions(curated, EVENT_DATE, since, until)
        if changed is not None:
            return changed
        print(f"changes of {curated.path} since version {since} unreadable; recomputing every date")
    snapshot = fmt.read(curated, until)
    return sorted(r[0] for r in snapshot.select(EVENT_DATE).distinct().collect())


def run_curated_to_gold(
    spark: SparkSession,
    ds: Dataset,
    curated: Table,
    gold_uri: str,
    bookmark_path: str,
    min_count: int,
    fmt: TableFormat | None = None,
) -> dict:
    """Recomputes the gold partitions touched since the last run; returns what it did. The bookmark names
    the format: a version of the other format (after a migration) is no bookmark."""
    fmt = fmt or Delta(spark)
    specs = gold_tables(ds)
    current = fmt.version(curated)
    bookmark = read_json(spark, bookmark_path)
    since = bookmark["curated_version"] if bookmark and bookmark.get("table_format", "delta") == fmt.name else None
    summary = {"dataset": ds.name, "curated_version": current, "since_version": since, "dates": [], "tables": {}}
    if current is None or current == since:
        return summary
    dates = affected_dates(fmt, curated, since, current)
    if dates:
        days = fmt.read(curated, current).filter(F.col(EVENT_DATE).isin(dates))
        for spec in specs:
            table = gold_table(gold_uri, spec.table)
            fmt.replace_partitions(table, aggregate(days, spec, min_count), EVENT_DATE, dates)
            summary["tables"][spec.table] = fmt.version(table)
    write_json(spark, bookmark_path, {"curated_version": current, "table_format": fmt.name})
    summary["dates"] = [str(d) for d in dates]
    return summary
