"""Who is scoring: one row per worker process in the `workers` table, on whatever machine.

A worker registers when it starts, beats while it lives (between polls, and with every
progress report of a job), adds each job it finishes to its counts, and marks itself
stopped on the way out. `/metrics` reads the table: the age of each worker's last
heartbeat, and what each has scored. A worker killed with SIGKILL leaves its row behind
with a heartbeat that only grows older; rows silent for a day are cleared.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from formcheck.server.db import now, workers

#: A stopped or silent worker's row is kept this long (s) for the metrics, then cleared.
FORGET_AFTER_S = 86400.0


def worker_name(label: str) -> str:
    """A name unique among the workers alive anywhere: `<host>/<pid>/<label>`."""
    return f"{socket.gethostname()[:80]}/{os.getpid()}/{label}"[:120]


def register(engine: Engine, name: str) -> None:
    """Record worker `name` as started and idle (replacing an old row of the same name)."""
    t = now()
    with engine.begin() as conn:
        conn.execute(delete(workers).where(workers.c.name == name))
        conn.execute(delete(workers).where(workers.c.heartbeat_at < t - FORGET_AFTER_S))
        conn.execute(
            insert(workers).values(
                name=name,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
                state="idle",
                started_at=t,
                heartbeat_at=t,
                jobs_done=0,
                scoring_s=0.0,
            )
        )


def beat(engine: Engine, name: str, state: str) -> None:
    """The worker is alive and `state` ("idle", "scoring" or "stopped")."""
    with engine.begin() as conn:
        conn.execute(
            update(workers).where(workers.c.name == name).values(state=state, heartbeat_at=now())
        )


def count_job(engine: Engine, name: str, seconds: float) -> None:
    """Add a finished job (done or error) that took `seconds` to the worker's counts."""
    with engine.begin() as conn:
        conn.execute(
            update(workers)
            .where(workers.c.name == name)
            .values(
                jobs_done=workers.c.jobs_done + 1,
                scoring_s=workers.c.scoring_s + seconds,
                state="idle",
                heartbeat_at=now(),
            )
        )


@dataclass(frozen=True)
class WorkerRow:
    """A worker as `/metrics` shows it."""

    name: str
    state: str
    heartbeat_age_s: float
    jobs_done: int
    scoring_s: float


def roster(engine: Engine) -> list[WorkerRow]:
    """Every worker on record, by name."""
    t = now()
    with engine.connect() as conn:
        rows = conn.execute(select(workers).order_by(workers.c.name)).all()
    return [
        WorkerRow(r.name, r.state, max(t - r.heartbeat_at, 0.0), r.jobs_done, r.scoring_s)
        for r in rows
    ]
