"""Glue streaming / local entry point: the raw topics -> 1-minute tumbling windows in gold, continuously.
All logic lives in lakehouse_spark.windows; this file wires arguments, the Kafka source and the checkpoint.

It runs until stopped (Glue streaming; `npm start` beside the batch step), or with --available_now true
processes what the topics hold and exits (tests, backfills). The checkpoint (in the scripts bucket) and the
window state table make a restart neither lose nor double a record.
"""

import json
from datetime import timedelta

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQueryListener

from lakehouse_spark.registry import load_dataset
from lakehouse_spark.runtime import REQUIRED, job_args, spark_session
from lakehouse_spark.storage import write_json
from lakehouse_spark.table_format import table_format
from lakehouse_spark.windows import WindowsBatch, late_records_table, status_text, windows_table

JOB = "streaming_windows"

# MSK with IAM auth (aws-msk-iam-auth, which Glue 5.0 ships): the job role's kafka-cluster permissions.
IAM_AUTH = {
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "AWS_MSK_IAM",
    "kafka.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
    "kafka.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
}


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> dict:
    """Runs the job with `argv` (sys.argv by default) in `spark` (a new session by default: `npm start --once`
    runs it with --available_now true in the driver of its batch step); returns the totals of the micro-batches
    it ran, when it ends (with --available_now true; otherwise it runs until stopped)."""
    args = job_args(
        {
            "datasets": REQUIRED,
            # The local broker's servers, or (AWS) the MSK cluster whose IAM bootstrap brokers are looked up.
            "kafka_bootstrap_servers": None,
            "kafka_cluster_arn": None,
            "gold_uri": REQUIRED,
            "quarantine_uri": REQUIRED,
            "state_uri": REQUIRED,
            "schema_uri": None,
            # none (the local broker) | iam (MSK)
            "kafka_auth": "none",
            "watermark_minutes": "10",
            "trigger_seconds": "5",
            "starting_offsets": "earliest",
            "max_offsets_per_trigger": "200000",
            "available_now": "false",
            # The consumer group prefix the job role's kafka-cluster:*Group permissions name.
            "consumer_group_prefix": JOB,
            # CloudWatch namespace and {"offsetsBehind": name, ...} of the metrics (none published without).
            "metrics_namespace": None,
            "metric_names": "{}",
            "table_format": "delta",
            "catalog_database": None,
            "glue_database": None,
        },
        argv,
    )
    spark = spark or spark_session(JOB)
    datasets = {ds.name: ds for ds in (load_dataset(spark, n.strip(), args["schema_uri"]) for n in args["datasets"].split(","))}
    unstreamed = [n for n, ds in datasets.items() if ds.window is None]
    if unstreamed:
        raise SystemExit(f"datasets without a streaming window in the registry: {', '.join(unstreamed)}")
    database = args["catalog_database"] or args["glue_database"]
    fmt = table_format(spark, args["table_format"], database)
    state_uri = args["state_uri"].rstrip("/")
    batches = WindowsBatch(
        spark,
        fmt,
        datasets,
        gold_uri=args["gold_uri"],
        quarantine_uri=args["quarantine_uri"],
        state_uri=state_uri,
        watermark=timedelta(minutes=float(args["watermark_minutes"])),
    )
    metrics = Metrics(args["metrics_namespace"], json.loads(args["metric_names"]))
    status_uri = f"{state_uri}/{JOB}/status.json"
    registered = False
    totals = dict.fromkeys(("records", "on_time", "duplicates", "late", "unreadable"), 0)
    seconds: dict[str, float] = {}  # per stage, over the micro-batches

    def each_batch(rows, batch_id: int) -> None:
        nonlocal registered
        result = batches.process(rows, batch_id)
        if database and not registered and fmt.exists(windows_table(args["gold_uri"])):
            tables = [windows_table(args["gold_uri"])]
            if fmt.exists(late_records_table(args["quarantine_uri"])):
                tables.append(late_records_table(args["quarantine_uri"]))
            fmt.register(tables)
            registered = len(tables) == 2
        for k in totals:
            totals[k] += getattr(result, k)
        for stage, s in result.stage_seconds.items():
            seconds[stage] = round(seconds.get(stage, 0.0) + s, 3)
        doc = {**result.as_dict(), "totals": totals, "offsets_behind_latest": metrics.offsets_behind}
        write_json(spark, status_uri, doc)
        metrics.batch(result)
        print(status_text(result), flush=True)

    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap_servers(args))
        .option("subscribe", ",".join(ds.topic for ds in datasets.values()))
        .option("startingOffsets", args["starting_offsets"])
        .option("maxOffsetsPerTrigger", args["max_offsets_per_trigger"])
        .option("groupIdPrefix", args["consumer_group_prefix"])
        .options(**(IAM_AUTH if args["kafka_auth"] == "iam" else {}))
    )
    writer = (
        reader.load()
        .writeStream.queryName(JOB)
        .option("checkpointLocation", f"{state_uri}/{JOB}/checkpoint")
        .foreachBatch(each_batch)
    )
    if args["available_now"] == "true":
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{int(args['trigger_seconds'])} seconds")
    spark.streams.addListener(metrics)
    query = writer.start()
    query.awaitTermination()
    spark.streams.removeListener(metrics)
    return {"totals": totals, "seconds": seconds}


def bootstrap_servers(args: dict) -> str:
    if args["kafka_bootstrap_servers"]:
        return args["kafka_bootstrap_servers"]
    if not args["kafka_cluster_arn"]:
        raise SystemExit("give --kafka_bootstrap_servers or --kafka_cluster_arn")
    import boto3

    brokers = boto3.client("kafka").get_bootstrap_brokers(ClusterArn=args["kafka_cluster_arn"])
    return brokers["BootstrapBrokerStringSaslIam"]


class Metrics(StreamingQueryListener):
    """Publishes the job's lag, freshness and late records to CloudWatch (when a namespace is given), and
    keeps the Kafka source's offsets-behind-latest for the status document."""

    def __init__(self, namespace: str | None, names: dict[str, str]) -> None:
        super().__init__()
        self.namespace = namespace
        self.names = names
        self.offsets_behind: int | None = None
        self._cloudwatch = None
        if namespace:
            import boto3

            self._cloudwatch = boto3.client("cloudwatch")

    def onQueryStarted(self, event) -> None:  # noqa: N802
        pass

    def onQueryIdle(self, event) -> None:  # noqa: N802
        pass

    def onQueryTerminated(self, event) -> None:  # noqa: N802
        pass

    def onQueryProgress(self, event) -> None:  # noqa: N802
        behind = [
            int(float(s.metrics["maxOffsetsBehindLatest"]))
            for s in event.progress.sources
            if s.metrics and s.metrics.get("maxOffsetsBehindLatest") is not None
        ]
        if behind:
            self.offsets_behind = max(behind)
            self._put({"offsetsBehind": self.offsets_behind})

    def batch(self, result) -> None:
        self._put({"late": result.late, **({"freshnessP99": result.freshness_seconds["p99"]} if result.freshness_seconds else {})})

    def _put(self, values: dict[str, float]) -> None:
        if not self._cloudwatch:
            return
        data = [{"MetricName": self.names[k], "Value": float(v)} for k, v in values.items() if k in self.names]
        if data:
            self._cloudwatch.put_metric_data(Namespace=self.namespace, MetricData=data)


if __name__ == "__main__":
    main()
