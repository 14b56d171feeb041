"""End to end on the team's real clips (../shared/real_videos), through the real model.

The clips have no redistribution rights: they are never copied into the repository, and
these tests skip when the folder is absent (as it is on a user's machine).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from formcheck.config import Config
from formcheck.evaluate import Gates, check_gates, evaluate_dir

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "real_videos"

pytestmark = [
    pytest.mark.real,
    pytest.mark.e2e,
    pytest.mark.skipif(not REAL_DIR.is_dir(), reason=f"{REAL_DIR} not available"),
]


def test_rep_count_matches_the_labels_on_real_clips(
    estimator: PoseEstimator, tmp_path: Path
) -> None:
    """Issue 2: the rep count matches the label on at least 80% of the usable clips."""
    result = evaluate_dir(REAL_DIR, Config(), cache_dir=tmp_path, estimator=estimator)
    assert result.overall.clips >= 5, "the usable real clips were not all evaluated"
    failures = check_gates(result, Gates(min_count_exact=0.8, max_boundary_mae_s=0.25))
    assert not failures, failures
    misses = [c.name for c in result.clips if c.error]
    assert not misses, f"clips that failed to analyse: {misses}"
