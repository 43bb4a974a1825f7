"""Delta gold tables are named in the metastore (the Glue Data Catalog on Glue) by the job that writes them."""

from lakehouse_spark.table_format import Delta
from lakehouse_spark.tables import Table


def test_register_delta_tables_is_idempotent_and_reads_the_table(spark, tmp_path):
    table = Table(str(tmp_path), "daily_account_totals", "daily_account_totals")
    spark.createDataFrame([("a-1", "USD", 2)], "account_id string, currency string, record_count long").write.format(
        "delta"
    ).save(table.path)
    spark.sql("CREATE DATABASE IF NOT EXISTS lakehouse_catalog_test")

    for _ in range(2):  # a second run must not fail nor duplicate anything
        Delta(spark, "lakehouse_catalog_test").register([table])

    rows = spark.table("lakehouse_catalog_test.daily_account_totals").collect()
    assert [tuple(r) for r in rows] == [("a-1", "USD", 2)]
