"""Glue / EMR Serverless / local entry point: curated Delta -> gold Delta aggregates.
All logic lives in lakehouse_spark.gold; this file only wires arguments to it."""

import json

from lakehouse_spark.catalog import register_delta_tables
from lakehouse_spark.gold import run_curated_to_gold
from lakehouse_spark.layout import bookmark_uri, table_uri
from lakehouse_spark.registry import load_dataset
from lakehouse_spark.runtime import REQUIRED, job_args, spark_session

JOB = "curated_to_gold"


def main() -> None:
    args = job_args(
        {
            "dataset": REQUIRED,
            "curated_uri": REQUIRED,
            "gold_uri": REQUIRED,
            "state_uri": REQUIRED,
            "schema_uri": None,
            "min_group_count": "20",
            # Given on Glue, whose metastore is the Data Catalog: gold tables are then named there.
            "glue_database": None,
        }
    )
    spark = spark_session(f"{JOB}-{args['dataset']}")
    ds = load_dataset(spark, args["dataset"], args["schema_uri"])
    summary = run_curated_to_gold(
        spark,
        ds,
        curated_path=table_uri(args["curated_uri"], ds.name),
        gold_uri=args["gold_uri"],
        bookmark_path=bookmark_uri(args["state_uri"], JOB, ds.name) + ".json",
        min_count=int(args["min_group_count"]),
    )
    if args["glue_database"]:
        locations = {name: table_uri(args["gold_uri"], name) for name in summary["tables"]}
        register_delta_tables(spark, args["glue_database"], locations)
    print(json.dumps(summary, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
