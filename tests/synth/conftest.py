"""Fixtures for the synthetic-clip tests (the shared `estimator` is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from formcheck.pose.landmarker import PoseEstimator
from formcheck.pose.landmarks import PoseFrame
from formcheck.synth.render import RenderedFrame
from formcheck.video.frames import Frame

DetectClip = Callable[[Iterable[RenderedFrame]], list[tuple[RenderedFrame, PoseFrame]]]


@pytest.fixture
def detect_clip(estimator: PoseEstimator) -> DetectClip:
    """A function running the pose model over one clip's frames in VIDEO mode.

    Each clip gets its own estimator (about 0.2 s to build; same bundle as `estimator`):
    VIDEO mode smooths landmarks *and visibilities* over time, and that state survives a
    frame without a person, so clips run through one shared estimator leak into each
    other (the first second of a clip inherits the previous clip's visibilities).
    """

    def run(frames: Iterable[RenderedFrame]) -> list[tuple[RenderedFrame, PoseFrame]]:
        out: list[tuple[RenderedFrame, PoseFrame]] = []
        with PoseEstimator(model=estimator.bundle.path, mode="video") as est:
            for rf in frames:
                out.append((rf, est.detect(Frame(rf.image_bgr, rf.t_s, rf.index))))
        return out

    return run
