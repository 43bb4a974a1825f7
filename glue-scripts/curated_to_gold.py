"""Glue / EMR Serverless / local entry point: curated -> gold aggregates, Delta or Iceberg tables.
All logic lives in lakehouse_spark.gold; this file only wires arguments to it."""

import json

from pyspark.sql import SparkSession

from lakehouse_spark.gold import run_curated_to_gold
from lakehouse_spark.layout import bookmark_uri
from lakehouse_spark.registry import load_dataset
from lakehouse_spark.runtime import REQUIRED, job_args, spark_session
from lakehouse_spark.table_format import table_format
from lakehouse_spark.tables import curated_table, gold_table

JOB = "curated_to_gold"


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> dict:
    """Runs the job with `argv` (sys.argv by default) in `spark` (a new session by default); returns the
    run summary."""
    args = job_args(
        {
            "dataset": REQUIRED,
            "curated_uri": REQUIRED,
            "gold_uri": REQUIRED,
            "state_uri": REQUIRED,
            "schema_uri": None,
            "min_group_count": "20",
            # delta | iceberg; Iceberg tables are tables of the Glue database --catalog_database (or
            # --glue_database, which CDK passes to every Glue job). Delta gold tables are named there too.
            "table_format": "delta",
            "catalog_database": None,
            "glue_database": None,
        },
        argv,
    )
    spark = spark or spark_session(f"{JOB}-{args['dataset']}")
    ds = load_dataset(spark, args["dataset"], args["schema_uri"])
    database = args["catalog_database"] or args["glue_database"]
    fmt = table_format(spark, args["table_format"], database)
    summary = run_curated_to_gold(
        spark,
        ds,
        curated=curated_table(args["curated_uri"], ds.name),
        gold_uri=args["gold_uri"],
        bookmark_path=bookmark_uri(args["state_uri"], JOB, ds.name) + ".json",
        min_count=int(args["min_group_count"]),
        fmt=fmt,
    )
    if database:
        fmt.register([gold_table(args["gold_uri"], name) for name in summary["tables"]])
    print(json.dumps(summary, sort_keys=True, default=str))
    return summary


if __name__ == "__main__":
    main()
