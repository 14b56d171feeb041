"""`formcheck batch-bench`: clips per minute with 1 and 2 local jobs and with Ray, and memory.

Each run analyses the same clips from scratch (`force`) into its own output folder and is
timed from start to end as a user would see it: starting the workers and loading the model
in each of them count (short clips make that visible, as they would in a real batch of short
clips). Starting the Ray instance itself is timed apart: on a cluster it is already running.
The runs are the default batch, each clip's HTML report included (about 0.5 s of a 3-rep
clip's ~3 s): the figure is what a user of `formcheck batch` gets, not scoring alone.
Memory is each worker's resident size after every clip; a flat line over a long batch (the
growth from its first clip to its last) shows that nothing leaks from clip to clip.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from formcheck.batch.runner import BatchOptions, BatchResult, WorkSample, run_batch
from formcheck.config import Config

# A worker's first clips warm it up (allocator pools, codec and model buffers reach their
# working size); growth is measured from after this many clips to its last clip.
WARMUP_CLIPS = 10


@dataclass(frozen=True)
class WorkerMemory:
    """One worker over a run: its busy and CPU time (s), its resident memory (MiB) after
    each of its clips, and the peak. CPU / busy is the cores one worker keeps busy: about 1
    means N workers can use N cores.

    `rss_mb` counts every resident page, `private_mb` only the private anonymous ones (what
    a leak grows; a Ray worker's total also holds the shared object store pages it touched).
    """

    worker: str
    clips: int
    model_load_s: float
    busy_s: float  # wall time spent analysing (s)
    cpu_s: float  # CPU time used for it, all threads (s)
    rss_mb: tuple[float, ...]
    private_mb: tuple[float, ...]
    peak_rss_mb: float

    @property
    def warm_index(self) -> int:
        return min(WARMUP_CLIPS, len(self.private_mb)) - 1

    @property
    def slope_mb_per_10_clips(self) -> float:
        """Least-squares trend of private memory after the warm-up (MiB per 10 clips): the
        figure to watch for a leak, less sensitive than two single samples to the heap's
        steps (glibc grows and trims it in chunks of tens of MiB)."""
        ys = self.private_mb[self.warm_index :]
        n = len(ys)
        if n < 3:
            return 0.0
        mx, my = (n - 1) / 2, sum(ys) / n
        sxx = sum((x - mx) ** 2 for x in range(n))
        return 10 * sum((x - mx) * (y - my) for x, y in enumerate(ys)) / sxx

    @property
    def growth_mb(self) -> float:
        """Private memory added from the end of the warm-up to the last clip (MiB): ~0
        when nothing leaks from clip to clip."""
        return self.private_mb[-1] - self.private_mb[self.warm_index]


@dataclass(frozen=True)
class RunFigure:
    """One timed batch run."""

    label: str
    backend: str
    workers: int
    clips: int
    failed: int
    wall_s: float
    clips_per_min: float
    memory: tuple[WorkerMemory, ...]


@dataclass(frozen=True)
class BatchBench:
    """All runs, and the ratios the issue asks for.

    Attributes:
        speedup: clips/min with the most local jobs over clips/min with 1 job.
        ray_vs_local: Ray's clips/min over local processes' at the same worker count.
        ray_start_s: time to start the local Ray instance (not in Ray's figure).
    """

    runs: tuple[RunFigure, ...]
    speedup: float | None
    ray_vs_local: float | None
    ray_start_s: float | None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for run, raw in zip(self.runs, d["runs"], strict=True):
            for mem, raw_mem in zip(run.memory, raw["memory"], strict=True):
                raw_mem["growth_mb"] = round(mem.growth_mb, 1)
                raw_mem["slope_mb_per_10_clips"] = round(mem.slope_mb_per_10_clips, 2)
        return d


def worker_memory(samples: Sequence[WorkSample]) -> tuple[WorkerMemory, ...]:
    """Per-worker memory figures from the clips it analysed (in completion order)."""
    by_worker: dict[str, list[WorkSample]] = {}
    for s in samples:
        by_worker.setdefault(s.worker, []).append(s)
    return tuple(
        WorkerMemory(
            w,
            len(ss),
            ss[0].model_load_s,
            sum(s.processing_s for s in ss),
            sum(s.cpu_s for s in ss),
            tuple(round(s.rss_mb, 1) for s in ss),
            tuple(round(s.private_mb, 1) for s in ss),
            max(s.peak_rss_mb for s in ss),
        )
        for w, ss in sorted(by_worker.items())
    )


def _figure(label: str, result: BatchResult) -> RunFigure:
    n = len(result.rows)
    rate = 60.0 * n / result.elapsed_s if result.elapsed_s else 0.0
    return RunFigure(
        label,
        result.backend,
        result.workers,
        n,
        result.failed,
        result.elapsed_s,
        rate,
        worker_memory(result.samples),
    )


def run_batch_bench(
    items: Sequence[str],
    cfg: Config,
    jobs: Sequence[int] = (1, 2),
    ray_workers: int = 2,
    work_dir: Path | None = None,
    progress: Any = None,
) -> BatchBench:
    """Time the batch over `items` with each local job count, then with Ray (0: no Ray).

    Outputs go to `work_dir` (a temp folder when None, removed afterwards).
    """
    with tempfile.TemporaryDirectory(prefix="formcheck-batch-bench-") as tmp:
        root = work_dir or Path(tmp)
        runs: list[RunFigure] = []
        for j in jobs:
            if progress:
                progress(f"local, {j} job(s)")
            result = run_batch(items, cfg, BatchOptions(root / f"local-{j}", jobs=j, force=True))
            runs.append(_figure(f"local processes, --jobs {j}", result))
        ray_start_s = None
        if ray_workers:
            import ray

            if progress:
                progress(f"Ray, {ray_workers} worker(s)")
            t0 = time.perf_counter()
            ray.init(
                num_cpus=ray_workers,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
            ray_start_s = time.perf_counter() - t0
            try:
                result = run_batch(
                    items,
                    cfg,
                    BatchOptions(
                        root / f"ray-{ray_workers}", jobs=ray_workers, ray="local", force=True
                    ),
                )
            finally:
                ray.shutdown()
            runs.append(_figure(f"Ray actors, {ray_workers} workers", result))
    local = {r.workers: r for r in runs if r.backend == "local"}
    speedup = None
    if 1 in local and len(local) > 1:
        most = local[max(local)]
        speedup = most.clips_per_min / local[1].clips_per_min
    ray_vs_local = None
    ray_runs = [r for r in runs if r.backend == "ray"]
    if ray_runs and ray_runs[0].workers in local:
        ray_vs_local = ray_runs[0].clips_per_min / local[ray_runs[0].workers].clips_per_min
    return BatchBench(tuple(runs), speedup, ray_vs_local, ray_start_s)
