"""The Ray backend: the batch's clips as calls on Ray actors, one actor per worker.

Each actor is a `ClipWorker` that loads the pose model once, in its constructor, and then
analyses one clip per call. The driver reads each input and ships its bytes with the call
(through Ray's object store), and gets the report, landmarks and video back as a
`ClipProduct`, so the cluster's nodes need formcheck installed but no access to the input or
output folders. At most one clip per actor is in flight, which bounds the driver's memory
and lets a fast actor take the next clip as soon as it is free.

Install with `pip install formcheck[ray]`; start a cluster with `ray start --head` (and
`ray start --address HEAD:6379` on the other machines) and run `formcheck batch ... --ray
auto` on a node of it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from formcheck.batch.worker import MALLOC_ARENAS, ClipProduct, ClipTask, ClipWorker
from formcheck.config import Config
from formcheck.errors import ConfigError
from formcheck.measure import for_workers

log = logging.getLogger(__name__)


class _ActorWorker:
    """The Ray actor class: a `ClipWorker` behind `ray.remote` (applied in `RayBackend`)."""

    def __init__(self, cfg: Config) -> None:
        self.worker = ClipWorker(cfg)

    def run(self, task: ClipTask, data: bytes | None) -> ClipProduct:
        return self.worker.run(task, data)


def import_ray() -> Any:
    """The `ray` module, or ConfigError saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "--ray needs Ray: pip install 'formcheck[ray]' (or pip install ray)"
        ) from exc
    return ray


def connect_ray(address: str, num_cpus: int | None) -> tuple[Any, bool]:
    """Ray, connected to the cluster at `address` ("auto", "host:6379", "ray://host:10001";
    "local": start an instance here with `num_cpus` CPUs), unless this process is connected
    already (the tests, the benchmark). Returns the `ray` module and whether this call made
    the connection (then its owner shuts it down).

    Raises:
        ConfigError: Ray is not installed, or the cluster cannot be reached.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    options: dict[str, Any] = {
        "log_to_driver": False,
        "logging_level": logging.WARNING,
        "include_dashboard": False,
    }
    try:
        if address == "local":
            ray.init(num_cpus=num_cpus, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"--ray {address}: cannot connect to a Ray cluster ({exc})") from exc
    return ray, True


class RayBackend:
    """Ray actors on a cluster, each with its own loaded model.

    Args:
        cfg: the batch's configuration (sent to every actor).
        address: "auto" (the cluster this machine is part of), a cluster address
            ("ray://host:10001", "host:6379"), or "local" to start a Ray instance on this
            machine with `workers` CPUs. Ignored when Ray is already initialised in this
            process (the tests, the benchmark).
        workers: actors to start; None: one per CPU of the cluster.
        n_tasks: clips to analyse (no more actors than that are started).

    Raises:
        ConfigError: Ray is not installed or the cluster cannot be reached.
    """

    name = "ray"

    def __init__(self, cfg: Config, address: str, workers: int | None, n_tasks: int) -> None:
        ray, self.owns_connection = connect_ray(address, workers)
        self.ray = ray
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, min(workers or cpus, n_tasks))
        # glibc reads MALLOC_ARENA_MAX when the process starts, before Ray's own threads
        # take arenas; a later mallopt() (see `worker.limit_malloc_arenas`) is too late here.
        env = {"MALLOC_ARENA_MAX": str(MALLOC_ARENAS)}
        actor_class = ray.remote(num_cpus=1, runtime_env={"env_vars": env})(_ActorWorker)
        self.actor_class = actor_class
        self.cfg = for_workers(cfg, 1, cores=1)  # an actor holds one CPU
        self.actors = [actor_class.remote(self.cfg) for _ in range(self.workers)]

    def results(self, tasks: Sequence[ClipTask]) -> Iterator[ClipProduct]:
        ray = self.ray
        queue = deque(tasks)
        idle = deque(self.actors)
        in_flight: dict[Any, tuple[Any, ClipTask]] = {}
        while queue or in_flight:
            while queue and idle:
                task = queue.popleft()
                try:
                    data = Path(task.path).read_bytes()
                except OSError as exc:
                    yield ClipProduct(
                        task.index, None, error=f"{task.path}: cannot read ({exc.strerror})"
                    )
                    continue
                actor = idle.popleft()
                in_flight[actor.run.remote(task, data)] = (actor, task)
            if not in_flight:
                continue
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                actor, task = in_flight.pop(ref)
                try:
                    product: ClipProduct = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    # The actor died (a crash on this clip, a lost node): start another one.
                    log.warning("Ray actor died on %s: %s", task.path, exc)
                    self.actors.remove(actor)
                    actor = self.actor_class.remote(self.cfg)
                    self.actors.append(actor)
                    product = ClipProduct(
                        task.index,
                        None,
                        error=(
                            "the Ray worker died while analysing this clip (a crash, out of "
                            "memory, or a lost node)"
                        ),
                    )
                except ray.exceptions.RayError as exc:
                    product = ClipProduct(task.index, None, error=f"Ray: {exc}".splitlines()[0])
                idle.append(actor)
                yield product

    def _release(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self.owns_connection:
            self.ray.shutdown()

    def stop(self) -> None:
        self._release()

    def close(self) -> None:
        self._release()
