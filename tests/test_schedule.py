"""How a clip is cut between two pose models (`formcheck.schedule.plan_parts`), and
measured by both at once (`measure._measure_parts`, with stand-in models)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from formcheck.config import Config
from formcheck.measure import _measure_parts, _PartSeen
from formcheck.pose.landmarks import PoseFrame
from formcheck.schedule import MIN_PART, WARM_UP, Part, plan_parts
from formcheck.video import FileSource, Frame

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"


def _kept(parts: list[Part], frame_count: int, stride: int) -> list[int]:
    """The grid frames each part keeps, joined in part order."""
    out: list[int] = []
    for p in parts:
        stop = frame_count if p.stop is None else p.stop
        out += [i for i in range(max(p.start, p.keep_from), stop) if i % stride == 0]
    return out


@pytest.mark.parametrize("stride", [1, 2, 4])
@pytest.mark.parametrize("keys", [[0], [0, 250], list(range(0, 900, 30))])
def test_two_parts_keep_every_grid_frame_once_after_a_warm_up(stride: int, keys: list[int]) -> None:
    n = 900
    parts = plan_parts(n, stride, keys, 0.9, models=2)
    assert len(parts) == 2
    first, second = parts
    assert first.start == 0 and first.keep_from == 0 and second.stop is None
    # The second model starts WARM_UP grid frames before the first one stops.
    assert second.keep_from == first.stop and first.stop - second.start == WARM_UP * stride
    assert _kept(parts, n, stride) == list(range(0, n, stride))
    for p in parts:
        stop = n if p.stop is None else p.stop
        assert (stop - max(p.start, p.keep_from)) // stride >= MIN_PART


def test_with_a_key_frame_every_second_the_cut_is_near_the_middle() -> None:
    parts = plan_parts(900, 2, list(range(0, 900, 30)), 0.9, models=2)
    assert abs((parts[0].stop or 0) - 450) <= 30


def test_with_one_key_frame_the_cut_lies_past_the_middle() -> None:
    """The second decoder reads the clip from its start up to its part: the first part
    takes more frames, more so for a bigger picture (dearer to decode)."""
    small = plan_parts(900, 2, [0], 0.2, models=2)[0].stop or 0
    big = plan_parts(900, 2, [0], 2.1, models=2)[0].stop or 0
    assert 450 < small < big < 900


@pytest.mark.parametrize(
    ("frame_count", "keys", "megapixels", "models"),
    [
        (900, [0], 0.9, 1),  # one model
        (2 * (2 * MIN_PART + WARM_UP) - 2, [0], 0.9, 2),  # too short for two parts
        (900, [], 0.9, 2),  # no key frame index: the clip cannot be read from a seek
        (900, [0], 8.3, 2),  # 4K, one key frame: decoding it twice costs what it saves
    ],
)
def test_one_part_where_two_would_not_pay(
    frame_count: int, keys: list[int], megapixels: float, models: int
) -> None:
    assert plan_parts(frame_count, 2, keys, megapixels, models) == [Part(0, None, 0)]


class _StandIn:
    """A stand-in VIDEO-mode model: no pose, records what it saw and on which thread, and
    refuses time going backwards; `twin()` gives its second."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.threads: set[str] = set()
        self._twin: _StandIn | None = None
        self.bundle = None

    def start_clip(self) -> None:
        self.seen.clear()

    def twin(self) -> _StandIn:
        self._twin = self._twin or _StandIn()
        return self._twin

    def detect(self, frame: Frame, count_people: bool = True) -> PoseFrame:
        assert not self.seen or frame.index > self.seen[-1], "timestamps must increase"
        self.seen.append(frame.index)
        self.threads.add(threading.current_thread().name)
        return PoseFrame.missing(frame.t_s, frame.index, frame.resolution_wh)


def _measured(models: int) -> tuple[_StandIn, _PartSeen]:
    path = SAMPLES / "short_pause_left.mp4"
    source = FileSource(path, max_fps=15)
    cfg = Config().with_overrides({"pose.models": models})
    info = source.info
    megapixels = info.width * info.height / 1e6
    parts = plan_parts(info.frame_count, source.stride, source.key_frames(), megapixels, models)
    est = _StandIn()
    seen = _measure_parts(source, parts, cfg, est, lambda: None)  # type: ignore[arg-type]
    return est, seen


def test_two_models_measure_the_clip_at_once_as_one_would() -> None:
    """With two models, each sees its part in time order on its own thread, the second
    starting `WARM_UP` grid frames early; the poses, picture changes and split-screen
    samples joined are those of one model's pass over the whole clip."""
    _, whole = _measured(1)
    two, parts = _measured(2)
    grid = [p.index for p in whole.poses]
    assert [p.index for p in parts.poses] == grid
    first, second = two.seen, two.twin().seen
    assert first == grid[: len(first)] and second == grid[len(first) - WARM_UP :]
    assert not two.threads & two.twin().threads  # each model on a thread of its own
    assert parts.model_frames == len(grid) + WARM_UP
    assert parts.shots.t_s == whole.shots.t_s and parts.shots.change == whole.shots.change
    assert parts.panels is not None and whole.panels is not None
    assert parts.panels.kept_samples() == whole.panels.kept_samples()


@pytest.mark.parametrize(
    ("workers", "cores", "models"), [(1, 2, 2), (2, 2, 1), (1, 1, 1), (2, 4, 2), (3, 4, 1)]
)
def test_workers_that_fill_the_cores_run_one_model_each(
    workers: int, cores: int, models: int
) -> None:
    from formcheck.measure import for_workers

    assert for_workers(Config(), workers, cores).pose.models == models
