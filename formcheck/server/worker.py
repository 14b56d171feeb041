"""Scoring workers: each loads the pose model once, then takes jobs off the queue.

Workers are separate processes, never threads of the web server: MediaPipe inference holds
a core for seconds, and a crash in native code must not take the web server with it. Two
ways to run them, one body (`score_jobs`):

- `formcheck worker` (`run_worker`): on any machine that reaches the database and the store;
  started, stopped (SIGTERM: the job in hand goes back to the queue) and killed at will. A
  killed worker's job goes back when its lease runs out.
- `formcheck serve --workers N` (`WorkerPool`): processes of the server ("spawn"), restarted
  if one dies, stopped with it. Such a worker dies with the server (Linux parent-death
  signal, and a parent check between frames), so a killed server leaves no worker finishing
  a job that the next server hands out again.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
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
from sqlalchemy.exc import InterfaceError, OperationalError

from formcheck.errors import FormcheckError, StoreError
from formcheck.lifeline import die_with_parent
from formcheck.server import queue, registry
from formcheck.server.db import first_line, make_engine, uploads
from formcheck.server.logs import job_log, setup_logging
from formcheck.server.registry import worker_name
from formcheck.server.settings import ServerSettings
from formcheck.server.storage import (
    HTML_NAME,
    INPUT_NAME,
    REPORT_NAME,
    TRACE_NAME,
    VIDEO_NAME,
    UploadRefusedError,
    check_cost,
)
from formcheck.server.stores import Store, open_store, workspace
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
#: What a scored job keeps in the store beside the clip.
RESULT_NAMES = (REPORT_NAME, VIDEO_NAME, HTML_NAME, TRACE_NAME)


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


def load_trace(raw: bytes | None) -> tuple[list[float], list[float]] | None:
    """A saved trace's bytes as (t_s, hip_angle_deg with NaN for missing), or None without
    one."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    angles = [math.nan if v is None else float(v) for v in data["hip_angle_deg"]]
    return [float(v) for v in data["t_s"]], angles


class HandBackError(Exception):
    """The worker is asked to stop (SIGTERM, the server stopping): give the job back."""


#: How long (s) a worker waits for the database between tries when it cannot reach it.
DB_RETRY_S = (0.5, 1.0, 2.0, 5.0)
#: The worker's row in `workers` is refreshed at most this often (s).
BEAT_EVERY_S = 5.0


def _retry(what: str, call: Callable[[], Any], give_up_s: float) -> Any:
    """`call()`, tried again while the database cannot be reached (a restart, a failover),
    for up to `give_up_s`; then the last error is raised."""
    deadline = time.monotonic() + give_up_s
    for k in itertools.count():
        try:
            return call()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() >= deadline:
                raise
            wait = DB_RETRY_S[min(k, len(DB_RETRY_S) - 1)]
            log.warning(
                "%s: database unreachable (%s); retrying in %g s", what, first_line(exc), wait
            )
            time.sleep(wait)
    raise AssertionError("unreachable")


def finish_job(engine: Engine, claim: queue.Claim, give_up_s: float, **result: Any) -> bool:
    """`queue.finish`, tried again for up to `give_up_s` while the database cannot be reached
    (a try whose answer was lost is recognised by `queue.finish` itself). True when this
    claim finished the job."""
    done: bool = _retry(
        f"job {claim.job_id}", lambda: queue.finish(engine, claim, **result), give_up_s
    )
    return done


def run_job(
    engine: Engine,
    store: Store,
    claim: queue.Claim,
    settings: ServerSettings,
    cfg: Config,
    estimator: PoseEstimator | None,
    check_stop: Callable[[], None] = lambda: None,
) -> bool:
    """Score one claimed upload: report JSON, trace and annotated video, kept in the store,
    then mark it done. True when this worker finished the job (done, or an error for the
    client); False when it did not (handed back, deleted, or no longer its claim).

    The files are written in a local folder and kept in the store before the job is marked
    done, so a job killed half-way is simply run again from the start. `check_stop` is
    called with every progress report: it raises `HandBackError` (the worker is stopping:
    the job goes back to the queue, this attempt not counted) or ends the process.
    A database that cannot be reached for a moment costs a heartbeat, not the job.
    """
    from formcheck.analyze import analyze_video
    from formcheck.outputs import ClipOutputs, write_outputs

    jlog = job_log(log, claim.job_id, claim.upload_id)

    with engine.connect() as conn:
        filename = conn.execute(
            select(uploads.c.filename).where(uploads.c.id == claim.upload_id)
        ).scalar()
    if filename is None:  # deleted between the claim and now
        store.delete(claim.upload_id)
        return False
    last_beat = [time.monotonic()]

    def progress(stage: str, lo: float, hi: float) -> Callable[[int, int], None]:
        last = [0.0]

        def update(done: int, total: int) -> None:
            check_stop()
            t = time.monotonic()
            if t - last[0] < PROGRESS_EVERY_S:
                return
            last[0] = t
            frac = lo + (hi - lo) * (min(done / total, 1.0) if total else 0.0)
            try:
                held = queue.report_progress(engine, claim, frac, stage)
                if t - last_beat[0] >= BEAT_EVERY_S:
                    last_beat[0] = t
                    registry.beat(engine, claim.worker, "scoring")
            except (OperationalError, InterfaceError) as exc:  # the lease covers a blip
                jlog.warning("job %s: heartbeat missed (%s)", claim.job_id, first_line(exc))
                return
            if not held:
                raise LostClaimError(claim.upload_id)

        return update

    folder: Path | None = None

    def public(message: str) -> str:
        """An error message without the worker's own paths."""
        if folder is None:
            return message
        return message.replace(str(folder / INPUT_NAME), filename).replace(str(folder), "")

    def finish(**result: Any) -> bool:
        return finish_job(engine, claim, settings.lease_s, **result)

    try:
        with workspace(store, claim.upload_id, [INPUT_NAME]) as folder:
            src = folder / INPUT_NAME
            check_cost(probe(src), settings)
            # Named after the client's file, not where the worker keeps it.
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
            check_stop()
            store.keep(claim.upload_id, folder, RESULT_NAMES)
        done = finish(rep_count=len(analysis.reps), score=analysis.report.score)
    except LostClaimError:
        done = False
    except HandBackError:
        _retry(
            f"job {claim.job_id}",
            lambda: queue.hand_back(engine, claim, counted=False),
            settings.lease_s,
        )
        jlog.info("job %s: handed back (the worker is stopping)", claim.job_id)
        return False
    except StoreError as exc:  # the store is away: try again later, elsewhere perhaps
        jlog.warning("job %s: %s; handed back", claim.job_id, exc)
        _retry(f"job {claim.job_id}", lambda: queue.hand_back(engine, claim), settings.lease_s)
        return False
    except UploadRefusedError as exc:  # over a limit lowered since the upload
        done = finish(error=exc.message)
    except FormcheckError as exc:  # no person, unreadable video, ...: the client's answer
        jlog.info("job %s: %s", claim.job_id, exc)
        done = finish(error=public(str(exc)))
    except (OperationalError, InterfaceError):
        raise  # the database is away for longer than a lease: the loop waits for it
    except Exception as exc:  # a bug: keep the job's error readable, the traceback in the log
        jlog.exception("job %s failed", claim.job_id)
        done = finish(error=f"internal error: {exc.__class__.__name__}: {public(str(exc))}")
    if not done:
        jlog.info("job %s: no longer ours (deleted or handed out again)", claim.job_id)
        with engine.connect() as conn:
            gone = (
                conn.execute(select(uploads.c.id).where(uploads.c.id == claim.upload_id)).first()
                is None
            )
        if gone:
            store.delete(claim.upload_id)
    return done


class StopFlag:
    """A flag the pool raises to stop its workers: a lock-free shared byte.

    Not a `multiprocessing.Event`: its `set()` waits for every process sleeping in `wait()`
    to wake, so a worker killed while idle made the server's shutdown hang for ever.
    """

    def __init__(self, ctx: Any = None) -> None:
        # A plain byte in one process (`formcheck worker`), shared memory across the pool's.
        self._value = ctypes.c_bool(False) if ctx is None else ctx.RawValue(ctypes.c_bool, False)

    def set(self) -> None:
        self._value.value = True

    def is_set(self) -> bool:
        return bool(self._value.value)

    def wait(self, timeout_s: float) -> None:
        """Sleep up to `timeout_s`, waking early once the flag is raised."""
        deadline = time.monotonic() + timeout_s
        while not self.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.05, timeout_s))


def score_jobs(
    settings: ServerSettings,
    name: str,
    stop: StopFlag,
    workers_on_machine: int,
    cores: int | None = None,
    still_wanted: Callable[[], bool] = lambda: True,
    migrate: bool = True,
) -> None:
    """A worker's life: open the database and the store, load the model once, then claim
    and score jobs until `stop` is raised (the job in hand is handed back) or
    `still_wanted()` turns False (the process it works for is gone: it exits at once).

    Every worker also hands back the jobs of workers gone silent for longer than the lease,
    so with workers on several machines no single process has to watch the others. A
    database that goes away is waited for (the job in hand is finished or handed back when
    it returns); nothing is lost while it is away. `migrate` False: the server this worker
    works for has brought the schema up to date already.

    Raises:
        DatabaseError, StoreError, ModelError: at start, when one cannot be opened.
    """
    from formcheck.config import load_config
    from formcheck.measure import for_workers, open_estimator

    engine = make_engine(settings.database_url, migrate=migrate)
    store = open_store(settings.store_spec)
    store.check()
    # Two pose models a clip only where each worker has two cores (`cores`: this machine's).
    cfg = for_workers(load_config(settings.config_path), workers_on_machine, cores)

    def check_stop() -> None:
        if not still_wanted():
            os._exit(0)  # the server is gone: its successor will run this job again
        if stop.is_set():
            raise HandBackError

    with open_estimator(cfg) as estimator:
        _retry(name, lambda: registry.register(engine, name), settings.lease_s)
        log.info("ready (model loaded)")
        last_sweep = last_beat = 0.0
        failures = 0
        while not stop.is_set() and still_wanted():
            try:
                t = time.monotonic()
                if t - last_sweep >= settings.lease_s / 4:
                    last_sweep = t
                    n = queue.requeue_stale(engine, settings.lease_s)
                    if n:
                        log.warning("handed back %d job(s) whose worker went silent", n)
                claim = queue.claim_next(engine, name)
                if claim is None:
                    if t - last_beat >= BEAT_EVERY_S:
                        last_beat = t
                        registry.beat(engine, name, "idle")
                    failures = 0
                    stop.wait(settings.poll_s)
                    continue
                job_log(log, claim.job_id, claim.upload_id).info(
                    "job %s (upload %s, attempt %d)",
                    claim.job_id,
                    claim.upload_id,
                    claim.attempts,
                )
                if run_job(engine, store, claim, settings, cfg, estimator, check_stop):
                    took_s = time.monotonic() - t
                    _retry(
                        name,
                        functools.partial(registry.count_job, engine, name, took_s),
                        settings.lease_s,
                    )
                failures = 0
            except (OperationalError, InterfaceError) as exc:
                wait = DB_RETRY_S[min(failures, len(DB_RETRY_S) - 1)]
                failures += 1
                log.warning(
                    "database unreachable (%s); trying again in %g s", first_line(exc), wait
                )
                stop.wait(wait)
    with contextlib.suppress(OperationalError, InterfaceError):
        registry.beat(engine, name, "stopped")
    engine.dispose()


def worker_main(settings: ServerSettings, name: str, stop: StopFlag, parent_pid: int) -> None:
    """The body of a worker process the server starts: it dies with the server."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    setup_logging(settings.log_json, name.rsplit("/", 1)[-1])
    score_jobs(
        settings,
        name,
        stop,
        settings.workers,
        still_wanted=lambda: os.getppid() == parent_pid,
        migrate=False,
    )


def run_worker(settings: ServerSettings, label: str) -> None:
    """`formcheck worker`: one scoring process on this machine, until SIGTERM or Ctrl-C, on
    which the job in hand goes back to the queue for another worker.

    Raises:
        DatabaseError, StoreError, ModelError: at start.
    """
    name = worker_name(label)
    stop = StopFlag()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("%s: stopping (the job in hand goes back to the queue)", signal.strsignal(signum))
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("worker %s: database %s, store %s", name, settings.safe_db_url, settings.store_spec)
    score_jobs(settings, name, stop, workers_on_machine=1)
    log.info("worker %s: stopped", name)


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
            name=f"formcheck-{name.rsplit('/', 1)[-1]}",
            daemon=True,
            args=(self.settings, name, self._stop, os.getpid()),
        )
        proc.start()
        self._procs[name] = proc

    def start(self) -> None:
        """Start `settings.workers` processes and the watcher thread."""
        for k in range(self.settings.workers):
            self._spawn(worker_name(f"worker-{k + 1}"))
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
            except (OperationalError, InterfaceError) as exc:  # away: the next round tries
                log.warning("requeue of stale jobs: database unreachable (%s)", first_line(exc))
                continue
            except Exception:  # a bug must not kill the watcher either
                log.exception("requeue of stale jobs failed")
                continue
            if n:
                log.warning("handed back %d job(s) whose worker went silent", n)

    def alive(self) -> int:
        """How many worker processes are running."""
        return sum(p.is_alive() for p in self._procs.values())

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the workers (a job in progress is handed back) and requeue the jobs of any
        that had to be killed."""
        self._halt.set()
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for proc in self._procs.values():
            proc.join(max(deadline - time.monotonic(), 0.1))
        for proc in self._procs.values():
            if proc.is_alive():
                proc.kill()
                proc.join(2.0)
        n = sum(queue.requeue_worker(self.engine, name, counted=False) for name in self._procs)
        if n:
            log.info("%d interrupted job(s) back in the queue for the next start", n)
