"""Unit tests of the raw -> curated transformations on small DataFrames."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lakehouse_spark.curated_rows import SOURCE_FILE, latest_per_id, to_curated
from lakehouse_spark.quality import REASONS, fits_decimal, normalise, split_quality, with_quality
from pyspark.sql import functions as F

INGEST = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)


def txn(**overrides):
    row = {
        "transaction_id": "t-1",
        "timestamp": datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc),
        "account_id": "acc-1",
        "amount": 12.5,
        "currency": "usd",
        "transaction_type": "debit",
        "merchant_id": None,
        "category": "groceries",
        "_ingest_time": INGEST,
        "_request_id": "req-1",
        "_schema_version": 1,
        "_kafka_topic": "raw_financial_transactions",
        "_kafka_partition": 0,
        "_kafka_offset": 0,
        "_kafka_timestamp": INGEST,
    }
    row.update(overrides)
    return row


def raw_df(spark, ds, rows):
    names = [f.name for f in ds.raw_schema().fields]
    df = spark.createDataFrame([tuple(r.get(n) for n in names) for r in rows], ds.raw_schema())
    return df.withColumn(SOURCE_FILE, F.lit("s3://raw/file.parquet"))


@pytest.fixture()
def fin(datasets):
    return datasets["financial_transactions"]


def reasons_of(spark, ds, rows, id_field="transaction_id"):
    """Reasons per record id; valid rows get an empty list."""
    valid, rejected = split_quality(with_quality(raw_df(spark, ds, rows), ds, 5), ds, 5)
    got = {r[id_field]: [] for r in valid.collect()}
    got.update({r[id_field]: sorted(r[REASONS]) for r in rejected.collect()})
    return got


def test_normalise_upper_cases_currency_and_lower_cases_enumerations(spark, fin):
    out = normalise(raw_df(spark, fin, [txn(currency=" eur", transaction_type=" Debit ")]), fin).first()
    assert (out["currency"], out["transaction_type"]) == ("EUR", "debit")


def test_a_good_row_has_no_reasons(spark, fin):
    assert reasons_of(spark, fin, [txn()]) == {"t-1": []}


def test_each_rule_gives_its_reason(spark, fin):
    rows = [
        txn(transaction_id="missing", account_id=None),
        txn(transaction_id="enum", transaction_type="teleport"),
        txn(transaction_id="cur", currency="US1"),
        txn(transaction_id="iso", currency="ABC"),
        txn(transaction_id="future", timestamp=INGEST + timedelta(minutes=6)),
        txn(transaction_id="skew", timestamp=INGEST + timedelta(minutes=4)),
        txn(transaction_id="round", amount=1.00001),
        txn(transaction_id="big", amount=1e15),
        txn(transaction_id="nan", amount=float("nan")),
        txn(transaction_id="", _kafka_offset=9),
        txn(transaction_id="meta", _ingest_time=None),
    ]
    got = reasons_of(spark, fin, rows)
    assert got["missing"] == ["account_id: required"]
    assert got["enum"] == ["transaction_type: not one of " + ", ".join(fin.fields[5].known_values)]
    assert got["cur"] == got["iso"] == ["currency: not an ISO 4217 currency code"]
    assert got["future"] == ["timestamp: in the future"]
    assert got["skew"] == []
    assert got["round"] == ["amount: does not fit DECIMAL(18,4)"]
    assert got["big"] == ["amount: does not fit DECIMAL(18,4)"]
    assert got["nan"] == ["amount: does not fit DECIMAL(18,4)", "amount: not finite"]
    assert got[""] == ["transaction_id: shorter than 1"]
    assert got["meta"] == ["_ingest_time: required"]


def test_minimum_applies_to_claim_amounts(spark, datasets):
    claims = datasets["insurance_claims"]
    base = {
        "claim_id": "c-1",
        "timestamp": datetime(2024, 1, 15, tzinfo=timezone.utc),
        "policy_number": "P",
        "claim_amount": -0.01,
        "claim_type": "auto",
        "claim_status": "paid",
        "customer_id": "cu",
        "incident_date": datetime(2024, 1, 10, tzinfo=timezone.utc),
        **{k: v for k, v in txn().items() if k.startswith("_")},
    }
    assert reasons_of(spark, claims, [base], "claim_id") == {"c-1": ["claim_amount: less than 0"]}


def test_fits_decimal_accepts_four_places_and_rejects_more(spark):
    values = [0.1, 1234.5678, -99999999999.9999, 0.00005, 123456789012345.0]
    df = spark.createDataFrame([(v,) for v in values], "v double")
    assert [r[0] for r in df.select(fits_decimal(F.col("v"), 18, 4)).collect()] == [True, True, True, False, False]


def test_split_and_dedup_keep_the_last_update_by_partition_offset(spark, fin):
    later = INGEST + timedelta(seconds=1)
    rows = [
        # Reversed ingest clocks (two Lambda instances): the later offset is the later update.
        txn(transaction_id="a", amount=1.0, _kafka_offset=1, _ingest_time=later),
        txn(transaction_id="a", amount=2.0, _kafka_offset=2),
        txn(transaction_id="b", amount=3.0, _kafka_offset=3),
        txn(transaction_id="b", amount=4.0, _kafka_offset=4),
        # The same record twice (two raw files of one run): one row.
        txn(transaction_id="d", amount=5.0, _kafka_offset=5),
        txn(transaction_id="d", amount=5.0, _kafka_offset=5),
        # Versions in different partitions (the partition count changed): the later ingest wins.
        txn(transaction_id="e", amount=6.0, _kafka_offset=90, _kafka_partition=0),
        txn(transaction_id="e", amount=7.0, _kafka_offset=10, _kafka_partition=1, _ingest_time=later),
        txn(transaction_id="c", currency="nope"),
    ]
    valid, rejected = split_quality(with_quality(raw_df(spark, fin, rows), fin, 5), fin, 5)
    latest = [(r["transaction_id"], r["amount"]) for r in latest_per_id(valid, fin).collect()]
    assert sorted(latest) == [("a", 2.0), ("b", 4.0), ("d", 5.0), ("e", 7.0)]
    assert [r["transaction_id"] for r in rejected.collect()] == ["c"]


def test_to_curated_types_money_as_decimal_and_partitions_by_utc_date(spark, fin):
    late = datetime(2024, 1, 15, 23, 30, tzinfo=timezone(timedelta(hours=-2)))  # 01:30 UTC next day
    out = to_curated(normalise(raw_df(spark, fin, [txn(timestamp=late, _ingest_time=late)]), fin), fin)
    row = out.first()
    assert dict(out.dtypes)["amount"] == "decimal(18,4)"
    assert row["amount"] == Decimal("12.5000")
    assert str(row["event_date"]) == "2024-01-16"
    assert out.columns[-1] == "event_date" and SOURCE_FILE in out.columns
