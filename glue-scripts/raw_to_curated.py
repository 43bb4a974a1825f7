"""Glue / EMR Serverless / local entry point: raw Parquet -> curated Delta (+ quarantine Delta).
All logic lives in lakehouse_spark.curate; this file only wires arguments to it."""

import json

from lakehouse_spark.curate import run_raw_to_curated
from lakehouse_spark.layout import bookmark_uri, default_run_id, run_summary_uri, table_uri
from lakehouse_spark.registry import load_dataset
from lakehouse_spark.runtime import REQUIRED, job_args, spark_session
from lakehouse_spark.storage import write_json

JOB = "raw_to_curated"


def main() -> None:
    args = job_args(
        {
            "dataset": REQUIRED,
            "raw_uri": REQUIRED,
            "curated_uri": REQUIRED,
            "quarantine_uri": REQUIRED,
            "state_uri": REQUIRED,
            "schema_uri": None,
            "run_id": None,
            "future_tolerance_minutes": "5",
        }
    )
    spark = spark_session(f"{JOB}-{args['dataset']}")
    ds = load_dataset(spark, args["dataset"], args["schema_uri"])
    run_id = args["run_id"] or default_run_id()
    metrics = run_raw_to_curated(
        spark,
        ds,
        raw_path=table_uri(args["raw_uri"], ds.name),
        curated_path=table_uri(args["curated_uri"], ds.name),
        quarantine_path=table_uri(args["quarantine_uri"], ds.name),
        bookmark_path=bookmark_uri(args["state_uri"], JOB, ds.name),
        run_id=run_id,
        future_tolerance_minutes=int(args["future_tolerance_minutes"]),
    )
    write_json(spark, run_summary_uri(args["state_uri"], JOB, ds.name, run_id), metrics.as_dict())
    print(json.dumps(metrics.as_dict(), sort_keys=True))


if __name__ == "__main__":
    main()
