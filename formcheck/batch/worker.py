"""The work done for one clip, inside a worker process (local pool or Ray actor).

A `ClipWorker` loads the pose model once, when the worker starts, and analyses clip after
clip with it. It writes nothing into the batch's output folder: it hands back a
`ClipProduct` (the report, its HTML page, and the landmarks and annotated video as bytes
when asked), and
the driver writes every file atomically. One writer keeps the resume state consistent, and
a Ray worker on another machine needs no access to the output folder.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formcheck.analyze import analyze_video
from formcheck.bench.memory import peak_rss_mb, rss_mb
from formcheck.config import Config
from formcheck.errors import FormcheckError
from formcheck.lifeline import die_with_parent, exit_when_gone
from formcheck.measure import open_estimator
from formcheck.outputs import ClipOutputs, write_outputs

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipTask:
    """One clip to analyse: `path` is read by the worker unless the bytes come with it."""

    index: int
    key: str
    path: str
    want_video: bool = False
    want_landmarks: bool = False
    want_html: bool = False


@dataclass(frozen=True)
class ClipProduct:
    """What a worker made of one clip.

    Attributes:
        index: the task's index in the batch.
        report: the report (JSON contract, validated), None on failure.
        landmarks: the `.npz` pose track file's bytes, when asked and analysed.
        video: the annotated MP4's bytes, when asked and analysed.
        html: the self-contained HTML report page (UTF-8), when asked and analysed.
        error: the one-line reason of a failure, "" on success.
        processing_s: wall time spent on the clip in the worker (s).
        cpu_s: CPU time the worker process used for it, all its threads (s).
        worker: "host:pid" of the worker process.
        rss_mb: the worker's resident memory right after the clip (MiB).
        private_mb: its private (anonymous) part, what a leak would grow (MiB).
        peak_rss_mb: the worker's peak resident memory so far (MiB).
        model_load_s: how long this worker took to load the model (s), once per worker.
    """

    index: int
    report: dict[str, Any] | None
    landmarks: bytes | None = None
    video: bytes | None = None
    html: bytes | None = None
    error: str = ""
    processing_s: float = 0.0
    cpu_s: float = 0.0
    worker: str = ""
    rss_mb: float = 0.0
    private_mb: float = 0.0
    peak_rss_mb: float = 0.0
    model_load_s: float = 0.0


# glibc's mallopt() parameter for the number of malloc arenas.
_M_ARENA_MAX = -8
# Arenas a worker may use. glibc's default (8 per core) lets every new thread (a clip's
# decoder and band threads, Ray's own) take an arena of its own that keeps its freed memory:
# measured over 25 clips in a Ray actor, private memory grew 284 -> 630 MiB with the default
# and stayed at 348 MiB with 2 arenas, at no measurable cost in speed.
MALLOC_ARENAS = 2


def limit_malloc_arenas(n: int = MALLOC_ARENAS) -> None:
    """Cap glibc's malloc arenas for this process (no-op elsewhere): a long-lived worker's
    memory then stays flat from clip to clip instead of creeping up through fragmentation."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, n)
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        log.debug("mallopt not available; malloc arenas left as they are")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, FormcheckError):
        return first or exc.__class__.__name__
    # A bug, not a bad clip: say so, keep the batch going; the traceback goes to the log.
    return f"internal error: {exc.__class__.__name__}: {first}"


class ClipWorker:
    """Holds one loaded pose model and analyses clips with it, one at a time.

    Args:
        cfg: the batch's configuration (the same for every clip).

    Raises:
        ModelError: the pose model cannot be loaded.
    """

    def __init__(self, cfg: Config, scratch: str | None = None) -> None:
        limit_malloc_arenas()  # before the model and its threads allocate
        self.cfg = cfg
        # Where each clip's temp folder goes (None: the system's); the local pool gives one
        # of its own and removes it, so workers ended mid-clip (Ctrl-C) leave nothing behind.
        self.scratch = scratch
        t0 = time.perf_counter()
        self.estimator: PoseEstimator = open_estimator(cfg)
        # A pool's worker process just exits: close the model before the interpreter's
        # finalizers would, quietly (see `PoseEstimator.close`).
        atexit.register(self.estimator.close)
        self.model_load_s = time.perf_counter() - t0
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def close(self) -> None:
        self.estimator.close()

    def run(self, task: ClipTask, data: bytes | None = None) -> ClipProduct:
        """Analyse one clip: from `task.path`, or from `data` (the file's bytes) when given.

        Never raises for a bad clip: a `FormcheckError` (or any other exception, which is a
        bug) becomes the product's one-line `error`.
        """
        t0, cpu0 = time.perf_counter(), time.process_time()
        source = Path(task.path)
        try:
            with tempfile.TemporaryDirectory(prefix="formcheck-clip-", dir=self.scratch) as tmp:
                if data is not None:  # shipped over Ray: the file need not exist here
                    source = Path(tmp) / f"input{Path(task.path).suffix}"
                    source.write_bytes(data)
                product = self._analyse(task, source, Path(tmp))
        except Exception as exc:  # one bad clip never stops the batch
            if not isinstance(exc, FormcheckError):
                log.warning("%s: internal error", task.path, exc_info=True)
            # Name the user's file, not the worker's temp copy of it.
            message = _one_line(exc).replace(str(source), task.path)
            product = ClipProduct(task.index, None, error=message)
        total_mb, private_mb = rss_mb()
        return replace(
            product,
            processing_s=time.perf_counter() - t0,
            cpu_s=time.process_time() - cpu0,
            worker=self.name,
            rss_mb=total_mb,
            private_mb=private_mb,
            peak_rss_mb=peak_rss_mb(),
            model_load_s=self.model_load_s,
        )

    def _analyse(self, task: ClipTask, source: Path, tmp: Path) -> ClipProduct:
        # Named after the user's file, not the worker's copy of it.
        analysis = analyze_video(source, self.cfg, estimator=self.estimator).named(task.path)
        wanted = ClipOutputs(
            landmarks=tmp / "landmarks.npz" if task.want_landmarks else None,
            video=tmp / "annotated.mp4" if task.want_video else None,
            html=tmp / "report.html" if task.want_html else None,
        )
        report = write_outputs(analysis, wanted, source, self.cfg.rules)

        def read(path: Path | None) -> bytes | None:
            return None if path is None else path.read_bytes()

        return ClipProduct(
            task.index, report, read(wanted.landmarks), read(wanted.video), read(wanted.html)
        )


# -- the local process pool's per-process worker -------------------------------------------

_WORKER: ClipWorker | None = None
_WORKER_ERROR: str = ""


def init_process(cfg: Config, scratch: str | None = None, driver_pid: int | None = None) -> None:
    """`ProcessPoolExecutor` initializer: load the model once for this worker process.

    SIGINT is ignored here: Ctrl-C reaches the whole process group, and it is the driver's
    job to stop the batch (it terminates the workers and keeps the finished results). The
    worker dies with the driver (`formcheck.lifeline`), however it dies.
    """
    global _WORKER, _WORKER_ERROR
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(os.getppid())  # the forkserver (or the driver, with spawn)
    if driver_pid is not None:
        exit_when_gone(driver_pid)
    try:
        _WORKER = ClipWorker(cfg, scratch)
    except FormcheckError as exc:  # reported with every clip, instead of a broken pool
        _WORKER_ERROR = _one_line(exc)


def run_in_process(task: ClipTask) -> ClipProduct:
    """`ProcessPoolExecutor` task: one clip with this process's worker."""
    if _WORKER is None:
        return ClipProduct(task.index, None, error=_WORKER_ERROR or "worker not started")
    return _WORKER.run(task)
