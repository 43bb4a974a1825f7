"""Small JSON documents (run summaries, bookmarks) next to the data, through Spark's Hadoop file systems:
the same code reads and writes s3:// on Glue and EMR Serverless, the emulator locally, and local paths."""

from __future__ import annotations

import json

from pyspark.sql import SparkSession


def fs_path(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def write_json(spark: SparkSession, uri: str, doc: dict) -> None:
    fs, path = fs_path(spark, uri)
    out = fs.create(path, True)
    try:
        out.write(bytearray(json.dumps(doc, indent=2, sort_keys=True, default=str).encode()))
    finally:
        out.close()


def read_json(spark: SparkSession, uri: str) -> dict | None:
    """The document, or None when there is none yet."""
    fs, path = fs_path(spark, uri)
    if not fs.exists(path):
        return None
    stream = fs.open(path)
    try:
        text = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
    return json.loads(text)


def delete(spark: SparkSession, uri: str) -> None:
    fs, path = fs_path(spark, uri)
    fs.delete(path, False)
