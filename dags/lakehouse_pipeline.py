"""MWAA DAGs of the lakehouse (README.md#spark-jobs-and-orchestration).

- `lakehouse_pipeline`: per dataset, raw_to_curated -> data-quality gate -> curated_to_gold (Glue jobs),
  with retries. raw_to_curated takes the gate's decision itself, between staging and publishing (it is
  given the objective): a blocked run publishes nothing and blocks the dataset until an operator acts
  (runbooks/quality-gate-blocked.md; trigger the DAG with conf {"gate_action": {"<dataset>": "accept" |
  "discard" | "retry"}}). The gate task reads that decision from the run summary and fails the DAG run
  (without retrying), so curated_to_gold does not run. Once a week (Sunday 00:00) the listing of raw files
  is a full one, for records later than the look-back.
- `lakehouse_maintenance`: weekly OPTIMIZE / Z-order / VACUUM of every table of every dataset.

Everything environment-specific comes from `lakehouse_dag_config.json`, which CDK writes next to this
file from lib/config (path overridable with LAKEHOUSE_DAG_CONFIG):

    {"datasets": ["financial_transactions", ...],
     "glue_jobs": {"raw_to_curated": "<job>", "curated_to_gold": "<job>", "maintenance": "<job>"},
     "state_uri": "s3://<scripts-bucket>/state",
     "max_rejected_share": 0.001,
     "schedule": "@hourly",
     "region": "<aws region>"}

The Glue jobs carry the bucket URIs as default arguments; the DAG passes only the dataset, the run id
and the action.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from airflow import DAG
from airflow.exceptions import AirflowFailException
from airflow.operators.python import PythonOperator
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.utils.task_group import TaskGroup

CONFIG_PATH = Path(os.environ.get("LAKEHOUSE_DAG_CONFIG", Path(__file__).with_name("lakehouse_dag_config.json")))
# One id per DAG run, safe in an S3 key; raw_to_curated writes its summary under it, the gate reads it.
RUN_ID = "{{ ts_nodash }}"
LISTING = "{{ 'full' if logical_date.weekday() == 6 and logical_date.hour == 0 else 'incremental' }}"


def gate_action(dataset: str) -> str:
    """The operator's decision for a blocked dataset, from the DAG run's conf (default: none)."""
    return "{{ ((dag_run.conf or {}).get('gate_action') or {}).get('%s', 'none') }}" % dataset

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
}


def load_config(path: Path = CONFIG_PATH) -> dict:
    return json.loads(path.read_text())


def run_summary_key(state_uri: str, dataset: str, run_id: str) -> tuple[str, str]:
    """Bucket and key of raw_to_curated's run summary (glue-scripts/lakehouse_spark/layout.py)."""
    u = urlparse(f"{state_uri.rstrip('/')}/runs/raw_to_curated/{dataset}/{run_id}.json")
    return u.netloc, u.path.lstrip("/")


def check_gate(summary: dict) -> str:
    """Fails the run (no retry: rerunning does not make bad data good) when raw_to_curated's gate blocked."""
    gate = summary["gate"]
    message = (
        f"{summary['dataset']}: {gate['decision']}; {gate.get('rows_quarantined', 0)} of {gate.get('rows', 0)} new rows "
        f"quarantined ({gate.get('rejected_share', 0.0):.4%}, objective {gate.get('max_rejected_share')})"
    )
    if gate["decision"] == "blocked":
        raise AirflowFailException(
            f"data-quality gate blocked {message}; blocked by run {gate.get('blocked_by_run', summary['run_id'])}, "
            f"reasons {summary.get('reasons')}; see runbooks/quality-gate-blocked.md"
        )
    return message


def quality_gate(dataset: str, state_uri: str, run_id: str, region: str | None) -> str:
    bucket, key = run_summary_key(state_uri, dataset, run_id)
    summary = json.loads(S3Hook(region_name=region).read_key(key, bucket))
    return check_gate(summary)


def glue_job(task_id: str, job_name: str, region: str | None, args: dict[str, str]) -> GlueJobOperator:
    return GlueJobOperator(
        task_id=task_id,
        job_name=job_name,
        script_args=args,
        region_name=region,
        wait_for_completion=True,
        verbose=True,
        stop_job_run_on_kill=True,
    )


def build_pipeline(cfg: dict) -> DAG:
    with DAG(
        dag_id="lakehouse_pipeline",
        description="raw -> curated (quality gate) -> gold, per dataset",
        schedule=cfg.get("schedule", "@hourly"),
        start_date=datetime(2024, 1, 1),
        catchup=False,
        # The jobs' bookmarks assume one run per dataset at a time.
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        dagrun_timeout=timedelta(hours=2),
        tags=["lakehouse"],
    ) as dag:
        jobs, region = cfg["glue_jobs"], cfg.get("region")
        for dataset in cfg["datasets"]:
            with TaskGroup(group_id=dataset):
                curate = glue_job(
                    "raw_to_curated",
                    jobs["raw_to_curated"],
                    region,
                    {
                        "--dataset": dataset,
                        "--run_id": RUN_ID,
                        "--max_rejected_share": str(cfg["max_rejected_share"]),
                        "--listing": LISTING,
                        "--gate_action": gate_action(dataset),
                    },
                )
                gate = PythonOperator(
                    task_id="quality_gate",
                    python_callable=quality_gate,
                    op_kwargs={
                        "dataset": dataset,
                        "state_uri": cfg["state_uri"],
                        "run_id": RUN_ID,
                        "region": region,
                    },
                    retries=0,
                )
                gold = glue_job("curated_to_gold", jobs["curated_to_gold"], region, {"--dataset": dataset})
                curate >> gate >> gold
    return dag


def build_maintenance(cfg: dict) -> DAG:
    with DAG(
        dag_id="lakehouse_maintenance",
        description="weekly OPTIMIZE (Z-order by record id) and VACUUM of every Delta table",
        schedule="@weekly",
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["lakehouse"],
    ) as dag:
        for dataset in cfg["datasets"]:
            glue_job(
                f"maintain_{dataset}",
                cfg["glue_jobs"]["maintenance"],
                cfg.get("region"),
                {"--dataset": dataset, "--action": "optimize"},
            )
    return dag


_config = load_config()
pipeline = build_pipeline(_config)
maintenance = build_maintenance(_config)
