"""Names Delta tables in the metastore: on Glue (--enable-glue-datacatalog) that is the Glue Data Catalog, so
Athena, EMR and Redshift Spectrum find the gold tables by name as they find raw and curated (which CDK declares;
gold tables appear as the job first writes them)."""

from __future__ import annotations

from pyspark.sql import SparkSession


def register_delta_tables(spark: SparkSession, database: str, locations: dict[str, str]) -> None:
    """Declares each table once (idempotent): a Delta table keeps its schema in its log, so only the location is
    recorded."""
    for name, location in sorted(locations.items()):
        spark.sql(f"CREATE TABLE IF NOT EXISTS `{database}`.`{name}` USING DELTA LOCATION '{location}'")
