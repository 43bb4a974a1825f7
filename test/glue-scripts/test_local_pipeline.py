"""The local Spark step's driver (localstack/tools/spark/pipeline.py): lanes of jobs in one session, the lanes
at once and a lane's jobs in order; a failing job stops its own lane only."""

from __future__ import annotations

import sys
import threading
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "localstack" / "tools" / "spark"))

from pipeline import run_lanes  # noqa: E402

# A job of the lanes below: real Spark work, then (with --meet) a wait for the job of the other lane, which
# only returns if both lanes run at the same time.
JOB = '''
import lane_sync

def main(argv, spark):
    args = dict(zip(argv[1::2], argv[2::2]))
    if args.get("--fail"):
        raise RuntimeError("this job fails")
    total = spark.range(int(args["--rows"])).selectExpr("sum(id) AS s").first()["s"]
    lane_sync.done.append((args["--dataset"], total))
    if args.get("--meet"):
        lane_sync.barrier.wait()
    return {"seconds": {"sum": 0.1}}
'''


@pytest.fixture()
def jobs(tmp_path, monkeypatch):
    (tmp_path / "lane_job.py").write_text(JOB)
    monkeypatch.syspath_prepend(str(tmp_path))
    sync = types.SimpleNamespace(barrier=threading.Barrier(2, timeout=60), done=[])
    monkeypatch.setitem(sys.modules, "lane_sync", sync)
    monkeypatch.delitem(sys.modules, "lane_job", raising=False)  # imported anew, with this test's lane_sync
    return sync


def job(dataset: str, rows: int, **flags: str) -> dict:
    return {"script": "lane_job", "args": {"--dataset": dataset, "--rows": str(rows), **{f"--{k}": v for k, v in flags.items()}}}


def test_lanes_run_at_once_and_each_in_order(spark, jobs):
    timings = run_lanes(spark, [[job("a", 10, meet="1"), job("a", 100)], [job("b", 1000, meet="1")]])
    assert "failed" not in timings
    assert sorted(jobs.done) == [("a", 45), ("a", 4950), ("b", 499500)]
    assert [d for d, _ in jobs.done if d == "a"] == ["a", "a"]
    assert jobs.done.index(("a", 45)) < jobs.done.index(("a", 4950))
    assert sorted((j["dataset"], j["steps"]["sum"]) for j in timings["jobs"]) == [("a", 0.1), ("a", 0.1), ("b", 0.1)]


def test_a_failing_job_stops_its_lane_only(spark, jobs):
    timings = run_lanes(spark, [[job("a", 10, fail="1"), job("a", 100)], [job("b", 10), job("b", 100)]])
    assert timings["failed"] == "lane_job.py for a"
    assert jobs.done == [("b", 45), ("b", 4950)]
    assert [j["dataset"] for j in timings["jobs"]] == ["b", "b"]
