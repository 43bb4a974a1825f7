"""The DAG tests run in .venv-airflow (Airflow 2.10.3, as on MWAA) with a throwaway AIRFLOW_HOME and a DAG
config like the one CDK deploys, listing the registry's datasets."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_home = Path(tempfile.mkdtemp(prefix="airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home / 'airflow.db'}"

DATASETS = sorted(p.name.removesuffix(".schema.json") for p in (ROOT / "schemas" / "generated").glob("*.schema.json"))
CONFIG = {
    "datasets": DATASETS,
    "glue_jobs": {"raw_to_curated": "r2c", "curated_to_gold": "c2g", "maintenance": "maint"},
    "state_uri": "s3://scripts-bucket/state",
    "max_rejected_share": 0.001,
    "schedule": "@hourly",
    "region": "us-east-1",
}
_config_file = _home / "lakehouse_dag_config.json"
_config_file.write_text(json.dumps(CONFIG))
os.environ["LAKEHOUSE_DAG_CONFIG"] = str(_config_file)
sys.path.insert(0, str(ROOT / "dags"))
sys.path.insert(0, str(ROOT / "glue-scripts"))
