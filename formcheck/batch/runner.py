"""Running a batch: decide what to do per clip, farm the work out, write what comes back.

The driver (this module) owns every file in the output folder; workers only compute (see
`worker.py`). Two backends run the workers: a local `ProcessPoolExecutor` (`LocalBackend`)
and Ray actors on a cluster (`ray_runner.RayBackend`); both load the model once per worker
and give the same `ClipProduct`s, so the outputs and the resume rules are the same.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from formcheck.atomic import atomic_write_bytes, atomic_write_json
from formcheck.batch.inputs import ClipInput, collect_inputs
from formcheck.batch.outputs import ClipPaths, ClipRow, write_summary
from formcheck.batch.resume import input_fingerprint, kept_result, settings_hash, write_state
from formcheck.batch.worker import ClipProduct, ClipTask, init_process, run_in_process
from formcheck.config import Config
from formcheck.errors import OutputError
from formcheck.lifeline import pid_alive
from formcheck.measure import for_workers

log = logging.getLogger(__name__)

# (the row just finished, rows done, rows in the batch)
BatchProgress = Callable[[ClipRow, int, int], None]
# A clip whose worker process died this many times is given up (an error row): it is
# probably what kills it (a decoder crash, memory), and retrying forever would stall.
MAX_ATTEMPTS = 2


@dataclass(frozen=True)
class BatchOptions:
    """How to run a batch.

    Attributes:
        out_dir: the output folder (created when missing).
        jobs: worker processes (local) or Ray actors; None: the CPU count (local) or the
            cluster's CPUs (Ray). Never more than there are clips to analyse.
        ray: None for local processes; a Ray address ("auto", "ray://host:10001",
            "host:6379") to run on that cluster; "local" to start a Ray instance here.
        want_video: write each clip's annotated video.
        want_landmarks: write each clip's pose track (`.npz`).
        want_html: write each clip's self-contained HTML report (`reports/<clip>.html`);
            on by default (`--no-html` turns it off). `index.html` is written either way.
        force: analyse every clip again, ignoring earlier results.
        retry_errors: analyse again the clips that failed last time (unchanged ones are
            otherwise kept as failed).
    """

    out_dir: Path
    jobs: int | None = None
    ray: str | None = None
    want_video: bool = False
    want_landmarks: bool = False
    force: bool = False
    retry_errors: bool = False
    want_html: bool = True


@dataclass(frozen=True)
class WorkSample:
    """One analysed clip seen from its worker: for speed and memory figures."""

    key: str
    worker: str
    processing_s: float
    cpu_s: float  # the worker's CPU time for the clip, all threads (s)
    rss_mb: float  # resident memory after the clip (MiB)
    private_mb: float  # its private anonymous part (MiB)
    peak_rss_mb: float
    model_load_s: float


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: one row per clip (input order), and how the work went."""

    rows: tuple[ClipRow, ...]
    elapsed_s: float
    backend: str
    workers: int
    interrupted: bool = False
    samples: tuple[WorkSample, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def failed(self) -> int:
        """Clips whose result is an error (this run's or a kept one)."""
        return sum(1 for r in self.rows if r.result == "error")

    @property
    def analysed(self) -> int:
        """Clips a worker processed in this run (ok or error)."""
        return len(self.samples)

    def summary_extra(self) -> dict[str, Any]:
        return {
            "clips": len(self.rows),
            "ok": self.count("ok"),
            "error": self.count("error"),
            "skipped": self.count("skipped"),
            "failed": self.failed,
            "interrupted": self.interrupted,
            "backend": self.backend,
            "workers": self.workers,
            "elapsed_s": round(self.elapsed_s, 3),
        }


class Backend(Protocol):
    """Runs `ClipTask`s on workers that each loaded the model once."""

    name: str
    workers: int

    def results(self, tasks: Sequence[ClipTask]) -> Iterator[ClipProduct]:
        """One product per task, in completion order."""
        ...

    def stop(self) -> None:
        """Abandon the work in flight now (Ctrl-C): end the workers without waiting."""
        ...

    def close(self) -> None:
        """Release the workers after a finished batch."""
        ...


def _mp_context() -> multiprocessing.context.BaseContext:
    # Not "fork": the driver may hold threads (the progress bar), and a forked copy of a
    # threaded process can deadlock. forkserver starts workers from a clean process.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


#: How long one clip may take in a worker: this much (s) plus `CLIP_BUDGET_PER_MB_S` per
#: megabyte of file. Phone video holds 1-2 s a megabyte, analysed at about a second per
#: second here and rendered as fast again: the budget only stops a clip that hangs. By
#: size, not duration: reading the duration may itself hang (a stalled mount, a pipe).
CLIP_BUDGET_BASE_S = 300.0
CLIP_BUDGET_PER_MB_S = 60.0


def clip_budget_s(path: Path) -> float:
    """The most seconds a worker may spend on the clip at `path` (see `CLIP_BUDGET_BASE_S`)."""
    try:
        size_mb = path.stat().st_size / 1e6
    except OSError:  # gone: the worker says so at once
        size_mb = 0.0
    return CLIP_BUDGET_BASE_S + CLIP_BUDGET_PER_MB_S * size_mb


#: The prefix of a batch's scratch folder in the system's temp folder (then its pid).
SCRATCH_PREFIX = "formcheck-batch-"


def sweep_scratch() -> list[Path]:
    """Remove the scratch folders of batches that are no longer running (a batch killed with
    -9 cannot remove its own); returns them."""
    gone = []
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder)
    return gone


class LocalBackend:
    """A pool of `workers` local processes, each loading the model once at start-up."""

    name = "local"

    def __init__(self, cfg: Config, workers: int) -> None:
        self.cfg = for_workers(cfg, workers)
        self.workers = workers
        sweep_scratch()
        # The workers' temp files, named after this process so a later batch can tell a
        # folder a killed batch left behind from one in use.
        self.scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=_mp_context(),
            initializer=init_process,
            initargs=(self.cfg, self.scratch, os.getpid()),
        )

    def results(self, tasks: Sequence[ClipTask]) -> Iterator[ClipProduct]:
        attempts = dict.fromkeys(range(len(tasks)), 0)
        budget: dict[int, float] = {}  # (s) a clip's time limit, set when it starts
        pending: dict[Future[ClipProduct], int] = {}
        running_since: dict[Future[ClipProduct], float] = {}

        def submit(i: int) -> None:
            attempts[i] += 1
            pending[self.pool.submit(run_in_process, tasks[i])] = i

        def restart(failed: list[int], why: str) -> Iterator[ClipProduct]:
            """A new pool: every unfinished task fails with the old one; the `failed` ones
            (the cause) are given up after MAX_ATTEMPTS, the others run again."""
            others = [i for i in pending.values() if i not in failed]
            pending.clear()
            running_since.clear()
            self._end_pool()
            self.pool = self._new_pool()
            for i in sorted(failed):
                if attempts[i] >= MAX_ATTEMPTS:
                    yield ClipProduct(tasks[i].index, None, error=why.format(s=budget.get(i, 0.0)))
                else:
                    submit(i)
            for i in sorted(others):
                attempts[i] -= 1  # not their fault: this run does not count
                submit(i)

        for i in range(len(tasks)):
            submit(i)
        while pending:
            done, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            broken: list[int] = []
            for fut in done:
                i = pending.pop(fut)
                running_since.pop(fut, None)
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    broken.append(i)
            if broken:  # a worker died: every unfinished task fails with the pool
                yield from restart(
                    broken,
                    "the worker process died while analysing this clip"
                    " (a decoder crash or out of memory)",
                )
                continue
            now = time.monotonic()
            for fut, i in pending.items():
                if fut.running() and fut not in running_since:
                    running_since[fut] = now
                    budget.setdefault(i, clip_budget_s(Path(tasks[i].path)))
            late = [
                i
                for fut, i in pending.items()
                if fut in running_since and now - running_since[fut] > budget[i]
            ]
            if late:  # a clip that hangs its worker (a stalled network mount, a decoder loop)
                for i in late:
                    attempts[i] = MAX_ATTEMPTS  # a hang is not retried
                yield from restart(
                    late,
                    "the analysis took longer than {s:.0f} s and was"
                    " stopped (the file may be unreadable or still"
                    " being written)",
                )

    def _end_pool(self) -> None:
        """End the pool's processes now, without waiting for the clips in flight."""
        processes = list((self.pool._processes or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.join(timeout=5)

    def stop(self) -> None:
        # The workers ignore SIGINT (see `worker.init_process`): end them here, so Ctrl-C
        # does not wait for the clips in flight.
        self._end_pool()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _row_from_product(clip: ClipInput, product: ClipProduct, out_dir: Path) -> ClipRow:
    report = product.report
    if report is None:
        return ClipRow(
            str(clip.path),
            clip.key,
            "error",
            "error",
            error=product.error,
            processing_s=product.processing_s,
            worker=product.worker,
        )
    summary = report["summary"]
    paths = ClipPaths.of(out_dir, clip.key)
    return ClipRow(
        str(clip.path),
        clip.key,
        "ok",
        "ok",
        duration_s=report["source"].get("duration_s"),
        rep_count=summary["rep_count"],
        score=summary["score"],
        faults=dict(summary["faults"]),
        top_cue=summary["cues"][0] if summary["cues"] else "",
        warnings=tuple(report.get("warnings", ())),
        processing_s=product.processing_s,
        report=paths.report.relative_to(out_dir).as_posix(),
        worker=product.worker,
    )


def _write_product(
    clip: ClipInput,
    product: ClipProduct,
    opts: BatchOptions,
    fingerprint: dict[str, int],
    settings: str,
) -> ClipRow:
    """Write one clip's outputs (each atomically; the state sidecar last) and its row."""
    paths = ClipPaths.of(opts.out_dir, clip.key)
    row = _row_from_product(clip, product, opts.out_dir)
    if product.report is None:
        paths.remove_results()  # no stale report of an older version of the clip
    else:
        # Outputs not made this time are removed: they would belong to an older input.
        for data, path in (
            (product.html, paths.html),
            (product.video, paths.video),
            (product.landmarks, paths.landmarks),
        ):
            if data is not None:
                atomic_write_bytes(path, data)
            else:
                path.unlink(missing_ok=True)
        atomic_write_json(paths.report, product.report)
    outputs = {
        "report": product.report is not None,
        "html": product.html is not None,
        "video": product.video is not None,
        "landmarks": product.landmarks is not None,
    }
    write_state(paths, fingerprint, settings, outputs, row)
    return row


def make_backend(cfg: Config, opts: BatchOptions, n_tasks: int) -> Backend:
    """The backend `opts` asks for, with no more workers than tasks."""
    if opts.ray is not None:
        from formcheck.batch.ray_runner import RayBackend

        return RayBackend(cfg, opts.ray, opts.jobs, n_tasks)
    jobs = opts.jobs or os.cpu_count() or 1
    return LocalBackend(cfg, max(1, min(jobs, n_tasks)))


def run_batch(
    items: Sequence[str],
    cfg: Config,
    opts: BatchOptions,
    progress: BatchProgress | None = None,
    backend_factory: Callable[[Config, BatchOptions, int], Backend] = make_backend,
) -> BatchResult:
    """Analyse every clip named by `items` and write the reports and the summary.

    Bad clips become error rows, never exceptions. The summary (`summary.csv`,
    `summary.json`, `index.html`) is written at the end, also after a rerun that had nothing
    to do, and also when interrupted (then with the rows finished so far, `interrupted: true`), and
    `KeyboardInterrupt` is raised again for the CLI to exit 130.

    Raises:
        OutputError: the output folder cannot be written (checked before any work), or a
            write failed on the way (the rows finished before are in the summary).
        ModelError: the pose model bundle is missing or invalid (checked before any work).
        ConfigError: a Ray address was given but Ray is not installed or not reachable.
    """
    t0 = time.perf_counter()
    out_dir = opts.out_dir
    check_writable(out_dir)
    clips = collect_inputs(items, exclude=out_dir)
    settings = settings_hash(cfg)  # also checks the model bundle, before any work
    rows: dict[int, ClipRow] = {}
    tasks: list[ClipTask] = []
    prints: dict[int, dict[str, int]] = {}
    total = len(clips)

    def finish(i: int, row: ClipRow) -> None:
        rows[i] = row
        if progress:
            progress(row, len(rows), total)

    for i, clip in enumerate(clips):
        if clip.error is not None:
            finish(i, ClipRow(str(clip.path), clip.key, "error", "error", error=clip.error))
            continue
        try:
            prints[i] = input_fingerprint(clip.path)
        except OSError as exc:
            finish(
                i,
                ClipRow(
                    str(clip.path),
                    clip.key,
                    "error",
                    "error",
                    error=f"{clip.path}: cannot read ({exc.strerror})",
                ),
            )
            continue
        kept = (
            None
            if opts.force
            else kept_result(
                ClipPaths.of(out_dir, clip.key),
                prints[i],
                settings,
                want_video=opts.want_video,
                want_landmarks=opts.want_landmarks,
                retry_errors=opts.retry_errors,
                want_html=opts.want_html,
            )
        )
        if kept is not None:
            finish(i, kept)
        else:
            tasks.append(
                ClipTask(
                    i,
                    clip.key,
                    str(clip.path),
                    opts.want_video,
                    opts.want_landmarks,
                    opts.want_html,
                )
            )

    backend_name, workers, interrupted = "none", 0, False
    samples: list[WorkSample] = []
    try:
        if tasks:
            backend = backend_factory(cfg, opts, len(tasks))
            backend_name, workers = backend.name, backend.workers
            try:
                for product in backend.results(tasks):
                    clip = clips[product.index]
                    try:
                        row = _write_product(clip, product, opts, prints[product.index], settings)
                    except OSError as exc:
                        raise OutputError(
                            f"{out_dir}: cannot write the outputs ({exc.strerror}); the "
                            "clips finished before are kept: free some space or fix the "
                            "folder, then run the same command again"
                        ) from None
                    finish(product.index, row)
                    if product.worker:  # not for clips no worker finished
                        samples.append(
                            WorkSample(
                                clip.key,
                                product.worker,
                                product.processing_s,
                                product.cpu_s,
                                product.rss_mb,
                                product.private_mb,
                                product.peak_rss_mb,
                                product.model_load_s,
                            )
                        )
            except BaseException:
                backend.stop()
                raise
            backend.close()
    except BaseException:  # Ctrl-C, SIGTERM, an output error: the run did not finish
        interrupted = True
        raise
    finally:
        result = BatchResult(
            tuple(rows[i] for i in sorted(rows)),
            time.perf_counter() - t0,
            backend_name,
            workers,
            interrupted,
            tuple(samples),
        )
        try:
            write_summary(out_dir, result.rows, result.summary_extra())
        except OSError as exc:  # a full disk: what is being raised says so already
            log.warning("%s: the summary could not be written (%s)", out_dir, exc.strerror)
    return result


def check_writable(out_dir: Path) -> None:
    """Make the output folder and write a file in it, before any clip is analysed.

    Raises:
        OutputError: it cannot be made or written (read-only, no permission, full disk).
    """
    probe = out_dir / ".formcheck-write-test"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"\0" * 4096)
        probe.unlink()
    except OSError as exc:
        raise OutputError(
            f"{out_dir}: the output folder cannot be written ({exc.strerror})"
        ) from None
