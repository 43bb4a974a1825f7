"""The coordinate ledger: which Kafka coordinates (topic, partition, offset) raw_to_curated has already taken
in, so that each reaches curated or the curated quarantine at most once, whatever files carry it.

Why here and not in the sink: raw file names are made of topic, partition and first offset, so a redelivery
cut differently from the failed batch ([100..199] after [100..149] and [150..199]) overwrites one file and
leaves the other: the same offsets are then in two raw files, possibly in different hours and days. Only
this job sees every raw file, so it is where coordinates are made unique.

Offsets are kept as bitmaps: one row per (topic, partition, bucket of 2^15 consecutive offsets) with a
4 KiB bitmap (Spark's bitmap_construct_agg: bit i is bit i % 8 of byte i // 8). A million offsets take
31 rows; a bucket is filled by the one or two runs that cover its offsets, so appending the run's bitmaps
keeps the table compact, and a lookup ORs the rows of the buckets a run touches.
"""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

COORDINATES = ("_kafka_topic", "_kafka_partition", "_kafka_offset")
BUCKET_BITS = 15
BUCKET_BYTES = (1 << BUCKET_BITS) // 8
_MASK = (1 << BUCKET_BITS) - 1
LEDGER_SCHEMA = "topic STRING, partition INT, bucket BIGINT, offsets BINARY"

Key = tuple[str, int, int]  # (topic, partition, bucket)


def _bucket(offset: Column) -> Column:
    return F.shiftright(offset, BUCKET_BITS)


def coordinate_bitmaps(df: DataFrame, **sums: Column) -> tuple[dict[Key, int], int, int, dict[str, int]]:
    """(bitmap per bucket of the rows' coordinates as Python ints, rows, rows without coordinates, the
    totals of `sums`), in one pass."""
    topic, partition, offset = (F.col(c) for c in COORDINATES)
    groups = (
        df.groupBy(topic.alias("_t"), partition.alias("_p"), _bucket(offset).alias("_b"))
        .agg(
            F.count(F.lit(1)).alias("_n"),
            F.expr(f"bitmap_construct_agg(_kafka_offset & {_MASK})").alias("_m"),
            *[F.sum(c).alias(name) for name, c in sums.items()],
        )
        .collect()
    )
    bitmaps, rows, uncoordinated = {}, 0, 0
    totals = dict.fromkeys(sums, 0)
    for g in groups:
        rows += g["_n"]
        for name in sums:
            totals[name] += g[name] or 0
        if g["_t"] is None or g["_p"] is None or g["_b"] is None:
            uncoordinated += g["_n"]
        else:
            bitmaps[(g["_t"], g["_p"], g["_b"])] = int.from_bytes(g["_m"], "little")
    return bitmaps, rows, uncoordinated, totals


def seen(spark: SparkSession, path: str, keys: list[Key]) -> dict[Key, int]:
    """The ledger's bitmaps of the given buckets (ORed over its rows)."""
    if not keys or not DeltaTable.isDeltaTable(spark, path):
        return {}
    by_tp: dict[tuple[str, int], list[int]] = {}
    for t, p, b in keys:
        by_tp.setdefault((t, p), []).append(b)
    wanted = None
    for (t, p), buckets in by_tp.items():
        cond = (F.col("topic") == t) & (F.col("partition") == p) & F.col("bucket").isin(buckets)
        wanted = cond if wanted is None else wanted | cond
    found: dict[Key, int] = {}
    for r in spark.read.format("delta").load(path).filter(wanted).collect():
        key = (r["topic"], r["partition"], r["bucket"])
        found[key] = found.get(key, 0) | int.from_bytes(r["offsets"], "little")
    return found


def keep_unseen(rows: DataFrame, spark: SparkSession, unseen: dict[Key, int]) -> DataFrame:
    """Rows whose coordinates are in `unseen` (rows without coordinates are kept: the quality rules
    quarantine them)."""
    bitmaps = spark.createDataFrame(
        [(t, p, b, bytearray(m.to_bytes(BUCKET_BYTES, "little"))) for (t, p, b), m in unseen.items()],
        "_u_topic STRING, _u_partition INT, _u_bucket BIGINT, _u_offsets BINARY",
    )
    topic, partition, offset = (F.col(c) for c in COORDINATES)
    joined = rows.join(
        F.broadcast(bitmaps),
        (topic == F.col("_u_topic")) & (partition == F.col("_u_partition")) & (_bucket(offset) == F.col("_u_bucket")),
        "left",
    )
    # Bit p of the bucket's bitmap is bit p % 8 of byte p // 8 (substring is 1-based).
    byte = f"cast(conv(hex(substring(_u_offsets, shiftright(_kafka_offset & {_MASK}, 3) + 1, 1)), 16, 10) as int)"
    is_set = F.expr(f"shiftright({byte}, cast(_kafka_offset & 7 as int)) & 1 = 1")
    keep = topic.isNull() | partition.isNull() | offset.isNull() | F.coalesce(is_set, F.lit(False))
    return joined.filter(keep).drop("_u_topic", "_u_partition", "_u_bucket", "_u_offsets")


def record(spark: SparkSession, path: str, taken: dict[Key, int]) -> None:
    """Appends the run's newly taken coordinates."""
    rows = [(t, p, b, bytearray(m.to_bytes(BUCKET_BYTES, "little"))) for (t, p, b), m in taken.items() if m]
    if rows:
        spark.createDataFrame(rows, LEDGER_SCHEMA).write.format("delta").mode("append").save(path)
