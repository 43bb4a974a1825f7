"""Dataset definitions as the Spark jobs see them, loaded from the generated JSON schema
(schemas/generated/<dataset>.schema.json, written by `npm run schemas` from the TypeScript registry).
Nothing here restates a field: names, kinds, requirements, ranges and known values all come from the file.
The data-quality rules (stricter than the API, which takes what the replaced service took) are read from
the file's `x-quality` blocks: per field (min_length, minimum, known_values) and per dataset
(currency_codes, the ISO 4217 list)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import types as T

# Raw-zone logical types (x-raw-columns) to Spark types.
_RAW_TYPES = {
    "string": T.StringType(),
    "double": T.DoubleType(),
    "timestamp": T.TimestampType(),
    "int32": T.IntegerType(),
    "int64": T.LongType(),
}

LOCAL_SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "generated"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool
    min_length: int | None
    minimum: float | None
    known_values: tuple[str, ...] | None


@dataclass(frozen=True)
class StreamingWindow:
    """The streaming job's windows of a dataset (x-window): its group fields and the measure."""

    group_by: tuple[str, ...]
    measure: str


@dataclass(frozen=True)
class Dataset:
    name: str
    id_field: str
    event_time_field: str
    schema_version: int
    fields: tuple[Field, ...]
    # (name, logical type, nullable, source) of every raw-zone column: record fields, then metadata.
    raw_columns: tuple[tuple[str, str, bool, str], ...]
    money_precision: int
    money_scale: int
    # ISO 4217 codes a `currency` field must hold in curated (empty when the dataset has no currency).
    currency_codes: tuple[str, ...] = ()
    # Its Kafka topic (x-topic) and streaming windows (x-window; None: not streamed).
    topic: str = ""
    window: StreamingWindow | None = None

    @property
    def metadata_columns(self) -> list[str]:
        return [name for name, _, _, source in self.raw_columns if source == "metadata"]

    @property
    def required_metadata_columns(self) -> list[str]:
        return [n for n, _, nullable, source in self.raw_columns if source == "metadata" and not nullable]

    def raw_schema(self) -> T.StructType:
        """Schema the raw Parquet is read with. Every column is nullable here: required-ness is a
        data-quality rule (quarantine with a reason), not a read failure."""
        return T.StructType([T.StructField(n, _RAW_TYPES[t], True) for n, t, _, _ in self.raw_columns])

    def money_type(self) -> T.DecimalType:
        return T.DecimalType(self.money_precision, self.money_scale)


def parse_dataset(schema: dict) -> Dataset:
    required = set(schema.get("required", []))
    fields = tuple(_field(name, prop, name in required) for name, prop in schema["properties"].items())
    return Dataset(
        name=schema["x-dataset"],
        id_field=schema["x-id-field"],
        event_time_field=schema["x-event-time-field"],
        schema_version=schema["x-schema-version"],
        fields=fields,
        raw_columns=tuple((c["name"], c["type"], c["nullable"], c["source"]) for c in schema["x-raw-columns"]),
        money_precision=schema["x-money"]["precision"],
        money_scale=schema["x-money"]["scale"],
        currency_codes=tuple(schema.get("x-quality", {}).get("currency_codes", ())),
        topic=schema.get("x-topic", ""),
        window=StreamingWindow(tuple(w["group_by"]), w["measure"]) if (w := schema.get("x-window")) else None,
    )


def _field(name: str, prop: dict, required: bool) -> Field:
    quality = prop.get("x-quality", {})
    known = quality.get("known_values")
    return Field(
        name=name,
        kind=prop["x-kind"],
        required=required,
        min_length=quality.get("min_length"),
        minimum=quality.get("minimum"),
        known_values=tuple(known) if known is not None else None,
    )


def load_dataset(spark: SparkSession, dataset: str, schema_dir: str | None = None) -> Dataset:
    """Reads `<schema_dir>/<dataset>.schema.json`; schema_dir may be a local folder or an s3:// prefix
    (on Glue / EMR the files are deployed next to the scripts), read through Spark's file systems."""
    base = schema_dir.rstrip("/") if schema_dir else str(LOCAL_SCHEMA_DIR)
    path = f"{base}/{dataset}.schema.json"
    if "://" not in path:
        return parse_dataset(json.loads(Path(path).read_text()))
    text = spark.read.text(path, wholetext=True).first()[0]
    return parse_dataset(json.loads(text))
