"""Glue / EMR Serverless / local entry point: raw Parquet -> curated table (+ quarantine), Delta or Iceberg.
All logic lives in lakehouse_spark.curate; this file only wires arguments to it."""

import json

from pyspark.sql import SparkSession

from lakehouse_spark.curate import run_raw_to_curated
from lakehouse_spark.layout import bookmark_uri, default_run_id, gate_marker_uri, run_summary_uri, table_uri
from lakehouse_spark.registry import load_dataset
from lakehouse_spark.runs import Paths
from lakehouse_spark.runtime import REQUIRED, job_args, spark_session
from lakehouse_spark.storage import write_json
from lakehouse_spark.table_format import table_format
from lakehouse_spark.tables import curated_table, quarantine_table, unreadable_files_table

JOB = "raw_to_curated"


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> dict:
    """Runs the job with `argv` (sys.argv by default) in `spark` (a new session by default: the local
    runner passes its own, to run every job of a run in one driver); returns the run summary."""
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
            # The data-quality objective (lib/config alarms.rejectedRatio, passed by the DAG): above it the
            # run publishes nothing and blocks the dataset. Without it every run passes.
            "max_rejected_share": None,
            # Late records are looked for in the hours since the previous listing minus this look-back;
            # --listing full lists everything (the DAG does it weekly).
            "lookback_hours": "48",
            "listing": "incremental",
            # What to do with a blocked dataset: none | accept | discard | retry (runbooks/quality-gate-blocked.md).
            "gate_action": "none",
            # delta | iceberg; Iceberg tables are tables of the Glue database --catalog_database (or
            # --glue_database, which CDK passes to every Glue job).
            "table_format": "delta",
            "catalog_database": None,
            "glue_database": None,
        },
        argv,
    )
    spark = spark or spark_session(f"{JOB}-{args['dataset']}")
    ds = load_dataset(spark, args["dataset"], args["schema_uri"])
    run_id = args["run_id"] or default_run_id()
    if args["listing"] not in ("incremental", "full"):
        raise SystemExit("--listing must be incremental or full")
    fmt = table_format(spark, args["table_format"], args["catalog_database"] or args["glue_database"])
    paths = Paths(
        raw=table_uri(args["raw_uri"], ds.name),
        curated=curated_table(args["curated_uri"], ds.name),
        quarantine=quarantine_table(args["quarantine_uri"], ds.name),
        unreadable_files=unreadable_files_table(args["quarantine_uri"], ds.name),
        bookmark=bookmark_uri(args["state_uri"], JOB, ds.name),
        gate_marker=gate_marker_uri(args["state_uri"], JOB, ds.name),
    )
    share = args["max_rejected_share"]
    metrics = run_raw_to_curated(
        spark,
        ds,
        paths,
        run_id=run_id,
        fmt=fmt,
        future_tolerance_minutes=int(args["future_tolerance_minutes"]),
        max_rejected_share=float(share) if share not in (None, "") else None,
        lookback_hours=float(args["lookback_hours"]),
        full_listing=args["listing"] == "full",
        gate_action=args["gate_action"] or "none",
    )
    summary = metrics.as_dict()
    write_json(spark, run_summary_uri(args["state_uri"], JOB, ds.name, run_id), summary)
    print(json.dumps(summary, sort_keys=True))
    return summary


if __name__ == "__main__":
    main()
