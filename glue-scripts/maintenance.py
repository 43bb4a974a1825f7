"""Glue / EMR Serverless / local entry point: table upkeep, Delta or Iceberg (lakehouse_spark.table_format).

  --action optimize  (default) every table of --dataset (curated, quarantine, unreadable files, gold): compaction (Delta
                     OPTIMIZE; Iceberg rewrite_data_files), the curated table Z-ordered / sorted by the record
                     id when --zorder_by_id true, then the retention (Delta VACUUM; Iceberg expire_snapshots
                     and remove_orphan_files) of --retention_hours
  --action restore   restore a table to --version (Delta version, Iceberg snapshot id) or --timestamp (time
                     travel): --table (curated | quarantine | unreadable_files | gold:<name>) of --dataset, or a Delta table
                     by path, --table_uri
On AWS an Iceberg environment leaves this to the Glue Data Catalog's table optimizers; locally this job does it.
"""

import json

from lakehouse_spark.gold import dataset_tables
from lakehouse_spark.registry import load_dataset
from lakehouse_spark.runtime import job_args, spark_session
from lakehouse_spark.table_format import table_format
from lakehouse_spark.tables import Table


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
            "table": None,
            "table_uri": None,
            "version": None,
            "timestamp": None,
            # delta | iceberg; Iceberg tables are tables of the Glue database --catalog_database (or
            # --glue_database, which CDK passes to every Glue job).
            "table_format": "delta",
            "catalog_database": None,
            "glue_database": None,
        }
    )
    spark = spark_session(f"maintenance-{args['action']}")
    fmt = table_format(spark, args["table_format"], args["catalog_database"] or args["glue_database"])
    if args["action"] not in ("optimize", "restore"):
        raise SystemExit(f"unknown --action {args['action']}")
    version = int(args["version"]) if args["version"] is not None else None
    if args["action"] == "restore" and args["table_uri"]:
        if fmt.name != "delta":
            raise SystemExit("--table_uri names a Delta table: restore an Iceberg table by --table")
        zone, name = args["table_uri"].rstrip("/").rsplit("/", 1)
        print(json.dumps(fmt.restore(Table(zone, name, name), version, args["timestamp"]), default=str))
        return
    missing = [k for k in ("dataset", "curated_uri", "quarantine_uri", "gold_uri") if not args[k]]
    if missing:
        raise SystemExit(f"--action {args['action']} needs {', '.join('--' + k for k in missing)}")
    ds = load_dataset(spark, args["dataset"], args["schema_uri"])
    tables = dataset_tables(ds, args["curated_uri"], args["quarantine_uri"], args["gold_uri"])
    if args["action"] == "restore":
        if args["table"] not in tables:
            raise SystemExit(f"--action restore needs --table_uri or --table, one of {', '.join(tables)}")
        print(json.dumps(fmt.restore(tables[args["table"]], version, args["timestamp"]), default=str))
        return
    zorder = [ds.id_field] if args["zorder_by_id"].lower() == "true" else None
    for key, table in tables.items():
        if not fmt.exists(table):
            print(json.dumps({"table": key, "skipped": f"no {fmt.name} table (yet)"}))
            continue
        result = fmt.compact(table, zorder if key == "curated" else None)
        result |= fmt.expire(table, float(args["retention_hours"]))
        print(json.dumps({"table": key, **result}, default=str))


if __name__ == "__main__":
    main()
