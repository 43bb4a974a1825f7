"""The curated zone's data-quality rules, read from the dataset definition (registry.py): normalisation,
then one failure condition and one human-readable reason per rule. Staging flags the rows that fail a
rule; the reasons are spelled out only for those rows, when they go to the quarantine."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from .registry import Dataset, Field

REASONS = "_dq_reasons"
FAILED = "_dq_failed"
TIME_KINDS = ("timestamp", "date_or_timestamp")


def normalise(df: DataFrame, ds: Dataset) -> DataFrame:
    """Currency codes upper-case, enumeration values trimmed and lower-case (the known values are), so
    that `usd` and ` Debit` are curated as `USD` and `debit`. Timestamps are UTC instants already (the
    raw zone stores them adjusted to UTC, and the session time zone is UTC)."""
    for f in ds.fields:
        if f.kind == "currency" or f.known_values is not None:
            df = df.withColumn(f.name, normalised(F.col(f.name), f))
    return df


def normalised(c: Column, f: Field) -> Column:
    """One field's value as curated holds it (see normalise)."""
    if f.kind == "currency":
        return F.upper(F.trim(c))
    if f.known_values is not None:
        return F.lower(F.trim(c))
    return c


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
