"""Where a job runs: AWS Glue (awsglue importable), a cluster that launched us via spark-submit
(EMR Serverless), or a plain Python process (local mode against AWS_ENDPOINT_URL). Entry points call
`job_args` and `spark_session` and nothing else environment-specific."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from .table_format.iceberg import ICEBERG_CATALOG

REQUIRED = object()

LOCAL_JARS_DIR = Path(__file__).resolve().parents[2] / ".cache" / "spark-jars"

# OpenLineage's file transport writes local files only (its shaded jar has no S3 transport), so local runs
# append one JSON event a line here; LINEAGE_FILE moves it (the tests point it at their own folder).
LOCAL_LINEAGE_FILE = Path(__file__).resolve().parents[2] / ".lineage" / "events.jsonl"

# Settings every run needs, wherever it runs (UTC is the lake's time zone: dates and hours are UTC).
RUNTIME_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
    # Schema evolution: a field added to a dataset (an optional one, schemas/compatibility.ts) becomes a
    # column of the curated and quarantine tables on the next MERGE, null in the rows written before it.
    "spark.databricks.delta.schema.autoMerge.enabled": "true",
    # raw_to_curated caches the rows it stages for the length of a run (staging.py): building a compressed
    # cache took three times as long as the pass that builds it (6.4 s against 2.1 s for 1M rows).
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}


def _glue_available() -> bool:
    try:
        import awsglue  # noqa: F401  (present only on Glue)
    except ImportError:
        return False
    return True


def job_args(spec: dict[str, object], argv: list[str] | None = None) -> dict[str, str | None]:
    """Parses `--name value` arguments: Glue's getResolvedOptions on Glue (it has no optional arguments,
    so only those present are asked for), argparse elsewhere. `spec` maps names to defaults or REQUIRED."""
    argv = sys.argv if argv is None else argv
    if _glue_available():
        from awsglue.utils import getResolvedOptions

        present = [k for k in spec if f"--{k}" in argv]
        missing = [k for k, d in spec.items() if d is REQUIRED and k not in present]
        if missing:
            raise SystemExit(f"missing job arguments: {', '.join('--' + k for k in missing)}")
        resolved = getResolvedOptions(argv, present)
        return {k: resolved.get(k, None if d is REQUIRED else d) for k, d in spec.items()}
    parser = argparse.ArgumentParser()
    for name, default in spec.items():
        if default is REQUIRED:
            parser.add_argument(f"--{name}", required=True)
        else:
            parser.add_argument(f"--{name}", default=default)
    return vars(parser.parse_known_args(argv[1:])[0])


def _lineage_file() -> Path:
    path = Path(os.environ.get("LINEAGE_FILE", LOCAL_LINEAGE_FILE))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def iceberg_catalog_conf(endpoint: str | None = None, region: str | None = None) -> dict[str, str]:
    """The Spark catalog of the Iceberg tables: the Glue Data Catalog, data through Iceberg's S3FileIO.
    Every table has its own location, so the catalog needs no warehouse. With `endpoint` (the emulator)
    Glue and S3 are asked there, path-style."""
    prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
    conf = {
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        # catalog-impl, not the equivalent type=glue: OpenLineage recognises a Glue catalog by its class.
        f"{prefix}.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        f"{prefix}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    }
    if endpoint:
        conf |= {
            f"{prefix}.glue.endpoint": endpoint,
            f"{prefix}.s3.endpoint": endpoint,
            f"{prefix}.s3.path-style-access": "true",
        }
    if region:
        conf[f"{prefix}.client.region"] = region
    return conf


# Local runs are mostly many small Spark jobs over a few thousand rows (`npm start`, the tests), whose fixed
# costs are the JVM's and Spark's compilers, not the rows: in `npm start`'s Spark step (its datasets at once,
# two cores) C2's compiler threads took 49 of the JVM's 75 CPU seconds (step: 111 s; with C1 alone, 66 s), and
# compiling a whole-stage class per query took most of the rest (with neither, 47 s). C1 alone reserves 48 MB
# of code cache unless told otherwise, which a long session fills ("Out of space in CodeCache"). A run over
# a million rows wants both (bench/spark.py sets LAKEHOUSE_SPARK_RUNS=large).
RUN_PROFILES = {
    "small": {
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m",
        "spark.sql.codegen.wholeStage": "false",
    },
    "large": {},
}


def _local_session(app_name: str) -> SparkSession:
    """Local mode: Delta, Iceberg and s3a jars from .cache/spark-jars (fetched by scripts/setup.sh, never resolved
    at run time); s3:// and s3a:// both go to AWS_ENDPOINT_URL (path-style) so that the same URIs as on AWS
    work against the emulator."""
    jars_dir = Path(os.environ.get("SPARK_JARS_DIR", LOCAL_JARS_DIR))
    jars = sorted(str(p) for p in jars_dir.glob("*.jar"))
    if not jars:
        raise SystemExit(f"no jars in {jars_dir}: run scripts/setup.sh")
    b = (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
        .appName(app_name)
        .config("spark.jars", ",".join(jars))
        .config(
            "spark.sql.extensions",
            "io.delta.sql.DeltaSparkSessionExtension,org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        )
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.default.parallelism", "4")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.hadoop.fs.s3.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem")
        .config("spark.hadoop.fs.s3a.path.style.access", "true")
        .config(
            "spark.hadoop.fs.s3a.aws.credentials.provider",
            "com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
        )
        # The emulator does not need (or keep) what these buy on AWS.
        .config("spark.hadoop.fs.s3a.change.detection.mode", "none")
        .config("spark.hadoop.fs.s3a.committer.magic.enabled", "false")
        .config("spark.extraListeners", "io.openlineage.spark.agent.OpenLineageSparkListener")
        .config("spark.openlineage.namespace", "lakehouse")
        .config("spark.openlineage.transport.type", "file")
        .config("spark.openlineage.transport.location", str(_lineage_file()))
    )
    for key, value in RUN_PROFILES[os.environ.get("LAKEHOUSE_SPARK_RUNS", "small")].items():
        b = b.config(key, value)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        b = b.config("spark.hadoop.fs.s3a.endpoint", endpoint).config(
            "spark.hadoop.fs.s3a.connection.ssl.enabled", str(endpoint.startswith("https")).lower()
        )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        b = b.config("spark.hadoop.fs.s3a.endpoint.region", region)
    for key, value in iceberg_catalog_conf(endpoint, region).items():
        b = b.config(key, value)
    return b.getOrCreate()


def _publish_lineage_at_exit(spark: SparkSession) -> None:
    """On AWS the listener's file transport writes on the driver (openlineage-spark has no S3 transport);
    when the job ends, the run's events go to spark.lakehouse.lineage.uri as <application id>.jsonl
    (lib/config/spark-jobs.ts sets both)."""
    target = spark.conf.get("spark.lakehouse.lineage.uri", None)
    events = spark.conf.get("spark.openlineage.transport.location", None)
    if not target or not events:
        return
    jvm, hadoop_conf = spark._jvm, spark._jsc.hadoopConfiguration()
    destination = jvm.org.apache.hadoop.fs.Path(f"{target.rstrip('/')}/{spark.sparkContext.applicationId}.jsonl")

    def publish() -> None:
        # The listener emits on Spark's listener bus: once it is drained, every event of the run is written.
        spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty()
        if Path(events).exists():
            destination.getFileSystem(hadoop_conf).copyFromLocalFile(
                jvm.org.apache.hadoop.fs.Path(f"file://{events}"), destination
            )

    atexit.register(publish)


def spark_session(app_name: str) -> SparkSession:
    if _glue_available():
        from awsglue.context import GlueContext
        from pyspark.context import SparkContext

        spark = GlueContext(SparkContext.getOrCreate()).spark_session
    elif "PYSPARK_GATEWAY_PORT" in os.environ:
        # Launched by spark-submit (EMR Serverless): the cluster's configuration already has Delta and Iceberg.
        spark = SparkSession.builder.appName(app_name).getOrCreate()
    else:
        spark = _local_session(app_name)
    for key, value in RUNTIME_CONF.items():
        spark.conf.set(key, value)
    _publish_lineage_at_exit(spark)
    return spark
