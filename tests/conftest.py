"""Shared fixtures.

The real pose model is slow to load (about a second) and each instance holds its own
threads and buffers, so the whole session shares ONE `PoseEstimator` in VIDEO mode:

- VIDEO mode needs strictly increasing timestamps per instance. The adapter already keeps
  them increasing (a frame whose time is not after the previous one is sent at the previous
  time + 1 ms), so every test may feed a clip that starts at t = 0.
- Tracking state carries over from one test to the next: MediaPipe follows the person of
  the previous frames, and the people counter runs on the estimator's own schedule. A test
  that uses `estimator` must therefore not depend on the first frames of its clip being
  tracked from scratch, nor on which frames get a people count (`PoseFrame.people == -1`
  means "not counted").
- A test that truly needs a fresh tracker builds its own `PoseEstimator` and says why.

Tests that need the model are skipped when the bundled model file is absent.

Accuracy is gated on clips measured once per run and shared: `generated_eval` (a fresh
generated set, rendered in the background from seeds that change with every run: see
eval_sets.py; the tests that use it run last) and `real_eval` (the team's real clips,
when ../shared/real_videos is present, measured in the background too; the tests that
use it run just before the Ray tests and those on the generated set); `sample_analysis`
analyses each bundled sample once.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import eval_sets
import pytest
import services

from formcheck.config import Config
from formcheck.pose.bundle import default_model_path

if TYPE_CHECKING:
    from formcheck.judge import Analysis
    from formcheck.pose.landmarker import PoseEstimator

#: The repository.
ROOT = Path(__file__).resolve().parents[1]
#: The bundled labelled sample clips.
SAMPLES = ROOT / "sample_videos"

_SEED = pytest.StashKey[int]()
_BACKGROUND = pytest.StashKey["eval_sets.Background"]()
_REAL = pytest.StashKey["eval_sets.Background"]()
_MYPY = pytest.StashKey["subprocess.Popen[str]"]()
_EVALUATED = pytest.StashKey["eval_sets.Evaluated"]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SEED] = eval_sets.pick_seed()


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.stash[_SEED]
    return (
        f"generated evaluation set: {eval_sets.CLIPS} clips of {eval_sets.REPS} reps from "
        f"seed {seed} on (replay with {eval_sets.SEED_ENV}={seed})"
    )


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests on the team's real clips and those on the generated set run last, and the
    clips' measuring (and the set's rendering) start now in the background, as does mypy:
    the other tests' run time is their head start. The Ray tests run between them,
    together: their one Ray instance (`local_ray`) lives from the first of them to the end
    of the run, and its processes would take CPU from every test in between."""

    def using(name: str) -> list[pytest.Item]:
        return [it for it in items if name in getattr(it, "fixturenames", ())]

    real, ray, generated = using("real_eval"), using("local_ray"), using("generated_eval")
    last = real + [it for it in ray if it not in real] + generated
    items[:] = [it for it in items if it not in last] + last
    if config.option.collectonly:
        return
    if using("mypy_output"):
        config.stash[_MYPY] = _start_mypy()
    if real and eval_sets.REAL_DIR.is_dir():
        config.stash[_REAL] = eval_sets.start_real()
    if generated:
        config.stash[_BACKGROUND] = eval_sets.start(config.stash[_SEED])


def _start_mypy() -> subprocess.Popen[str]:
    """mypy (strict: the packages and options in pyproject.toml) over the repository, in a
    niced process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=eval_sets.niced,
    )


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The generated set's figures, so that every run's log says what its set held."""
    evaluated = config.stash.get(_EVALUATED, None)
    if evaluated is not None:
        terminalreporter.write_sep("-", "generated evaluation set")
        terminalreporter.write_line(eval_sets.summary(evaluated))


def pytest_unconfigure(config: pytest.Config) -> None:
    for key in (_BACKGROUND, _REAL):
        background = config.stash.get(key, None)
        if background is not None:
            background.stop()
    mypy = config.stash.get(_MYPY, None)
    if mypy is not None and mypy.poll() is None:
        mypy.kill()
        mypy.wait()


@pytest.fixture(scope="session")
def estimator() -> Iterator[PoseEstimator]:
    """The one shared MediaPipe PoseLandmarker (VIDEO mode) of the test session."""
    if not default_model_path().is_file():
        pytest.skip(f"pose model not found: {default_model_path()}")
    from formcheck.pose.landmarker import PoseEstimator

    with PoseEstimator(mode="video") as est:
        yield est


@pytest.fixture(scope="session")
def sample_analysis(estimator: PoseEstimator) -> Callable[[str | Path], Analysis]:
    """A bundled sample clip (by its stem, or a clip's path: a cut of one) through the whole
    pipeline with the default configuration, run once per test session however many tests
    look at it."""
    from formcheck.analyze import analyze_video

    done: dict[Path, Analysis] = {}

    def get(clip: str | Path) -> Analysis:
        path = SAMPLES / f"{clip}.mp4" if isinstance(clip, str) else clip
        if path not in done:
            done[path] = analyze_video(path, Config(), estimator=estimator)
        return done[path]

    return get


@pytest.fixture(scope="session")
def generated_eval(request: pytest.FixtureRequest) -> eval_sets.Evaluated:
    """This run's fresh generated set, scored against its labels: rendered and run through
    the pose model in the background (eval_sets.py), scored here from its landmarks."""
    from formcheck.evaluate import evaluate_dir

    if not default_model_path().is_file():
        pytest.skip(f"pose model not found: {default_model_path()}")
    config = request.config
    background = config.stash.get(_BACKGROUND, None)
    if background is None:  # e.g. the fixture was reached without collection's hook
        background = config.stash[_BACKGROUND] = eval_sets.start(config.stash[_SEED])
    background.wait()
    result = evaluate_dir(background.folder, Config(), cache_dir=background.cache)
    evaluated = eval_sets.Evaluated(background.folder, background.cache, result, background.seed)
    config.stash[_EVALUATED] = evaluated
    return evaluated


@pytest.fixture(scope="session")
def real_eval(request: pytest.FixtureRequest) -> eval_sets.Evaluated:
    """The team's real clips through the real model, scored against their labels: measured
    in the background from the start of the run (eval_sets.start_real), scored here from
    their landmarks."""
    if not eval_sets.REAL_DIR.is_dir():
        pytest.skip(f"{eval_sets.REAL_DIR} not available")
    from formcheck.evaluate import evaluate_dir

    config = request.config
    background = config.stash.get(_REAL, None)
    if background is None:  # e.g. the fixture was reached without collection's hook
        background = config.stash[_REAL] = eval_sets.start_real()
    background.wait()
    result = evaluate_dir(eval_sets.REAL_DIR, Config(), cache_dir=background.cache)
    return eval_sets.Evaluated(eval_sets.REAL_DIR, background.cache, result)


def _running(server: services.S | str) -> Iterator[services.S]:
    """A server the run started, stopped at the end; the test skips with the reason when it
    could not be started (`services.start_*` gave a string)."""
    if isinstance(server, str):
        pytest.skip(server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mypy_output(request: pytest.FixtureRequest) -> tuple[int, str]:
    """mypy over the repository: its exit code and output. Started with the run
    (pytest_collection_modifyitems), so its 10 s of CPU hide behind the other tests'."""
    proc = request.config.stash.get(_MYPY, None) or _start_mypy()
    output, _ = proc.communicate(timeout=600)
    return proc.returncode, output


@pytest.fixture(scope="session")
def postgres() -> Iterator[services.Postgres]:
    """The run's own PostgreSQL server (skips the test when it cannot be started here)."""
    yield from _running(services.start_postgres())


@pytest.fixture
def pg_url(postgres: services.Postgres) -> str:
    """A fresh empty database on the run's PostgreSQL server."""
    return postgres.new_database()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[services.S3Server]:
    """The run's own S3-compatible server (moto's standalone server)."""
    yield from _running(services.start_s3())


@pytest.fixture(scope="session")
def local_ray() -> Iterator[None]:
    """One local Ray instance (2 CPUs) for the run's Ray tests (`batch --ray`, `serve --ray`):
    starting one costs seconds. Shut down at the end (no stray processes)."""
    ray = pytest.importorskip("ray")
    import logging

    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
    )
    try:
        yield
    finally:
        ray.shutdown()
