"""The labelled clips a test run gates accuracy on: a fresh generated set, the team's real
clips, and `Evaluated`.

Each run renders `CLIPS` clips of `REPS` reps from seeds that change with every run (clips
no one has tuned on), and runs the pose model over them, in niced background processes
while the other tests run, so that the cost hides behind theirs; the tests that gate
accuracy on the set run last (see conftest.py). The first seed is printed in the run's
header; `FORMCHECK_EVAL_SEED=S` replays a run's set. The team's real clips, when present,
are measured the same way by a process of their own (`start_real`).

The seeds are taken in order from the first one, as `formcheck synth --count` takes them,
except that the set is made to hold at least `QUOTAS` clips of the rarer kinds (feet too
close or too far, each band placement other than the common hip band): a feet or band error
costs every rep of its clip, and with two or three such clips a figure would move by a third
at a time, or have no data at all.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from formcheck.evaluate import EvalResult

#: The variable that says where the team's real clips are (when not beside the clone).
REAL_ENV = "FORMCHECK_REAL_VIDEOS"
#: The team's real clips (never copied into the repository; absent on a user's machine):
#: $FORMCHECK_REAL_VIDEOS, else `shared/real_videos` beside the clone.
REAL_DIR = Path(
    os.environ.get(REAL_ENV) or Path(__file__).resolve().parents[2] / "shared" / "real_videos"
)
#: Clips in the generated set: 30 or more, so that a 95% gate allows a miss and still
#: means something.
CLIPS = 40
#: Reps per clip. Two keep a clip short (its cost is its length), and forty clips give more
#: sets of feet, bands, bodies and cameras than thirty clips of three reps would.
REPS = 2
#: The least number of clips of each rarer kind in the set: (what, kind) -> clips.
QUOTAS: dict[tuple[str, str], int] = {
    ("feet", "close"): 5,
    ("feet", "far"): 5,
    ("band", "knees"): 8,
    ("band", "both"): 4,
    ("band", "none"): 6,
}
#: Seeds looked at before giving up on the quotas (each kind is drawn in 5% or more of clips).
MAX_SEEDS_LOOKED_AT = 2000
#: Renderer processes (niced: they use what the other tests leave idle).
RENDER_PROCESSES = 2
#: The variable that replays a run's set.
SEED_ENV = "FORMCHECK_EVAL_SEED"
#: Seeds are drawn above those that the team's fixed sets and tests use (1000-9999, ...).
SEED_RANGE = (100_000, 2_000_000_000)
#: The folder, in a background's own, where its measurer keeps the landmarks.
LANDMARKS = "landmarks"
#: Longest time the set may take to render and measure (s).
BACKGROUND_TIMEOUT_S = 2400.0


@dataclass(frozen=True)
class Evaluated:
    """A labelled folder evaluated once for the session, with its landmark cache (a rerun of
    `formcheck eval FOLDER --cache CACHE` reads the poses from there, without the model)."""

    folder: Path
    cache: Path
    result: EvalResult
    seed: int | None = None  # the generated set's first seed (None: not generated)

    def replay(self) -> str:
        """How to get this set again, for a failure message."""
        if self.seed is None:
            return f"(clips in {self.folder})"
        return f"(set: {CLIPS} clips from seed {self.seed} on; replay: {SEED_ENV}={self.seed})"


def summary(evaluated: Evaluated) -> str:
    """The set's overall figures in a few lines (for the run's log)."""
    m = evaluated.result.overall

    def f(x: float | None, fmt: str) -> str:
        return "-" if x is None else format(x, fmt)

    faults = ", ".join(f"{s.code} {f(s.precision, '.2f')}/{f(s.recall, '.2f')}" for s in m.faults)
    return (
        f"{evaluated.replay()}: {m.clips} clips, {m.labelled_reps} reps; count exact "
        f"{f(m.count_exact_rate, '.0%')}, boundary MAE {f(m.boundary_mae_s, '.3f')} s, "
        f"top hip angle MAE {f(m.hip_angle_mae_deg, '.2f')} deg, pause MAE "
        f"{f(m.pause_mae_s, '.3f')} s, lowering MAE {f(m.eccentric_mae_s, '.3f')} s, band "
        f"placement {f(m.band_accuracy, '.1%')}\nfault precision/recall: {faults}"
    )


def pick_seed() -> int:
    """The first seed of this run's set: `FORMCHECK_EVAL_SEED` when set, else a random one."""
    given = os.environ.get(SEED_ENV)
    if given:
        return int(given)
    return random.SystemRandom().randrange(*SEED_RANGE)


def kinds(seed: int) -> set[tuple[str, str]]:
    """The clip's kinds in `QUOTAS`' terms: where its feet are (by the faults its label will
    carry), where its band is."""
    from formcheck.synth import random_clip_spec
    from formcheck.synth.labels import spec_faults

    spec = random_clip_spec(seed, n_reps=REPS)
    faults = {code for codes in spec_faults(spec) for code in codes}
    feet = "close" if "feet_too_close" in faults else "far" if "feet_too_far" in faults else "good"
    return {("feet", feet), ("band", spec.band)}


def choose_seeds(first: int) -> list[int]:
    """`CLIPS` seeds from `first` on, in order, skipping a seed only when the slots left are
    needed for the kinds whose quota is not met yet."""
    need = dict(QUOTAS)
    chosen: list[int] = []
    seed = first
    while len(chosen) < CLIPS:
        if seed - first > MAX_SEEDS_LOOKED_AT:  # the generator no longer draws a kind
            raise RuntimeError(
                f"no set of {CLIPS} clips from seed {first} meets the quotas "
                f"within {MAX_SEEDS_LOOKED_AT} seeds; still missing: {need}"
            )
        found = kinds(seed)
        fills = any(need.get(k, 0) > 0 for k in found)
        if fills or CLIPS - len(chosen) > sum(need.values()):
            chosen.append(seed)
            for k in found:
                if need.get(k, 0) > 0:
                    need[k] -= 1
        seed += 1
    return chosen


def _label(folder: Path, seed: int) -> Path:
    """A clip's label; it is written after its video (atomically): its presence means done."""
    return folder / f"synth_{seed:05d}.json"


def _wait_for_label(folder: Path, seed: int, deadline: float) -> Path:
    label = _label(folder, seed)
    while not label.is_file():
        if time.monotonic() > deadline:
            raise TimeoutError(f"seed {seed} not rendered after {BACKGROUND_TIMEOUT_S:.0f} s")
        time.sleep(0.2)
    return label


@dataclass
class Background:
    """Niced processes that measure clips into `cache` (and render them first, for the
    generated set) while the other tests run; `folder` and all in it go with `stop`.

    The generated set (`start`): `RENDER_PROCESSES` renderers, and one measurer that runs the
    pose model (its own instance) over each clip as soon as it is rendered. The team's real
    clips (`start_real`): one measurer."""

    what: str  # for messages: "the generated set", "the real clips"
    folder: Path
    procs: list[subprocess.Popen[bytes]]
    logs: list[Path]
    seed: int | None = None  # the generated set's first seed (None: the real clips)

    @property
    def cache(self) -> Path:
        """Where the measurer keeps the landmarks (as `formcheck eval --cache` does)."""
        return self.folder / LANDMARKS

    def wait(self) -> None:
        """Block until every clip is rendered and measured; fail with the processes' logs
        when one of them failed."""
        deadline = time.monotonic() + BACKGROUND_TIMEOUT_S
        for p in self.procs:
            try:
                code = p.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise TimeoutError(
                    f"{self.what} took over {BACKGROUND_TIMEOUT_S:.0f} s: " + self.log_tail()
                ) from None
            if code != 0:
                raise RuntimeError(
                    f"a background process of {self.what} exited {code}: " + self.log_tail()
                )

    def log_tail(self) -> str:
        return " | ".join(p.read_text(errors="replace")[-1500:] for p in self.logs if p.exists())

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def niced() -> None:  # pragma: no cover - runs in the child
    """The lowest CPU priority, for a background process (`preexec_fn`)."""
    os.nice(19)


def _spawn(folder: Path, jobs: list[list[str]]) -> tuple[list[subprocess.Popen[bytes]], list[Path]]:
    """This file run niced as each of `jobs`, each with its log in `folder`."""
    procs, logs = [], []
    for k, job in enumerate(jobs):
        log = folder / f".{job[0]}-{k}.log"
        logs.append(log)
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, *job],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    preexec_fn=niced,
                )
            )
    return procs, logs


def start(seed: int) -> Background:
    """Start rendering and measuring the set from `seed` in the background."""
    folder = Path(tempfile.mkdtemp(prefix="formcheck-generated-"))
    seeds = choose_seeds(seed)
    jobs = [
        ["render", str(folder), *map(str, seeds[k::RENDER_PROCESSES])]
        for k in range(RENDER_PROCESSES)
    ]
    jobs.append(["measure", str(folder), str(folder / LANDMARKS), *map(str, seeds)])
    procs, logs = _spawn(folder, jobs)
    return Background("the generated set", folder, procs, logs, seed)


def start_real() -> Background:
    """Start measuring the team's real clips (`REAL_DIR`) in the background."""
    folder = Path(tempfile.mkdtemp(prefix="formcheck-real-"))
    procs, logs = _spawn(folder, [["real", str(folder / LANDMARKS)]])
    return Background("the real clips", folder, procs, logs)


def render(folder: Path, seeds: list[int]) -> None:
    """Render each seed's clip of `REPS` reps and its label into `folder` (as `formcheck
    synth --count --reps` does, one seed after another)."""
    from formcheck.synth import random_clip_spec, render_clip

    for seed in seeds:
        render_clip(random_clip_spec(seed, n_reps=REPS), _label(folder, seed).with_suffix(".mp4"))


def measure(folder: Path, cache: Path, seeds: list[int]) -> None:
    """Run the pose model over each seed's clip once it is rendered; landmarks into `cache`
    (as `formcheck eval FOLDER --cache CACHE` keeps them)."""
    from formcheck.config import Config
    from formcheck.evaluate import evaluate_clip
    from formcheck.measure import open_estimator

    cfg = Config()
    cache.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + BACKGROUND_TIMEOUT_S
    with open_estimator(cfg) as estimator:
        for seed in seeds:
            label = _wait_for_label(folder, seed, deadline)
            row = evaluate_clip(
                label, label.with_suffix(".mp4"), cfg, cache_dir=cache, estimator=estimator
            )
            if row.error:
                raise RuntimeError(f"seed {seed}: {row.error}")


def measure_real(cache: Path) -> None:
    """Run the pose model over the team's real clips; landmarks into `cache` (as `formcheck
    eval REAL_DIR --cache CACHE` keeps them). A clip that fails is left out of the cache: the
    evaluation that reads it meets the failure again, and reports it."""
    from formcheck.config import Config
    from formcheck.evaluate import evaluate_dir

    evaluate_dir(REAL_DIR, Config(), cache_dir=cache)


if __name__ == "__main__":  # render FOLDER SEED... | measure FOLDER CACHE SEED... | real CACHE
    if sys.argv[1] == "render":
        render(Path(sys.argv[2]), [int(a) for a in sys.argv[3:]])
    elif sys.argv[1] == "real":
        measure_real(Path(sys.argv[2]))
    else:
        measure(Path(sys.argv[2]), Path(sys.argv[3]), [int(a) for a in sys.argv[4:]])
