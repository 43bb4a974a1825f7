"""Compaction, vacuum and time-travel restore on a small Delta table in the emulator."""

from delta.tables import DeltaTable
from lakehouse_spark.maintenance import optimize, restore, vacuum


def test_optimize_vacuum_and_restore(spark, bucket):
    path = f"s3://{bucket}/table"
    for i in range(3):
        spark.range(i * 10, i * 10 + 10).withColumnRenamed("id", "record_id").write.format("delta").mode("append").save(path)
    table = DeltaTable.forPath(spark, path)
    assert table.detail().first()["numFiles"] > 1

    result = optimize(spark, path, ["record_id"])
    assert result["files_added"] == 1 and result["files_removed"] > 1
    assert table.detail().first()["numFiles"] == 1
    vacuum(spark, path, 0)
    assert spark.conf.get("spark.databricks.delta.retentionDurationCheck.enabled", "true") == "true"

    # Restoring version 0 needs its files, which VACUUM(0) removed: restore the optimized state instead,
    # after a bad write.
    good = table.history(1).first()["version"]
    spark.range(1000, 1005).withColumnRenamed("id", "record_id").write.format("delta").mode("overwrite").save(path)
    assert spark.read.format("delta").load(path).count() == 5
    restore(spark, path, version=good)
    assert sorted(r[0] for r in spark.read.format("delta").load(path).collect()) == list(range(30))
