"""Glue / EMR Serverless / local entry point, run once per dataset when an environment switches from Delta to
Iceberg (README: "Delta or Iceberg"): copies every Delta table of --dataset (curated, quarantine, unreadable
files, gold) into an Iceberg table of --catalog_database, with the same name, partitioning and rows.

Idempotent: each Iceberg table records the Delta version it was copied from (table property
`lakehouse.migrated-from-delta-version`); a table already copied from the current version is skipped, one
copied from an older version is replaced (one atomic commit). A Glue table of that name that is not Iceberg
(CDK's registration of the Delta table) is unregistered first; the Delta files stay where they are, for a
rollback, until someone deletes them. Run it with the jobs of the dataset stopped; after it, they run with
--table_format iceberg. The raw_to_curated bookmark and coordinate ledger carry over (they do not depend on
the format); curated_to_gold's bookmark names the format, so its first Iceberg run recomputes every day.
"""

import json

import boto3
from delta.tables import DeltaTable
from lakehouse_spark.gold import dataset_tables
from lakehouse_spark.registry import load_dataset
from lakehouse_spark.runtime import REQUIRED, job_args, spark_session
from lakehouse_spark.table_format import Delta, Iceberg
from lakehouse_spark.tables import Table

MIGRATED_FROM = "lakehouse.migrated-from-delta-version"


def unregister_non_iceberg(database: str, name: str) -> bool:
    """Deletes the Glue table `name` when it is not an Iceberg table (the data is not touched)."""
    glue = boto3.client("glue")
    try:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return False
    if table.get("Parameters", {}).get("table_type", "").upper() == "ICEBERG":
        return False
    glue.delete_table(DatabaseName=database, Name=name)
    return True


def migrate_table(delta: Delta, iceberg: Iceberg, t: Table) -> dict:
    if not delta.exists(t):
        return {"skipped": "no Delta table"}
    version = delta.version(t)
    unregistered = unregister_non_iceberg(iceberg.database, t.catalog_name)
    exists = iceberg.exists(t)
    if exists and iceberg.properties(t).get(MIGRATED_FROM) == str(version):
        return {"skipped": f"already copied from Delta version {version}"}
    partitions = DeltaTable.forPath(delta.spark, t.path).detail().first()["partitionColumns"]
    rows = delta.read(t, version)
    iceberg.create(t, rows, partitions[0] if partitions else None, {MIGRATED_FROM: str(version)}, replace=exists)
    copied = iceberg.read(t).count()
    expected = rows.count()
    if copied != expected:
        raise RuntimeError(f"{t.catalog_name}: {copied} rows copied, {expected} in Delta version {version}")
    return {"delta_version": version, "rows": copied, "unregistered_delta": unregistered}


def main() -> None:
    args = job_args(
        {
            "dataset": REQUIRED,
            "curated_uri": REQUIRED,
            "quarantine_uri": REQUIRED,
            "gold_uri": REQUIRED,
            "catalog_database": REQUIRED,
            "schema_uri": None,
        }
    )
    spark = spark_session(f"migrate-table-format-{args['dataset']}")
    ds = load_dataset(spark, args["dataset"], args["schema_uri"])
    delta, iceberg = Delta(spark), Iceberg(spark, args["catalog_database"])
    for key, t in dataset_tables(ds, args["curated_uri"], args["quarantine_uri"], args["gold_uri"]).items():
        print(json.dumps({"table": key, "iceberg": t.catalog_name, **migrate_table(delta, iceberg, t)}))


if __name__ == "__main__":
    main()
