"""The table format of the curated, curated quarantine and gold tables: Delta Lake (the default, tables
addressed by path) or Apache Iceberg (tables of the Glue Data Catalog, through the Spark catalog
`glue_catalog`). The jobs keep one set of transformations; reading, writing, merging and maintaining a table
go through `TableFormat`, chosen per environment by the job argument --table_format.

A table's version is a Delta version, or an Iceberg snapshot id (not ordered: only compared for equality).
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from .base import TableFormat
from .delta import Delta
from .iceberg import Iceberg

FORMATS = ("delta", "iceberg")


def table_format(spark: SparkSession, name: str | None, database: str | None = None) -> TableFormat:
    """The format named by --table_format (default delta)."""
    name = (name or "delta").lower()
    if name not in FORMATS:
        raise SystemExit(f"--table_format must be one of {', '.join(FORMATS)}")
    return (Delta if name == "delta" else Iceberg)(spark, database)
