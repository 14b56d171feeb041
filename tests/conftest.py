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
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from formcheck.pose.bundle import default_model_path

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator


@pytest.fixture(scope="session")
def estimator() -> Iterator[PoseEstimator]:
    """The one shared MediaPipe PoseLandmarker (VIDEO mode) of the test session."""
    if not default_model_path().is_file():
        pytest.skip(f"pose model not found: {default_model_path()}")
    from formcheck.pose.landmarker import PoseEstimator

    with PoseEstimator(mode="video") as est:
        yield est
