"""The Spark step of `npm start` in one driver: the jobs run.ts lists (every job of a run, for every dataset),
in order, through the Glue scripts' own entry points, in one local session: the JVM, the jars, the Delta
and Iceberg catalogs and the emulator's connections are set up once instead of once per job.

Usage: pipeline.py <jobs.json> <timings.json>
  jobs.json    [{"script": "raw_to_curated", "args": {"--dataset": "...", ...}}, ...]
  timings.json written at the end: {"session": s, "jobs": [{"script", "dataset", "seconds", "steps"}, ...]}
A failing job stops the run (exit status 1) after writing the timings of the jobs before it.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "glue-scripts"))

from lakehouse_spark.runtime import spark_session  # noqa: E402


def main() -> int:
    jobs_file, timings_file = sys.argv[1:3]
    jobs = json.loads(Path(jobs_file).read_text())
    t0 = time.perf_counter()
    spark = spark_session("local-pipeline")
    timings: dict = {"session": round(time.perf_counter() - t0, 3), "jobs": []}
    status = 0
    try:
        for job in jobs:
            script, args = job["script"], job["args"]
            print(f"spark: {script}.py {' '.join(f'{k} {v}' for k, v in args.items())}", flush=True)
            started = time.perf_counter()
            try:
                summary = importlib.import_module(script).main([script, *[x for kv in args.items() for x in kv]], spark)
            except Exception:  # noqa: BLE001  (reported with its job; the run stops there)
                traceback.print_exc()
                timings["failed"] = f"{script}.py for {args.get('--dataset')}"
                status = 1
                break
            timings["jobs"].append(
                {
                    "script": script,
                    "dataset": args.get("--dataset"),
                    "seconds": round(time.perf_counter() - started, 3),
                    "steps": summary.get("seconds", {}),
                }
            )
    finally:
        Path(timings_file).write_text(json.dumps(timings))
    return status


if __name__ == "__main__":
    sys.exit(main())
