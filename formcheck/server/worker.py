"""Scoring worker processes: each loads the pose model once, then takes jobs off the queue.

Workers are separate processes (multiprocessing, "spawn"), never threads of the web server:
MediaPipe inference holds a core for seconds, and a crash in native code must not take the
web server with it. The `WorkerPool` in the server process starts them, restarts one that
died, hands back jobs whose worker went silent, and stops them on shutdown. A worker dies
with the server (Linux parent-death signal, and a parent check between frames), so a killed
server leaves no worker finishing a job that the next server hands out again.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from formcheck.errors import FormcheckError
from formcheck.lifeline import die_with_parent
from formcheck.server import queue
from formcheck.server.db import make_engine, uploads
from formcheck.server.settings import ServerSettings
from formcheck.server.storage import (
    HTML_NAME,
    INPUT_NAME,
    REPORT_NAME,
    TRACE_NAME,
    VIDEO_NAME,
    UploadRefusedError,
    check_cost,
    remove_upload,
    upload_dir,
)
from formcheck.video import probe

if TYPE_CHECKING:
    from formcheck.config import Config
    from formcheck.judge import Analysis
    from formcheck.pose.landmarker import PoseEstimator

log = logging.getLogger(__name__)

# Share of a job's progress bar spent on the analysis; the rest is rendering the video.
ANALYSIS_SHARE = 0.75
# Progress (and the heartbeat with it) is written at most this often (s).
PROGRESS_EVERY_S = 0.5
# The trace behind the hip-angle plot keeps at most this many samples.
TRACE_POINTS = 1500


class LostClaimError(Exception):
    """The job is no longer this worker's (deleted, or handed out again): stop working on it."""


def save_trace(analysis: Analysis, path: Path) -> None:
    """Write the hip angle over time (s, deg; null where missing) for the result page's plot."""
    from formcheck.report import write_json

    t = analysis.track.t_s
    a = analysis.track.hip_angle_deg
    step = max(1, math.ceil(len(t) / TRACE_POINTS))
    write_json(
        {
            "t_s": [round(float(x), 3) for x in t[::step]],
            "hip_angle_deg": [
                None if not math.isfinite(float(x)) else round(float(x), 2) for x in a[::step]
            ],
        },
        path,
    )


def load_trace(path: Path) -> tuple[list[float], list[float]] | None:
    """The saved trace as (t_s, hip_angle_deg with NaN for missing), or None without one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    angles = [math.nan if v is None else float(v) for v in data["hip_angle_deg"]]
    return [float(v) for v in data["t_s"]], angles


def run_job(
    engine: Engine,
    claim: queue.Claim,
    settings: ServerSettings,
    cfg: Config,
    estimator: PoseEstimator | None,
    parent_pid: int | None = None,
) -> None:
    """Score one claimed upload: report JSON, trace and annotated video, then mark it done.

    Outputs are each written atomically (temp file + rename) and the job is marked done only
    after all of them exist, so a job killed half-way is simply run again from the start.
    """
    from formcheck.analyze import analyze_video
    from formcheck.outputs import ClipOutputs, write_outputs

    folder = upload_dir(settings.uploads_dir, claim.upload_id)
    with engine.connect() as conn:
        filename = conn.execute(
            select(uploads.c.filename).where(uploads.c.id == claim.upload_id)
        ).scalar()
    if filename is None:  # deleted between the claim and now
        remove_upload(folder)
        return

    def progress(stage: str, lo: float, hi: float) -> Callable[[int, int], None]:
        last = [0.0]

        def update(done: int, total: int) -> None:
            if parent_pid is not None and os.getppid() != parent_pid:
                os._exit(0)  # the server is gone: its successor will run this job again
            t = time.monotonic()
            if t - last[0] < PROGRESS_EVERY_S:
                return
            last[0] = t
            frac = lo + (hi - lo) * (min(done / total, 1.0) if total else 0.0)
            if not queue.report_progress(engine, claim, frac, stage):
                raise LostClaimError(claim.upload_id)

        return update

    def public(message: str) -> str:
        """An error message without the server's own paths."""
        return message.replace(str(folder / INPUT_NAME), filename).replace(str(folder), "")

    try:
        src = folder / INPUT_NAME
        check_cost(probe(src), settings)
        # Named after the client's file, not where the server keeps it.
        analysis = analyze_video(
            src, cfg, progress("analysing", 0.0, ANALYSIS_SHARE), estimator
        ).named(filename)
        save_trace(analysis, folder / TRACE_NAME)
        write_outputs(
            analysis,
            ClipOutputs(
                json=folder / REPORT_NAME, video=folder / VIDEO_NAME, html=folder / HTML_NAME
            ),
            src,
            cfg.rules,
            progress("rendering", ANALYSIS_SHARE, 1.0),
        )
        done = queue.finish(
            engine, claim, rep_count=len(analysis.reps), score=analysis.report.score
        )
    except LostClaimError:
        done = False
    except UploadRefusedError as exc:  # over a limit lowered since the upload
        done = queue.finish(engine, claim, error=exc.message)
    except FormcheckError as exc:  # no person, unreadable video, ...: the client's answer
        log.info("job %s: %s", claim.job_id, exc)
        done = queue.finish(engine, claim, error=public(str(exc)))
    except Exception as exc:  # a bug: keep the job's error readable, the traceback in the log
        log.exception("job %s failed", claim.job_id)
        done = queue.finish(
            engine, claim, error=f"internal error: {exc.__class__.__name__}: {public(str(exc))}"
        )
    if not done:
        log.info("job %s: no longer ours (deleted or handed out again)", claim.job_id)
        with engine.connect() as conn:
            gone = (
                conn.execute(select(uploads.c.id).where(uploads.c.id == claim.upload_id)).first()
                is None
            )
        if gone:
            remove_upload(folder)


class StopFlag:
    """A flag the pool raises to stop its workers: a lock-free shared byte.

    Not a `multiprocessing.Event`: its `set()` waits for every process sleeping in `wait()`
    to wake, so a worker killed while idle made the server's shutdown hang for ever.
    """

    def __init__(self, ctx: Any) -> None:
        self._value = ctx.RawValue(ctypes.c_bool, False)

    def set(self) -> None:
        self._value.value = True

    def is_set(self) -> bool:
        return bool(self._value.value)

    def wait(self, timeout_s: float) -> None:
        """Sleep up to `timeout_s`, waking early once the flag is raised."""
        deadline = time.monotonic() + timeout_s
        while not self.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.05, timeout_s))


def worker_main(settings: ServerSettings, name: str, stop: StopFlag, parent_pid: int) -> None:
    """A worker process's body: load the model once, then claim and run jobs until `stop`."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    logging.basicConfig(level=logging.INFO, format=f"%(levelname)s {name}: %(message)s")
    from formcheck.config import load_config
    from formcheck.measure import for_workers, open_estimator

    engine = make_engine(settings.database_url)
    cfg = for_workers(load_config(settings.config_path), settings.workers)
    with open_estimator(cfg) as estimator:
        log.info("ready (model loaded)")
        while not stop.is_set():
            if os.getppid() != parent_pid:
                break
            claim = queue.claim_next(engine, name)
            if claim is None:
                stop.wait(settings.poll_s)
                continue
            log.info(
                "job %s (upload %s, attempt %d)", claim.job_id, claim.upload_id, claim.attempts
            )
            run_job(engine, claim, settings, cfg, estimator, parent_pid)
    engine.dispose()


class WorkerPool:
    """The server's worker processes: started, watched (restarted if one dies, silent jobs
    handed back after the lease) and stopped with the app."""

    def __init__(self, settings: ServerSettings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._ctx = mp.get_context("spawn")  # no fork: the server has threads and sockets
        self._stop = StopFlag(self._ctx)
        self._procs: dict[str, BaseProcess] = {}
        self._watch: threading.Thread | None = None
        self._halt = threading.Event()

    def _spawn(self, name: str) -> None:
        proc = self._ctx.Process(
            target=worker_main,
            name=f"formcheck-{name}",
            daemon=True,
            args=(self.settings, name, self._stop, os.getpid()),
        )
        proc.start()
        self._procs[name] = proc

    def start(self) -> None:
        """Start `settings.workers` processes and the watcher thread."""
        for k in range(self.settings.workers):
            self._spawn(f"worker-{k + 1}")
        self._watch = threading.Thread(target=self._supervise, name="formcheck-pool", daemon=True)
        self._watch.start()

    def _supervise(self) -> None:
        while not self._halt.wait(2.0):
            for name, proc in list(self._procs.items()):
                if not proc.is_alive() and not self._stop.is_set():
                    log.warning("%s died (exit %s): restarting it", name, proc.exitcode)
                    try:  # its job goes back now, not after the lease
                        if queue.requeue_worker(self.engine, name):
                            log.warning("%s's job is back in the queue", name)
                    except Exception:
                        log.exception("requeue of %s's job failed", name)
                    self._spawn(name)
            try:
                n = queue.requeue_stale(self.engine, self.settings.lease_s)
            except Exception:  # a busy database must not kill the watcher
                log.exception("requeue of stale jobs failed")
                continue
            if n:
                log.warning("handed back %d job(s) whose worker went silent", n)

    def alive(self) -> int:
        """How many worker processes are running."""
        return sum(p.is_alive() for p in self._procs.values())

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the workers (a job in progress is interrupted) and requeue their jobs."""
        self._halt.set()
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for proc in self._procs.values():
            proc.join(max(deadline - time.monotonic(), 0.1))
        for proc in self._procs.values():
            if proc.is_alive():
                proc.kill()
                proc.join(2.0)
        n = queue.requeue_running(self.engine, interrupted=True)
        if n:
            log.info("%d interrupted job(s) back in the queue for the next start", n)
