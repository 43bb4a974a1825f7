"""A run of raw_to_curated: where it reads and writes (Paths) and what it did (RunMetrics, the run summary)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .tables import Table


@contextmanager
def timed_into(seconds: dict[str, float], step: str):
    """Adds the seconds the block takes to `seconds[step]` (a step timed twice is summed)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[step] = round(seconds.get(step, 0.0) + time.perf_counter() - start, 3)


@dataclass(frozen=True)
class Paths:
    """Where a run reads and writes (raw_to_curated.py composes them from the zone URIs)."""

    raw: str
    curated: Table
    quarantine: Table
    unreadable_files: Table
    bookmark: str
    gate_marker: str

    @property
    def ledger(self) -> str:
        return f"{self.bookmark}/coordinates"


@dataclass
class RunMetrics:
    """What a run did; the run summary the DAG's quality gate reads (`gate`)."""

    dataset: str
    run_id: str
    files: int = 0
    files_listed: int = 0
    files_unreadable: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    rows_redelivered: int = 0
    rows_new: int = 0
    rows_quarantined: int = 0
    rows_valid: int = 0
    rows_superseded: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    gate: dict = field(default_factory=dict)
    published: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # where the run's time went, per step

    def timed(self, step: str):
        return timed_into(self.seconds, step)

    @property
    def rejected_share(self) -> float:
        return self.rows_quarantined / self.rows_new if self.rows_new else 0.0

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items()}
        d["rejected_share"] = self.rejected_share
        return d
