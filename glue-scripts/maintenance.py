"""Glue / EMR Serverless / local entry point: Delta maintenance.

  --action optimize  (default) OPTIMIZE + VACUUM every table of --dataset (curated, quarantine, gold),
                     the curated table Z-ordered by the record id when --zorder_by_id true
  --action restore   restore --table_uri to --version or --timestamp
"""

import json

from delta.tables import DeltaTable
from lakehouse_spark.gold import gold_tables
from lakehouse_spark.layout import table_uri
from lakehouse_spark.maintenance import optimize, restore, vacuum
from lakehouse_spark.registry import load_dataset
from lakehouse_spark.runtime import job_args, spark_session


def main() -> None:
    args = job_args(
        {
            "action": "optimize",
            "dataset": None,
            "curated_uri": None,
            "quarantine_uri": None,
            "gold_uri": None,
            "schema_uri": None,
            "zorder_by_id": "true",
            "retention_hours": "168",
            "table_uri": None,
            "version": None,
            "timestamp": None,
        }
    )
    spark = spark_session(f"maintenance-{args['action']}")
    if args["action"] == "restore":
        if not args["table_uri"]:
            raise SystemExit("--action restore needs --table_uri")
        version = int(args["version"]) if args["version"] is not None else None
        print(json.dumps(restore(spark, args["table_uri"], version, args["timestamp"]), default=str))
        return
    if args["action"] != "optimize":
        raise SystemExit(f"unknown --action {args['action']}")
    missing = [k for k in ("dataset", "curated_uri", "quarantine_uri", "gold_uri") if not args[k]]
    if missing:
        raise SystemExit(f"--action optimize needs {', '.join('--' + k for k in missing)}")
    ds = load_dataset(spark, args["dataset"], args["schema_uri"])
    zorder = [ds.id_field] if args["zorder_by_id"].lower() == "true" else None
    tables = [(table_uri(args["curated_uri"], ds.name), zorder), (table_uri(args["quarantine_uri"], ds.name), None)]
    tables += [(table_uri(args["gold_uri"], spec.table), None) for spec in gold_tables(ds)]
    for path, zorder_by in tables:
        if not DeltaTable.isDeltaTable(spark, path):
            print(json.dumps({"table": path, "skipped": "not a Delta table (yet)"}))
            continue
        result = optimize(spark, path, zorder_by)
        vacuum(spark, path, float(args["retention_hours"]))
        print(json.dumps({"table": path, **result}))


if __name__ == "__main__":
    main()
