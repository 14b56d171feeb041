"""Scoring handed to a Ray cluster (`formcheck serve --ray ADDRESS`): the server's
`--workers N` become N Ray actors, each running the loop of `formcheck worker` on a node of
the cluster, off the same database queue.

The queue's semantics do not change: an actor claims jobs, heartbeats and finishes them
like any worker. When a node dies, Ray starts its actors again elsewhere
(`max_restarts=-1`) and runs their loop again (`max_task_retries=-1`); the job a dead
actor held goes back to the queue when its lease runs out, and is scored once by whoever
claims it next. The actors reach the database and the store themselves: give the cluster
PostgreSQL and an S3 store (or a folder every node mounts); `local` starts a Ray instance
on this machine, where SQLite and the data folder do.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from formcheck.batch.ray_runner import connect_ray, import_ray
from formcheck.server.logs import setup_logging
from formcheck.server.registry import worker_name
from formcheck.server.settings import ServerSettings
from formcheck.server.worker import StopFlag, score_jobs

log = logging.getLogger(__name__)


class _ScoringActor:
    """One scoring worker as a Ray actor (`ray.remote` is applied in `RayPool`). Two calls
    may run at once: `run`, the worker's loop, and `stop`, which ends it."""

    def __init__(self, settings: ServerSettings, label: str) -> None:
        setup_logging(settings.log_json, label)
        self.settings = settings
        self.label = label
        self.flag = StopFlag()

    def run(self) -> None:
        # An actor holds one CPU: one pose model.
        score_jobs(self.settings, worker_name(self.label), self.flag, 1, cores=1, migrate=False)

    def stop(self) -> None:
        self.flag.set()


class RayPool:
    """`settings.workers` scoring actors on the Ray cluster at `settings.ray`; the same
    `start` / `alive` / `stop` as the server's own `WorkerPool`."""

    def __init__(self, settings: ServerSettings) -> None:
        self.ray: Any = import_ray()  # not installed: said before the server starts
        self.settings = settings
        self.owns_connection = False
        self.actors: list[Any] = []
        self.runs: list[Any] = []

    def start(self) -> None:
        address = self.settings.ray
        assert address is not None, "a RayPool is made for `serve --ray` only"
        ray, self.owns_connection = connect_ray(address, max(1, self.settings.workers))
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=-1, max_concurrency=2)(
            _ScoringActor
        )
        self.actors = [
            actor.remote(self.settings, f"ray-{k + 1}") for k in range(self.settings.workers)
        ]
        self.runs = [a.run.remote() for a in self.actors]

    def alive(self) -> int:
        """Actors whose loop is still running."""
        if not self.runs:
            return 0
        _, running = self.ray.wait(self.runs, num_returns=len(self.runs), timeout=0)
        return len(running)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask every actor to stop (the job in hand goes back to the queue), then end them."""
        ray = self.ray
        for a in self.actors:
            with contextlib.suppress(ray.exceptions.RayError):
                a.stop.remote()
        if self.runs:
            ray.wait(self.runs, num_returns=len(self.runs), timeout=timeout_s)
        for a in self.actors:
            ray.kill(a)
        self.actors, self.runs = [], []
        if self.owns_connection:
            ray.shutdown()
