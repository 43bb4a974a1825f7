"""The Spark step of `npm start` in one driver: the jobs run.ts lists, through the Glue scripts' own entry
points, in one local session: the JVM, the jars, the Delta and Iceberg catalogs and the emulator's
connections are set up once instead of once per job.

The jobs come in lanes (one per dataset: raw_to_curated then curated_to_gold; the streaming windows' catch-up
run in a lane of its own). A lane's jobs run in order; the lanes run at once, each in a thread of its own:
a run of a few thousand rows is a chain of small Spark jobs (Delta log reads, commits, the emulator's round
trips), and those of one dataset then wait while another's compute.

Usage: pipeline.py <jobs.json> <timings.json>
  jobs.json    {"lanes": [[{"script": "raw_to_curated", "args": {"--dataset": "...", ...}}, ...], ...]}
  timings.json written at the end: {"session": s, "jobs": [{"script", "dataset", "seconds", "steps"}, ...],
               "failed": "<script>.py for <dataset>" (only when a job failed)}
A failing job stops its lane (the other lanes finish) and the run exits with status 1.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "glue-scripts"))

from lakehouse_spark.runtime import spark_session  # noqa: E402


def run_lanes(spark, lanes: list[list[dict]]) -> dict:
    """Runs the lanes at once, each in a thread, a lane's jobs in order: {"jobs": [{"script", "dataset",
    "seconds", "steps"}, ...] in the order they ended, "failed": "<script>.py for <dataset>" when one failed}."""
    timings: dict = {"jobs": []}
    lock = threading.Lock()

    def run_lane(lane: list[dict]) -> None:
        for job in lane:
            script, args = job["script"], job["args"]
            what = args.get("--dataset") or args.get("--datasets")
            print(f"spark: {script}.py {' '.join(f'{k} {v}' for k, v in args.items())}", flush=True)
            started = time.perf_counter()
            try:
                argv = [script, *[x for kv in args.items() for x in kv]]
                summary = importlib.import_module(script).main(argv, spark)
            except Exception:  # noqa: BLE001  (reported with its job; its lane stops there)
                traceback.print_exc()
                with lock:
                    timings.setdefault("failed", f"{script}.py for {what}")
                return
            seconds = round(time.perf_counter() - started, 3)
            with lock:
                timings["jobs"].append(
                    {"script": script, "dataset": what, "seconds": seconds, "steps": summary.get("seconds", {})}
                )

    threads = [threading.Thread(target=run_lane, args=(lane,)) for lane in lanes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings


def main() -> int:
    jobs_file, timings_file = sys.argv[1:3]
    lanes = json.loads(Path(jobs_file).read_text())["lanes"]
    t0 = time.perf_counter()
    spark = spark_session("local-pipeline")
    timings: dict = {"session": round(time.perf_counter() - t0, 3), "jobs": []}
    try:
        timings |= run_lanes(spark, lanes)
    finally:
        Path(timings_file).write_text(json.dumps(timings))
    return 1 if "failed" in timings else 0


if __name__ == "__main__":
    sys.exit(main())
