"""DAG integrity: the DAG folder imports cleanly into a DagBag on MWAA's Airflow version, with the expected
structure, and the quality gate enforces the objective."""

import pytest
from airflow.exceptions import AirflowFailException
from airflow.models import DagBag
from conftest import CONFIG, DATASETS, ROOT


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(dag_folder=str(ROOT / "dags"), include_examples=False)


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"lakehouse_pipeline", "lakehouse_maintenance"}


def test_pipeline_runs_curate_gate_gold_per_dataset_with_retries(dagbag):
    dag = dagbag.dags["lakehouse_pipeline"]
    assert dag.max_active_runs == 1 and not dag.catchup
    for ds in DATASETS:
        curate, gate, gold = (dag.get_task(f"{ds}.{t}") for t in ("raw_to_curated", "quality_gate", "curated_to_gold"))
        assert curate.downstream_task_ids == {gate.task_id}
        assert gate.downstream_task_ids == {gold.task_id}
        assert curate.job_name == CONFIG["glue_jobs"]["raw_to_curated"]
        assert curate.script_args["--dataset"] == ds
        assert gold.job_name == CONFIG["glue_jobs"]["curated_to_gold"]
        assert curate.retries == 2 and gold.retries == 2


def test_maintenance_is_weekly_per_dataset(dagbag):
    dag = dagbag.dags["lakehouse_maintenance"]
    assert dag.schedule_interval == "@weekly"
    assert {t.script_args["--dataset"] for t in dag.tasks} == set(DATASETS)


def test_quality_gate_fails_above_the_objective():
    from lakehouse_pipeline import check_rejected_share

    ok = {"dataset": "d", "rows_read": 10_000, "rows_quarantined": 10}
    assert "0.1000%" in check_rejected_share(ok, 0.001)
    assert check_rejected_share({"dataset": "d", "rows_read": 0, "rows_quarantined": 0}, 0.001)
    with pytest.raises(AirflowFailException, match="data-quality gate failed"):
        check_rejected_share({**ok, "rows_quarantined": 11}, 0.001)


def test_gate_reads_where_the_job_writes():
    from lakehouse_pipeline import run_summary_key
    from lakehouse_spark.layout import run_summary_uri

    bucket, key = run_summary_key(CONFIG["state_uri"], "financial_transactions", "20240101T000000")
    assert f"s3://{bucket}/{key}" == run_summary_uri(
        CONFIG["state_uri"], "raw_to_curated", "financial_transactions", "20240101T000000"
    )
