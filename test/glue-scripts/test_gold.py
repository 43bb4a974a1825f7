"""Unit tests of the gold aggregates on small DataFrames, against direct numpy computations."""

from datetime import date

import numpy as np
import pytest
from lakehouse_spark.gold import DailyP95, DailyTotals, daily_p95, daily_totals

DAY = date(2024, 1, 15)


def curated(spark, rows):
    df = spark.createDataFrame(rows, "event_date date, category string, account_id string, amount double")
    return df.withColumn("amount", df["amount"].cast("decimal(18,4)"))


def test_daily_totals_count_and_sum_per_key(spark):
    rows = [(DAY, "a", "acc-1", 1.5), (DAY, "a", "acc-1", 2.25), (DAY, "a", "acc-2", 4.0), (date(2024, 1, 16), "a", "acc-1", 1.0)]
    out = daily_totals(curated(spark, rows), DailyTotals("t", ("account_id",), "amount"))
    got = {(r["event_date"], r["account_id"]): (r["record_count"], float(r["total_amount"])) for r in out.collect()}
    assert got == {(DAY, "acc-1"): (2, 3.75), (DAY, "acc-2"): (1, 4.0), (date(2024, 1, 16), "acc-1"): (1, 1.0)}


def test_p95_drops_outliers_and_small_groups(spark):
    rng = np.random.default_rng(1)
    values = list(np.round(rng.normal(100, 10, 30), 2)) + [10_000.0]
    rows = [(DAY, "big", "acc", float(v)) for v in values] + [(DAY, "small", "acc", 1.0)] * 4
    out = daily_p95(curated(spark, rows), DailyP95("t", "category", "amount"), min_count=5).collect()
    assert [r["category"] for r in out] == ["big"]
    x = np.array(values)
    kept = x[np.abs(x - x.mean()) <= 3 * x.std(ddof=1)]
    assert out[0]["record_count"] == 30 and out[0]["outliers_removed"] == 1
    assert out[0]["p95_amount"] == pytest.approx(np.percentile(kept, 95), rel=1e-12)


def test_p95_of_a_null_category_counts_its_outliers(spark):
    values = [100.0 + i for i in range(30)] + [10_000.0]
    rows = [(DAY, None, "acc", v) for v in values]
    out = daily_p95(curated(spark, rows), DailyP95("t", "category", "amount"), min_count=5).collect()
    assert [(r["category"], r["record_count"], r["outliers_removed"]) for r in out] == [(None, 30, 1)]
