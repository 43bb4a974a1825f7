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


def test_raw_to_curated_gets_the_objective_listing_and_gate_action(dagbag):
    dag = dagbag.dags["lakehouse_pipeline"]
    curate = dag.get_task(f"{DATASETS[0]}.raw_to_curated")
    assert curate.script_args["--max_rejected_share"] == str(CONFIG["max_rejected_share"])
    assert "dag_run.conf" in curate.script_args["--gate_action"] and DATASETS[0] in curate.script_args["--gate_action"]
    assert "full" in curate.script_args["--listing"]
    assert dag.get_task(f"{DATASETS[0]}.quality_gate").retries == 0


def test_quality_gate_follows_the_jobs_decision():
    from lakehouse_pipeline import check_gate

    def summary(decision, **gate):
        figures = {"rows": 10_000, "rows_quarantined": 10, "rejected_share": 0.001, "max_rejected_share": 0.001}
        return {"dataset": "d", "run_id": "r", "reasons": {"x": 1}, "gate": {**figures, **gate, "decision": decision}}

    assert "0.1000%" in check_gate(summary("passed"))
    assert check_gate(summary("accepted by an operator"))
    with pytest.raises(AirflowFailException, match="gate blocked.*blocked by run r1"):
        check_gate(summary("blocked", rows=0, rows_quarantined=0, rejected_share=0.0, blocked_by_run="r1"))
    with pytest.raises(AirflowFailException, match="quality-gate-blocked.md"):
        check_gate(summary("blocked", rows_quarantined=11, rejected_share=0.0011))


def test_gate_action_template_reads_the_dag_run_conf(dagbag):
    from jinja2 import Environment

    template = dagbag.dags["lakehouse_pipeline"].get_task(f"{DATASETS[0]}.raw_to_curated").script_args["--gate_action"]
    render = Environment().from_string(template).render

    class Run:
        def __init__(self, conf):
            self.conf = conf

    assert render(dag_run=Run(None)) == "none"
    assert render(dag_run=Run({"gate_action": {DATASETS[0]: "discard"}})) == "discard"
    assert render(dag_run=Run({"gate_action": {"other": "accept"}})) == "none"


def test_gate_reads_where_the_job_writes():
    from lakehouse_pipeline import run_summary_key
    from lakehouse_spark.layout import run_summary_uri

    bucket, key = run_summary_key(CONFIG["state_uri"], "financial_transactions", "20240101T000000")
    assert f"s3://{bucket}/{key}" == run_summary_uri(
        CONFIG["state_uri"], "raw_to_curated", "financial_transactions", "20240101T000000"
    )
